// The reference meaning of a ranking profile: a naive recursive walk of the
// expression tree for one candidate, resolving every name against the schema
// as it goes and computing each function from its textbook formula
// (docs/profiles.md), independently of the compiler and its scalar kernels.
//
// It is slow on purpose and exists for two callers: the property test, which
// checks that compiled batch evaluation agrees with it, and
// bench/profile_bench, which reports how much faster the compiled program is.
#pragma once

#include <functional>

#include "expr/expr.h"
#include "ranking/profile.h"
#include "tidal/schema.h"

namespace tidal::ranking {

// Returns a candidate's value of one feature.
using FeatureLookup = std::function<double(const FeatureRef&)>;

// The score of one candidate. Precondition: compile(e, {&schema}) succeeds
// (an expression that does not compile gives NaN).
double interpret(const expr::Expr& e, const Schema& schema, const FeatureLookup& lookup,
                 double now_seconds);

}  // namespace tidal::ranking
