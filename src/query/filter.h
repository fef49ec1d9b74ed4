// WHERE predicates (Expr) to tidal::Filter, the entity store's filter tree.
//
// Supported: comparisons between an attribute and a literal (either side),
// BETWEEN with literal bounds, attr IN (literals), 'tag' IN tags_attr,
// EXISTS attr, NOT, AND, OR, and a bare attribute (attr = TRUE). Literals:
// a string is a std::string, a whole number (optionally negated) an
// int64_t, any other number a double, TRUE/FALSE a bool. Anything else —
// arithmetic, function calls, durations, comparing two attributes — is
// "not supported yet: <construct> in WHERE", with the line and column.
#pragma once

#include "query/expr.h"
#include "tidal/entity.h"
#include "tidal/status.h"

namespace tidal::query {

Result<Filter> to_filter(const Expr& where);

}  // namespace tidal::query
