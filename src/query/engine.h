// The query engine: plans and runs a read statement (docs/tql.md, "How a
// query runs").
//
// A query is a pipeline:
//
//   source -> filter -> score -> select -> diversify -> page
//
// The parts, each in its own file:
// - the planner (planner.cc) resolves the statement, compiles the sort
//   (ranking/profile.h) and chooses the operators: the candidate sources
//   (explicit keys or every entity, the text index, the vector index, a
//   trending index), the attribute filter, and the scan that scores every
//   candidate — the interface and one file per operator are listed in
//   operator.h;
// - features.cc fetches the sort's features column by column for batches
//   of candidates, from the ledger and the entity store;
// - execution.cc runs the operators in order until one answers, then
//   diversifies (at most N per value of an attribute) and pages (the limit,
//   and a cursor — cursor.h — when more rows follow).
//
// The planner prefers a trending index and checks its answer is provably the
// exact top (source_trending.cc); otherwise the scan scores every candidate.
// EXPLAIN reports every operator with its rows in and out and its time.
// FEED FOR USER unions several candidate sources (source_feed.cc) and
// filters what the user has seen, blocked or muted before the scan scores
// the rest with the feed's profile.
#pragma once

#include <array>
#include <cstdint>

#include "cohorts/cohort_store.h"
#include "entities/entity_store.h"
#include "entities/key_map.h"
#include "entities/relationships.h"
#include "query/ast.h"
#include "query/profile_catalog.h"
#include "signals/ledger_set.h"
#include "text/text_index.h"
#include "tidal/query.h"
#include "tidal/status.h"
#include "users/user_state.h"
#include "vectors/vector_index.h"

namespace tidal::query {

// What a query reads. The caller holds the database's state lock shared
// from planning to the last row.
struct QueryState {
  const Schema* schema = nullptr;
  const entities::EntityStore* entities = nullptr;
  // The signal state features read: the global ledger, or a cohort's (FOR
  // COHORT).
  signals::LedgerSet* ledger = nullptr;
  // Every user's signal state, and the cohorts: what features that name
  // their scope read (count(like, 24h, cohort = young); docs/profiles.md).
  signals::LedgerSet* everyone = nullptr;
  const cohorts::CohortStore* cohorts = nullptr;
  std::array<const KeyMap*, 3> keys{};
  // Items that can be ranked: registered or known from signals, not deleted.
  const entities::Bitmap* known_items = nullptr;
  const ProfileCatalog* profiles = nullptr;
  const text::TextIndex* text = nullptr;          // SEARCH (and hybrid)
  const vectors::VectorIndex* vectors = nullptr;  // SIMILAR, NEAREST
  // FEED FOR USER: what the user did and follows (docs/feeds.md).
  const users::UserStateStore* users = nullptr;
  const entities::Relationships* relationships = nullptr;
  size_t trending_capacity = 0;  // the capacity of the ledger's trending indexes
  // Scans of more candidates than this read windowed features from the
  // ledger's dense window columns (DatabaseOptions::query_column_threshold).
  uint64_t column_threshold = 4096;
  // Scans of at least this many candidates are split over scan_threads
  // threads (DatabaseOptions::query_scan_threads).
  uint64_t parallel_scan_threshold = 32768;
  size_t scan_threads = 1;
  int64_t now_us = 0;
  // FEED: items served within this long are left out (record_served).
  int64_t served_suppress_us = 0;
};

// Plans and runs a read statement (TRENDING, RANK, SEARCH, SIMILAR, NEAREST,
// FEED, COUNT and EXPLAIN of them). Statements whose parts do not exist yet
// (SEARCH ... WITHIN TRENDING) give NotSupported "not supported yet: ...".
Result<QueryResult> run_read(const Statement& s, const QueryState& state,
                             const QueryOptions& options);

// Checks a CREATE PROFILE statement: the name is free (not a sort mode,
// function, signal type or item attribute) and the expression compiles
// against the schema and the stored profiles.
Status check_profile_definition(const Statement& s, const QueryState& state);

// The signal state a feature of scope `scope` reads (ranking::FeatureRef):
// the query's audience, everyone's, or a named cohort's. NotFound, against
// `field`, for a cohort that does not exist.
Result<signals::LedgerSet*> scope_ledgers(const QueryState& state, std::string_view scope,
                                          std::string_view field);

// Checks QueryOptions (the field name and rule on error).
Status check_query_options(const QueryOptions& options);

}  // namespace tidal::query
