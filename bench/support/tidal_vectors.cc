#include "support/tidal_vectors.h"

#include <algorithm>
#include <charconv>

#include "support/bench_report.h"

namespace tidal::bench {
namespace {

Result<Schema> vector_schema(size_t dim) {
  SchemaBuilder builder;
  builder.add_attribute(EntityKind::kItem, AttributeSpec{.name = kVectorAttribute,
                                                         .type = AttributeType::kVector,
                                                         .vector_dim = static_cast<uint32_t>(dim),
                                                         .metric = VectorMetric::kL2});
  builder.add_attribute(
      EntityKind::kItem,
      AttributeSpec{.name = "bucket", .type = AttributeType::kInt, .filterable = true});
  return builder.build();
}

// "[v0,v1,...]", each value the shortest text that reads back as the same
// float.
void append_vector(std::string* out, const float* v, size_t dim) {
  char buf[32];
  *out += '[';
  for (size_t i = 0; i < dim; ++i) {
    if (i > 0) *out += ',';
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v[i]);
    out->append(buf, end);
  }
  *out += ']';
}

}  // namespace

Result<std::unique_ptr<Database>> open_vector_database(const std::string& folder, size_t dim) {
  TIDAL_ASSIGN_OR_RETURN(Schema schema, vector_schema(dim));
  DatabaseOptions options;
  options.background_checkpoints = false;
  return Database::open(folder, schema, options);
}

Result<double> upsert_vectors(Database& db, const VectorSet& set, size_t batch) {
  double seconds = 0;
  std::vector<EntityWrite> writes;
  for (size_t begin = 0; begin < set.count; begin += batch) {
    const size_t end = std::min(set.count, begin + batch);
    writes.clear();
    for (size_t i = begin; i < end; ++i) {
      writes.push_back(EntityWrite{
          .kind = EntityKind::kItem,
          .key = std::to_string(i),
          .attributes = {
              Attribute(kVectorAttribute, std::vector<float>(set.row(i), set.row(i) + set.dim)),
              Attribute("bucket", static_cast<int64_t>(i) % kBuckets)}});
    }
    const double start = now_seconds();
    BatchIngestResult r = db.upsert(writes, BatchMode::kApplyValid);
    seconds += now_seconds() - start;
    if (r.rejected == 0) continue;
    for (size_t i = 0; i < r.errors.size(); ++i) {
      if (!r.errors[i].ok()) return r.errors[i].with_context("upsert of vector " + writes[i].key);
    }
    return Status::Internal(Subsystem::kCore, "upsert rejected vectors without an error");
  }
  return seconds;
}

std::string nearest_tql(const NearestQuery& q) {
  std::string tql = "NEAREST items TO VECTOR ";
  append_vector(&tql, q.vector, q.dim);
  tql += " USING ";
  tql += kVectorAttribute;
  if (q.ef > 0) tql += " EF " + std::to_string(q.ef);
  if (q.bucket_below > 0) tql += " WHERE bucket < " + std::to_string(q.bucket_below);
  return tql + " LIMIT " + std::to_string(q.limit);
}

std::string nearest_json(const NearestQuery& q) {
  std::string json = R"({"statement":"nearest","target":"items","vector":)";
  append_vector(&json, q.vector, q.dim);
  json += R"(,"using":")" + std::string(kVectorAttribute) + '"';
  if (q.ef > 0) json += R"(,"ef":)" + std::to_string(q.ef);
  if (q.bucket_below > 0) {
    json += R"(,"where":{"op":"<","args":[{"ident":"bucket"},{"number":)" +
            std::to_string(q.bucket_below) + "}]}";
  }
  return json + R"(,"limit":)" + std::to_string(q.limit) + '}';
}

namespace {

void ids_of(const QueryResult& result, std::vector<int64_t>* ids) {
  ids->clear();
  for (const QueryRow& row : result.rows) {
    int64_t id = -1;
    const char* end = row.key.data() + row.key.size();
    if (std::from_chars(row.key.data(), end, id).ptr != end) id = -1;
    ids->push_back(id);
  }
}

}  // namespace

Status run_nearest(Database& db, const std::string& query, bool json, std::vector<int64_t>* ids) {
  TIDAL_ASSIGN_OR_RETURN(QueryResult result, json ? db.query_json(query) : db.query(query));
  ids_of(result, ids);
  return Status::Ok();
}

Status run_prepared(Database& db, const PreparedStatement& statement, std::span<const float> vector,
                    std::vector<int64_t>* ids) {
  QueryParameters parameters;
  parameters.vector = vector;
  TIDAL_ASSIGN_OR_RETURN(QueryResult result, db.execute(statement, parameters));
  ids_of(result, ids);
  return Status::Ok();
}

}  // namespace tidal::bench
