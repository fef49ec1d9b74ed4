// How `tidal query` and `tidal shell` show what a TQL statement returned.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/database.h"

namespace tidal::cli {

enum class ResultFormat : uint8_t { kTable, kJson };

// "table" or "json".
std::optional<ResultFormat> parse_result_format(std::string_view text);

// Prints the result of `tql` to stdout. Table: the rows (#, key, score and
// the entities' table_attributes(), read through Backend::cells), then the
// message of a CREATE statement and the plan of an EXPLAIN; COUNT prints
// its number alone. JSON: the HTTP
// API's form (server::write_query_result), plan included for EXPLAIN.
// Waits until no cohort is backfilling (a CREATE COHORT just made one),
// drawing a progress bar on stderr when it is a terminal. False (after
// printing why) when a backfill failed to finish.
bool wait_for_backfills(Database& db);

class Backend;  // cli_backend.h
void print_result(Backend& backend, std::string_view tql, const QueryResult& result,
                  ResultFormat format);

// The attribute columns of a table of `kind`: the first kTableAttributes
// attributes the schema declares (vectors left out: a row holds no list of
// numbers), then, for items, the built-in creator.
inline constexpr size_t kTableAttributes = 4;
std::vector<std::string> table_attributes(const Schema& schema, EntityKind kind);

// One cell of a table: an attribute value as a person reads it ("-" for no
// value; tags joined with ", ").
std::string attribute_cell(const AttributeValue* value);

}  // namespace tidal::cli
