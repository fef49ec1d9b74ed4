// tidalDB as the vector benches use it: a database of items holding one
// vector attribute `emb` (squared L2) and a filterable int `bucket`, filled
// from a VectorSet (item key = the vector's id in decimal, bucket = id %
// 100, so `bucket < s` keeps s% of the items), and NEAREST queries written as
// TQL or as their JSON form (docs/tql.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "support/ann_data.h"
#include "tidal/database.h"

namespace tidal::bench {

inline constexpr const char* kVectorAttribute = "emb";
inline constexpr int64_t kBuckets = 100;

// Opens (or creates) the database in `folder` with the items schema above
// for `dim`-dimensional vectors; background checkpoints off, as in every
// bench.
Result<std::unique_ptr<Database>> open_vector_database(const std::string& folder, size_t dim);

// Upserts every vector of `set` in batches of `batch` (one WAL commit
// each). Returns the seconds spent inside the upsert calls (making the
// writes is not timed).
Result<double> upsert_vectors(Database& db, const VectorSet& set, size_t batch = 1000);

// One NEAREST query. ef 0: no EF clause (the engine's default breadth);
// bucket_below 0: no WHERE clause, else WHERE bucket < bucket_below.
struct NearestQuery {
  const float* vector = nullptr;
  size_t dim = 0;
  size_t ef = 0;
  int64_t bucket_below = 0;
  size_t limit = 10;
};

// NEAREST items TO VECTOR [...] USING emb [EF n] [WHERE bucket < b] LIMIT k.
// Values are written in the shortest form that reads back as the same float.
std::string nearest_tql(const NearestQuery& q);
// {"statement": "nearest", "target": "items", "vector": [...], "using": "emb",
//  "ef": n, "where": {...}, "limit": k}
std::string nearest_json(const NearestQuery& q);

// Runs a query made by nearest_tql (json false) or nearest_json (true);
// *ids gets the answer's item keys as ids, best first (-1 for a key that
// is not a decimal id).
Status run_nearest(Database& db, const std::string& query, bool json, std::vector<int64_t>* ids);
// The same through a prepared NEAREST statement with `vector` bound: no
// parsing per query.
Status run_prepared(Database& db, const PreparedStatement& statement, std::span<const float> vector,
                    std::vector<int64_t>* ids);

}  // namespace tidal::bench
