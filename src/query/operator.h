// The operators of a read query's pipeline (docs/tql.md, "How a query
// runs"):
//
//   source -> filter -> score -> select -> diversify -> page
//
// The planner (query/planner.cc) chooses the operators a query needs and
// puts them in Plan::operators, in order; the executor (query/execution.cc)
// runs them until one answers, then diversifies and pages what it ranked.
// Each operator lives in its own file:
//
//   source_keys.cc      explicit keys (WHERE key IN (...)), or every entity
//                       of the kind
//   filter_operator.cc  the WHERE predicate as an attribute-index bitmap
//   source_text.cc      the text index (SEARCH)
//   source_vector.cc    the vector index (SIMILAR, NEAREST; with QUERY text,
//                       fused with the text index by reciprocal rank)
//   source_trending.cc  a trending index (hot, window count, rising) when the
//                       sort is exactly what it orders by
//   source_feed.cc      FEED: the union of the user's candidate sources, and
//                       the filter of what the user saw, blocked or muted
//   source_scan.cc      scores every candidate (always last; always answers)
//                       — or, for COUNT, the count (source_keys.cc) is last
//
// An operator narrows the candidate set (Execution::candidates()), or
// answers: fills Execution::ranked with the best rows in order and returns
// true. Each reports itself to EXPLAIN through Execution::stage() with its
// rows in and out and its time. Adding a source is adding a file with its
// factory below and choosing it in the planner.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tidal/status.h"

namespace tidal::query {

class Execution;

class Operator {
 public:
  virtual ~Operator() = default;
  // Narrows the candidates or answers (true).
  virtual Result<bool> run(Execution& x) const = 0;
};

// The candidates are the entities with the plan's keys (Plan::keys), of
// those the query can rank.
std::unique_ptr<const Operator> make_keys_source();
// The candidates are every entity the query can rank.
std::unique_ptr<const Operator> make_all_source();
// Keeps the candidates that pass the plan's attribute filter.
std::unique_ptr<const Operator> make_filter_operator();
// The plan's text search (Plan::text).
std::unique_ptr<const Operator> make_text_source();
// The plan's vector search (Plan::vector_slot), fused with Plan::text when
// the query has a QUERY text.
std::unique_ptr<const Operator> make_vector_source();
// The trending index the plan's sort reads (Plan::index).
std::unique_ptr<const Operator> make_trending_source();
// Scores every candidate and selects the best.
std::unique_ptr<const Operator> make_scan();
// COUNT: answers with how many candidates there are (source_keys.cc).
std::unique_ptr<const Operator> make_count();
// FEED FOR USER: the union of the feed's candidate sources (source_feed.cc).
std::unique_ptr<const Operator> make_feed_source();
// FEED FOR USER: drops what the user has seen (unless include_seen), blocked
// or muted — items, and items of blocked or muted creators (source_feed.cc).
std::unique_ptr<const Operator> make_user_filter();

}  // namespace tidal::query
