// The expression tree of TQL: ranking-profile bodies (`CREATE PROFILE p AS
// <expr>`, `RANK items BY <expr>`), sort keys and WHERE predicates all parse
// into Expr. The parser (query/parser) builds it; the profile compiler
// (ranking/) turns it into a program evaluated per candidate; the planner
// turns WHERE predicates into tidal::Filter. A leaf: it includes only the
// public types, so both query/ and ranking/ (below query/) can use it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tidal/types.h"

namespace tidal::expr {

// Where a token starts in the query text: 1-based line and column (in bytes).
struct SourcePos {
  uint32_t line = 1;
  uint32_t column = 1;
  bool operator==(const SourcePos&) const = default;
};

enum class ExprKind : uint8_t {
  kNumber,      // number
  kString,      // text: a single- or double-quoted literal
  kBool,        // number: 1 (TRUE) or 0 (FALSE)
  kDuration,    // duration: 6h, 30m, 7d, 90s, 500ms
  kIdentifier,  // text: an attribute, signal, profile or sort-mode name
  kCall,        // text: the function; args: its arguments
  kUnary,       // op: kNeg, kNot or kExists; args[0]
  kBinary,      // op; args[0], args[1] (kBetween: args[0] BETWEEN args[1] AND args[2])
  kIf,          // if(cond, then, else): args[0..2]
  kList,        // ( a, b, ... ) — the right side of IN; args
};

enum class ExprOp : uint8_t {
  kNone,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kNeg,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,
  kAnd,
  kOr,
  kNot,
  kIn,       // args[0] IN args[1] (a kList, or an identifier for 'x' IN tags)
  kBetween,  // args[0] BETWEEN args[1] AND args[2] (three args)
  kExists,   // EXISTS args[0]
};

struct Expr {
  ExprKind kind = ExprKind::kNumber;
  ExprOp op = ExprOp::kNone;
  SourcePos pos{};
  double number = 0;
  std::string text{};
  Duration duration{0};
  std::vector<Expr> args{};
};

}  // namespace tidal::expr
