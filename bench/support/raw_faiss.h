// FAISS's HNSW (IndexHNSWFlat, Debian's libfaiss-dev) used directly, with
// the parameters of raw_hnsw.h: the other library ann_eval measures, so that
// the choice between the two (docs/vectors.md) is reproducible. Squared L2;
// one thread (OpenMP limited to 1 while building).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "support/ann_data.h"

namespace tidal::bench {

class RawFaissIndex {
 public:
  RawFaissIndex(size_t dim);
  ~RawFaissIndex();
  RawFaissIndex(const RawFaissIndex&) = delete;
  RawFaissIndex& operator=(const RawFaissIndex&) = delete;

  // Adds every vector of `set` (ids 0..count-1) on one thread. Returns the
  // seconds it took.
  double add_all(const VectorSet& set);

  // The ids of the k nearest to `query`, best first, at breadth `ef`;
  // with `allowed` (one byte per 8 ids, bit i % 8 of byte i / 8), only
  // those ids, through FAISS's IDSelectorBitmap inside the search.
  void search(const float* query, size_t k, size_t ef, const std::vector<uint8_t>* allowed,
              std::vector<int64_t>* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal::bench
