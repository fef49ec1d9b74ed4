#include "support/raw_hnsw.h"

// hnswlib's headers define these functions and function pointers without
// `inline` or `static`; the library's vector index includes hnswlib too, so
// this file's copies are renamed to keep one definition of each per program.
#define cpuid tidal_bench_hnswlib_cpuid
#define xgetbv tidal_bench_hnswlib_xgetbv
#define AVXCapable tidal_bench_hnswlib_avx_capable
#define AVX512Capable tidal_bench_hnswlib_avx512_capable
#define L2SqrSIMD16Ext tidal_bench_hnswlib_l2_simd16
#define InnerProductSIMD16Ext tidal_bench_hnswlib_ip_simd16
#define InnerProductSIMD4Ext tidal_bench_hnswlib_ip_simd4
#define InnerProductDistanceSIMD16Ext tidal_bench_hnswlib_ip_distance_simd16
#define InnerProductDistanceSIMD4Ext tidal_bench_hnswlib_ip_distance_simd4
#include <hnswlib/hnswlib.h>
#undef cpuid
#undef xgetbv
#undef AVXCapable
#undef AVX512Capable
#undef L2SqrSIMD16Ext
#undef InnerProductSIMD16Ext
#undef InnerProductSIMD4Ext
#undef InnerProductDistanceSIMD16Ext
#undef InnerProductDistanceSIMD4Ext

#include <stdexcept>

#include "support/bench_report.h"

namespace tidal::bench {

struct RawHnswIndex::Impl {
  Impl(size_t d, size_t capacity)
      : dim(d), space(d), index(&space, capacity, kM, kEfConstruction) {}
  size_t dim;
  hnswlib::L2Space space;
  hnswlib::HierarchicalNSW<float> index;
};

RawHnswIndex::RawHnswIndex(size_t dim, size_t capacity)
    : impl_(std::make_unique<Impl>(dim, capacity)) {}

RawHnswIndex::~RawHnswIndex() = default;

double RawHnswIndex::add_all(const VectorSet& set) {
  if (set.dim != impl_->dim) throw std::invalid_argument("RawHnswIndex: dimension mismatch");
  const double start = now_seconds();
  for (size_t i = 0; i < set.count; ++i) impl_->index.addPoint(set.row(i), i);
  return now_seconds() - start;
}

void RawHnswIndex::set_ef(size_t ef) {
  impl_->index.setEf(ef);
}

void RawHnswIndex::search(const float* query, size_t k, std::vector<int64_t>* out) const {
  auto best = impl_->index.searchKnn(query, k);  // a max-heap: the worst on top
  out->resize(best.size());
  for (size_t i = best.size(); i-- > 0; best.pop())
    out->at(i) = static_cast<int64_t>(best.top().second);
}

size_t RawHnswIndex::bytes() const {
  const auto& h = impl_->index;
  size_t total = h.max_elements_ * (h.size_data_per_element_ + sizeof(void*) + sizeof(int));
  for (size_t i = 0; i < h.cur_element_count; ++i) {
    if (h.element_levels_[i] > 0) {
      total += h.size_links_per_element_ * static_cast<size_t>(h.element_levels_[i]);
    }
  }
  return total;
}

}  // namespace tidal::bench
