#include "support/tidal_search.h"

#include <algorithm>
#include <chrono>

namespace tidal::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TextOptions beir_text_options(const std::string& stemmer) {
  return TextOptions{.stemmer = stemmer, .stop_words = "english", .k1 = 0.9, .b = 0.4};
}

Result<Schema> text_schema(TextLayout layout, const TextOptions& options) {
  SchemaBuilder builder;
  auto text = [&](const char* name) {
    builder.add_attribute(
        EntityKind::kItem,
        AttributeSpec{.name = name, .type = AttributeType::kText, .text = options});
  };
  if (layout == TextLayout::kFlat) {
    text("contents");
  } else {
    text("title");
    text("text");
  }
  return builder.build();
}

Result<std::unique_ptr<Database>> open_text_database(const std::string& folder, TextLayout layout,
                                                     const TextOptions& options) {
  TIDAL_ASSIGN_OR_RETURN(Schema schema, text_schema(layout, options));
  DatabaseOptions db_options;
  db_options.background_checkpoints = false;
  return Database::open(folder, schema, db_options);
}

EntityWrite text_write(const BeirDocument& doc, TextLayout layout) {
  EntityWrite write{.kind = EntityKind::kItem, .key = doc.id};
  if (layout == TextLayout::kFlat) {
    write.attributes.emplace_back("contents", AttributeValue(flat_contents(doc)));
  } else {
    write.attributes.emplace_back("title", AttributeValue(doc.title));
    write.attributes.emplace_back("text", AttributeValue(doc.text));
  }
  return write;
}

Result<double> upsert_documents(Database& db, TextLayout layout, size_t count,
                                const DocumentSource& source, size_t batch) {
  double seconds = 0;
  std::vector<EntityWrite> writes;
  BeirDocument doc;
  for (size_t begin = 0; begin < count; begin += batch) {
    size_t end = std::min(count, begin + batch);
    writes.clear();
    for (size_t i = begin; i < end; ++i) {
      source(i, &doc);
      writes.push_back(text_write(doc, layout));
    }
    auto start = std::chrono::steady_clock::now();
    BatchIngestResult r = db.upsert(writes, BatchMode::kApplyValid);
    seconds += seconds_since(start);
    if (r.rejected > 0) {
      for (size_t i = 0; i < r.errors.size(); ++i) {
        if (!r.errors[i].ok()) {
          return r.errors[i].with_context("upsert of document " + writes[i].key);
        }
      }
      return Status::Internal(Subsystem::kCore, "upsert rejected documents without an error");
    }
  }
  return seconds;
}

std::string search_tql(std::string_view query, size_t limit, std::string_view fields) {
  std::string tql = "SEARCH items QUERY " + tql_string(bag_of_words(query));
  if (!fields.empty()) tql += " IN (" + std::string(fields) + ")";
  return tql + " LIMIT " + std::to_string(limit);
}

Result<std::vector<ScoredDoc>> run_search(Database& db, const std::string& tql) {
  TIDAL_ASSIGN_OR_RETURN(QueryResult result, db.query(tql, QueryOptions{}));
  std::vector<ScoredDoc> ranking;
  ranking.reserve(result.rows.size());
  for (QueryRow& row : result.rows) ranking.push_back({std::move(row.key), row.score});
  return ranking;
}

Result<std::map<std::string, std::vector<ScoredDoc>>> search_all(
    Database& db, const std::vector<BeirQuery>& queries, size_t limit, std::string_view fields,
    double* seconds) {
  std::map<std::string, std::vector<ScoredDoc>> runs;
  double spent = 0;
  for (const BeirQuery& q : queries) {
    std::string tql = search_tql(q.text, limit, fields);
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<ScoredDoc>> ranking = run_search(db, tql);
    spent += seconds_since(start);
    if (!ranking.ok()) return ranking.status().with_context("query " + q.id + ": " + tql);
    runs[q.id] = std::move(*ranking);
  }
  if (seconds != nullptr) *seconds = spent;
  return runs;
}

}  // namespace tidal::bench
