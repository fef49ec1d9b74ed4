#include "support/raw_faiss.h"

#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>
#include <omp.h>

#include <stdexcept>

#include "support/bench_report.h"
#include "support/raw_hnsw.h"

namespace tidal::bench {

struct RawFaissIndex::Impl {
  explicit Impl(size_t d) : index(static_cast<int>(d), static_cast<int>(RawHnswIndex::kM)) {
    index.hnsw.efConstruction = static_cast<int>(RawHnswIndex::kEfConstruction);
  }
  faiss::IndexHNSWFlat index;
};

RawFaissIndex::RawFaissIndex(size_t dim) : impl_(std::make_unique<Impl>(dim)) {}

RawFaissIndex::~RawFaissIndex() = default;

double RawFaissIndex::add_all(const VectorSet& set) {
  if (set.dim != static_cast<size_t>(impl_->index.d)) {
    throw std::invalid_argument("RawFaissIndex: dimension mismatch");
  }
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const double start = now_seconds();
  impl_->index.add(static_cast<faiss::Index::idx_t>(set.count), set.values.data());
  const double seconds = now_seconds() - start;
  omp_set_num_threads(threads);
  return seconds;
}

void RawFaissIndex::search(const float* query, size_t k, size_t ef,
                           const std::vector<uint8_t>* allowed, std::vector<int64_t>* out) const {
  // IndexHNSW::search reads efSearch from the index, not from the
  // parameters (FAISS 1.7.3); the selector does come from the parameters.
  auto& index = const_cast<faiss::IndexHNSWFlat&>(impl_->index);
  index.hnsw.efSearch = static_cast<int>(ef);
  faiss::SearchParametersHNSW params;
  params.efSearch = static_cast<int>(ef);
  std::unique_ptr<faiss::IDSelectorBitmap> selector;
  if (allowed) {
    selector = std::make_unique<faiss::IDSelectorBitmap>(allowed->size() * 8, allowed->data());
    params.sel = selector.get();
  }
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  index.search(1, query, static_cast<faiss::Index::idx_t>(k), distances.data(), labels.data(),
               &params);
  out->clear();
  for (faiss::Index::idx_t id : labels) out->push_back(id);
}

}  // namespace tidal::bench
