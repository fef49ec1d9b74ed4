// The query engine: plans and runs a read statement (docs/tql.md, "How a
// query runs").
//
// A query is a pipeline:
//
//   source -> filter -> score -> select -> diversify -> page
//
// - source: where candidates come from. A trending index (hot, window
//   count, rising) when the sort is exactly what one of them orders by; the
//   attribute filter's bitmap; explicit keys (WHERE key IN (...)); or every
//   entity of the kind; the text index (SEARCH: block-max WAND for the top
//   by relevance, or every match when another sort ranks them); the vector
//   index (SIMILAR, NEAREST: the nearest by similarity, exactly or by HNSW
//   as its planner chooses; with QUERY, the text and vector lists fused by
//   reciprocal rank). Cohort (FOR COHORT) and user (FEED) sources are not
//   built yet; the parser accepts them and the engine answers kNotSupported.
// - filter: the WHERE predicate as an attribute-index bitmap (query/filter.h).
// - score: the sort mode, profile or expression compiled once
//   (ranking/profile.h) and evaluated over batches of candidates, with the
//   features fetched column by column from the ledger and the entity store.
// - select: the best limit + 1 candidates after the cursor by (score, then
//   first-seen order).
// - diversify: at most N results per value of an attribute.
// - page: the limit, and a cursor when more rows follow.
//
// The planner prefers a trending index and checks its answer is provably
// the exact top (see run_index_source); otherwise it scores every
// candidate. EXPLAIN reports every stage with its counts and time.
#pragma once

#include <array>
#include <cstdint>

#include "entities/entity_store.h"
#include "entities/key_map.h"
#include "query/ast.h"
#include "query/profile_catalog.h"
#include "signals/global_ledger.h"
#include "text/text_index.h"
#include "tidal/query.h"
#include "tidal/status.h"
#include "vectors/vector_index.h"

namespace tidal::query {

// What a query reads. The caller holds the database's state lock shared
// from planning to the last row.
struct QueryState {
  const Schema* schema = nullptr;
  const entities::EntityStore* entities = nullptr;
  signals::GlobalLedger* ledger = nullptr;
  std::array<const KeyMap*, 3> keys{};
  // Items that can be ranked: registered or known from signals, not deleted.
  const entities::Bitmap* known_items = nullptr;
  const ProfileCatalog* profiles = nullptr;
  const text::TextIndex* text = nullptr;          // SEARCH (and hybrid)
  const vectors::VectorIndex* vectors = nullptr;  // SIMILAR, NEAREST
  size_t trending_capacity = 0;                   // the capacity of the ledger's trending indexes
  // Scans of more candidates than this read windowed features from the
  // ledger's dense window columns (DatabaseOptions::query_column_threshold).
  uint64_t column_threshold = 4096;
  // Scans of at least this many candidates are split over scan_threads
  // threads (DatabaseOptions::query_scan_threads).
  uint64_t parallel_scan_threshold = 32768;
  size_t scan_threads = 1;
  int64_t now_us = 0;
};

// Plans and runs a read statement (TRENDING, RANK, SEARCH, SIMILAR, NEAREST,
// and EXPLAIN of them). Statements whose parts do not exist yet (FEED,
// cohorts, SEARCH ... WITHIN TRENDING) give NotSupported "not supported
// yet: ...".
Result<QueryResult> run_read(const Statement& s, const QueryState& state,
                             const QueryOptions& options);

// Checks a CREATE PROFILE statement: the name is free (not a sort mode,
// function, signal type or item attribute) and the expression compiles
// against the schema and the stored profiles.
Status check_profile_definition(const Statement& s, const QueryState& state);

// Checks QueryOptions (the field name and rule on error).
Status check_query_options(const QueryOptions& options);

}  // namespace tidal::query
