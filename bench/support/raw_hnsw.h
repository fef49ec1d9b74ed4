// hnswlib (Debian libhnswlib-dev 0.6.2) used directly, without tidalDB: the
// reference the vector benches hold tidalDB's query path against. Built the
// way tidalDB builds its indexes (M 16, ef_construction 200), over squared
// L2 distance, ids 0..n-1 as labels.
//
// Only raw_hnsw.cc includes hnswlib: its header defines non-inline functions
// (cpuid, xgetbv, ...) that may exist once per program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "support/ann_data.h"

namespace tidal::bench {

class RawHnswIndex {
 public:
  static constexpr size_t kM = 16;
  static constexpr size_t kEfConstruction = 200;

  // An empty index for up to `capacity` vectors of `dim` floats.
  RawHnswIndex(size_t dim, size_t capacity);
  ~RawHnswIndex();
  RawHnswIndex(const RawHnswIndex&) = delete;
  RawHnswIndex& operator=(const RawHnswIndex&) = delete;

  // Inserts every vector of `set` (dim must match), id i as label i, in
  // order 0..count-1 on the calling thread. Returns the seconds it took.
  double add_all(const VectorSet& set);

  // The search breadth (efSearch) of the next searches.
  void set_ef(size_t ef);
  // The labels of the k nearest to `query`, best first.
  void search(const float* query, size_t k, std::vector<int64_t>* out) const;

  // The memory hnswlib allocated for the graph and the vectors.
  size_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal::bench
