// query's names for the expression tree, which lives in expr/ so that
// ranking/ (below query/) can share it.
#pragma once

#include "expr/expr.h"

namespace tidal::query {

using expr::Expr;
using expr::ExprKind;
using expr::ExprOp;
using expr::SourcePos;

}  // namespace tidal::query
