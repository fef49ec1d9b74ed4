// The JSON form of a TQL statement — the same Statement (query/ast.h) the
// text parser builds, so the HTTP API can take either. docs/tql.md shows the
// format; in short:
//
//   {"statement": "rank", "target": "items",
//    "rank_by": {"call": "rising", "args": [{"ident": "share"}, {"duration": "1h"}]},
//    "where": {"op": "=", "args": [{"ident": "category"}, {"string": "music"}]},
//    "limit": 50}
//
// Expressions are objects with exactly one of number, string, bool,
// duration, ident, call (+ args), if, op (+ args) or list. Source positions
// are not part of the form; a parsed statement's positions are line 0,
// column 0 ("no position").
#pragma once

#include <string>
#include <string_view>

#include "query/ast.h"
#include "tidal/status.h"

namespace tidal::query {

std::string to_json(const Statement& s);
std::string to_json(const Expr& e);

// Reads the JSON form. Unknown fields are errors naming the field, wrong
// types name the field and the expected type, and the result must pass
// validate() — so anything accepted here can also be written as TQL.
Result<Statement> parse_json(std::string_view json);

}  // namespace tidal::query
