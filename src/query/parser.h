// The TQL parser: query text to a Statement (query/ast.h). docs/tql.md has
// the grammar.
//
// Errors are InvalidArgument Statuses of the query subsystem with field
// "query" and a message "line L, column C: <what>", usually
// "expected <what could come here>, found <token>", for example
//   line 1, column 27: expected WHERE, DIVERSIFY, LIMIT, CURSOR or end of query, found number 5
// The parser checks syntax and the limits of query/limits.h only: whether a
// sort mode, signal, attribute or feature exists is the planner's question.
#pragma once

#include <string_view>

#include "query/ast.h"
#include "tidal/status.h"

namespace tidal::query {

Result<Statement> parse(std::string_view text);

// Parses one expression and nothing after it (a profile body, a predicate).
Result<Expr> parse_expression(std::string_view text);

}  // namespace tidal::query
