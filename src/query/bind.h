// Binding parameters to a prepared statement (Database::execute): each value
// given replaces the statement's own, and the result is validated as a
// parsed statement is, so a parameter the statement has no place for is the
// same error the text would give ("vector ... is not a field of a rank
// statement").
#pragma once

#include "query/ast.h"
#include "tidal/query.h"
#include "tidal/status.h"

namespace tidal::query {

Result<Statement> bind(const Statement& statement, const QueryParameters& parameters);

// Whether `parameters` gives any value.
bool has_values(const QueryParameters& parameters);

}  // namespace tidal::query
