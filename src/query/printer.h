// Statement and Expr back to TQL text. For any Statement that passes
// validate() (query/ast.h), parse(to_tql(s)) == s: strings are quoted and
// escaped, numbers printed exactly (shortest round-trip form), and
// parentheses added only where precedence needs them. A negative number
// literal prints as `-5`, which reads back as unary minus applied to 5.
#pragma once

#include <string>

#include "core/tql_text.h"
#include "query/ast.h"

namespace tidal::query {

std::string to_tql(const Statement& s);
// A cohort's name as TQL: a family's cohort (family:value) as a string.
std::string cohort_tql(const std::string& name);
std::string to_tql(const Expr& e);

// A TQL string literal: single-quoted, with \' \\ \n \t and \uXXXX for other
// control characters.
using ::tidal::quote_tql;  // core/tql_text.h

// The shortest text that reads back as exactly `v` ("0.5", "1e+21").
std::string format_number(double v);

}  // namespace tidal::query
