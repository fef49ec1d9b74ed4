#include "support/raw_hnsw.h"

// hnswlib with its globals renamed, beside the library's own copy.
#define TIDAL_HNSWLIB_PREFIX tidal_bench_
#include <stdexcept>

#include "support/bench_report.h"
#include "vectors/hnswlib_include.h"

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
