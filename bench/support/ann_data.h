// The data of the vector-search benches: the TEXMEX formats (fvecs / ivecs,
// http://corpus-texmex.irisa.fr/), a synthetic clustered set, exact nearest
// neighbours by brute force, and recall.
//
// fvecs / ivecs: one record per vector, a little-endian int32 d followed by
// d float32 (fvecs) or int32 (ivecs) values; every record of a file has the
// same d.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tidal/status.h"

namespace tidal::bench {

// n vectors of `dim` floats, row-major.
struct VectorSet {
  size_t dim = 0;
  size_t count = 0;
  std::vector<float> values;  // count * dim

  const float* row(size_t i) const { return values.data() + i * dim; }
};

// Nearest-neighbour ids per query, best first: k per query, row-major.
struct Neighbors {
  size_t k = 0;
  std::vector<uint32_t> ids;  // queries * k

  const uint32_t* row(size_t q) const { return ids.data() + q * k; }
  size_t queries() const { return k == 0 ? 0 : ids.size() / k; }
};

// Reads a whole .fvecs / .ivecs file. kNotFound for a missing file,
// InvalidArgument naming the file and record for a bad dimension, a record
// whose dimension differs from the first's, or a truncated record.
Result<VectorSet> load_fvecs(const std::string& path);
Result<Neighbors> load_ivecs(const std::string& path);

// `count` vectors of `dim` floats from a Gaussian mixture, deterministic in
// `seed`: `centers` centers drawn from N(0, 10²) per coordinate; a vector is
// a center chosen uniformly plus noise whose standard deviation falls along
// the coordinates (4 / (1 + j / 8) for coordinate j), so that most of a
// cluster's spread lies in a few directions, as in real embeddings, rather
// than evenly in all `dim` (isotropic noise in 128 dimensions makes every
// point almost equidistant and no graph index useful). The same `seed` and
// `centers` with a different `stream` draws other vectors from the same
// distribution (queries that are not in the base set).
VectorSet clustered_vectors(size_t count, size_t dim, size_t centers, uint64_t seed,
                            uint64_t stream);

// The exact `k` nearest base vectors (squared L2) of every query, best first
// (ties by the smaller id), among the base vectors `eligible` accepts (every
// one when it is empty). Spread over `threads` threads by query.
Neighbors exact_neighbors(const VectorSet& base, const VectorSet& queries, size_t k,
                          const std::function<bool(uint32_t id)>& eligible = {}, int threads = 1);

// Mean over the queries of |found[q][:k] ∩ truth[q][:k]| / min(k, |truth[q]|).
// `found` holds each query's answer ids (at most k are read; an id of -1 is a
// miss).
double recall_at(const Neighbors& truth, const std::vector<std::vector<int64_t>>& found, size_t k);

// Takes "--data=<folder>" out of `args` and returns it, or the shared data
// folder's ann/siftsmall when none is given.
std::string take_ann_data_flag(std::vector<std::string>* args);

}  // namespace tidal::bench
