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
#include <string>
#include <vector>

#include "tidal/types.h"

namespace tidal {

struct QueryOptions {
  // The most a read query may take; past it the query stops with kAborted
  // naming the stage it reached. Between 1 ms and 10 min.
  Duration time_budget = std::chrono::seconds(2);
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
  std::vector<PlanStage> plan;  // every read query fills it; EXPLAIN prints it
  bool explain = false;         // the statement was EXPLAIN ...
  std::string message;          // CREATE statements: what happened
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
