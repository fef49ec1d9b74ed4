// Query results: what Database::query returns for a TQL statement
// (docs/tql.md) or its JSON form.
//
//   auto page = db->query("RANK items BY best WHERE category = 'music' LIMIT 20").value();
//   for (const tidal::QueryRow& row : page.rows) use(row.key, row.score);
//   auto next = db->query("RANK items BY best WHERE category = 'music' LIMIT 20 CURSOR '" +
//                         page.cursor + "'");
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/types.h"

namespace tidal {

struct QueryOptions {
  // The most a read query may take; past it the query stops with kAborted
  // naming the stage it reached. Between 1 ms and 10 min.
  Duration time_budget = std::chrono::seconds(2);
  // FEED: keep the items the user already has signals for as candidates
  // (by default a feed leaves them out; docs/feeds.md).
  bool include_seen = false;
  // FEED: record what this feed served the user (one WAL record), so that the
  // next feeds leave those items out for DatabaseOptions::feed_served_suppress
  // and rank lower what is served again and again without engagement.
  bool record_served = false;
};

namespace query {
struct Statement;
}

// A parsed TQL statement (Database::prepare), to run many times without
// parsing it again. Cheap to copy; immutable; usable from any thread.
class PreparedStatement {
 public:
  PreparedStatement();
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&);
  PreparedStatement& operator=(const PreparedStatement&);

  // Whether running it writes: CREATE PROFILE and CREATE COHORT do (a
  // server asks for the admin scope and runs them on its write workers);
  // every other statement reads.
  bool writes() const;
  // The statement's kind: "trending", "rank", "search", "similar", "nearest",
  // "feed", "count", "create_cohort", "create_cohorts", "drop_cohort" or
  // "create_profile".
  std::string_view kind() const;

 private:
  friend class Database;
  explicit PreparedStatement(std::shared_ptr<const query::Statement> statement);
  std::shared_ptr<const query::Statement> statement_;
};

// Values bound to a prepared statement for one run, each replacing the
// statement's own: a parameter the statement has no place for is an error
// naming it (a query vector only for NEAREST, a user only for FEED, a key
// only for SIMILAR; a cursor for any read query).
struct QueryParameters {
  std::span<const float> vector{};      // NEAREST: TO VECTOR [...]; empty: the statement's
  std::optional<std::string> user{};    // FEED: FOR USER 'u'
  std::optional<std::string> key{};     // SIMILAR: TO 'key'
  std::optional<std::string> cursor{};  // the page to continue (a QueryResult's cursor)
};

struct QueryRow {
  std::string key;   // the entity's key
  double score = 0;  // the sort key's value (a sort mode's formula, a profile, an attribute)
};

// One stage of an executed plan (EXPLAIN). Stages are listed from the
// candidate source up; `depth` is the stage's indentation in the tree, the
// page at the root.
struct PlanStage {
  std::string name;    // "source", "filter", "score", "select", "diversify", "page"
  std::string detail;  // what the stage did, e.g. "trending index hot(view), top 400"
  uint64_t rows_in = 0;
  uint64_t rows_out = 0;
  double micros = 0;  // wall time spent in the stage
};

struct QueryResult {
  std::vector<QueryRow> rows;
  // Pass as CURSOR '...' with the same query for the next page; empty when
  // this page is the last. docs/tql.md says what it guarantees.
  std::string cursor;
  std::vector<PlanStage> plan;    // every read query fills it; EXPLAIN prints it
  bool explain = false;           // the statement was EXPLAIN ...
  std::string message;            // CREATE statements: what happened
  std::optional<uint64_t> count;  // COUNT: how many entities the WHERE keeps (rows stay empty)
  double total_micros = 0;

  // The plan as an indented tree, the page first, one line per stage.
  std::string explain_text() const;
};

// A stored ranking profile (CREATE PROFILE name AS expression).
struct ProfileDefinition {
  std::string name;
  std::string expression;  // as TQL
};

}  // namespace tidal
