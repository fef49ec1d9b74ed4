// The planner of read queries: resolves a statement against the schema and
// what the database holds, compiles its sort, and chooses the operators that
// run it (query/operator.h). Internal to src/query/.
#pragma once

#include "query/engine.h"
#include "query/plan.h"

namespace tidal::query {

// The plan of a read statement (TRENDING, RANK, SEARCH, SIMILAR, NEAREST),
// or an error naming the field, value and rule; NotSupported for parts not
// built yet.
Result<Plan> make_plan(const Statement& s, const QueryState& st, const QueryOptions& options);

}  // namespace tidal::query
