#include "query/filter.h"

#include <cmath>

#include "query/ast.h"
#include "query/lexer.h"

namespace tidal::query {

namespace {

Status unsupported(const Expr& e, std::string_view what) {
  std::string message = "not supported yet: " + std::string(what) + " in WHERE";
  // Expressions read from JSON carry no position (line 0).
  if (e.pos.line == 0) {
    return Status(Subsystem::kQuery, StatusCode::kNotSupported, message, "where");
  }
  Status s = syntax_error(e.pos, message);
  return Status(Subsystem::kQuery, StatusCode::kNotSupported, s.message(), "where");
}

std::string_view construct(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kNumber: return "a number";
    case ExprKind::kString: return "a string";
    case ExprKind::kBool: return "a bare TRUE or FALSE";
    case ExprKind::kDuration: return "a duration";
    case ExprKind::kIdentifier: return "an attribute";
    case ExprKind::kCall: return "a function call";
    case ExprKind::kIf: return "if()";
    case ExprKind::kList: return "a list";
    case ExprKind::kUnary: return e.op == ExprOp::kNeg ? "arithmetic" : "this operator";
    case ExprKind::kBinary:
      switch (e.op) {
        case ExprOp::kAdd:
        case ExprOp::kSub:
        case ExprOp::kMul:
        case ExprOp::kDiv: return "arithmetic";
        default: return "this operator";
      }
  }
  return "this expression";
}

// A literal as an attribute value; false when `e` is not a literal.
bool literal(const Expr& e, AttributeValue* out) {
  switch (e.kind) {
    case ExprKind::kString: *out = e.text; return true;
    case ExprKind::kBool: *out = e.number != 0; return true;
    case ExprKind::kNumber:
      if (e.number == std::floor(e.number) && std::fabs(e.number) < 9.2e18) {
        *out = static_cast<int64_t>(e.number);
      } else {
        *out = e.number;
      }
      return true;
    case ExprKind::kUnary:
      if (e.op == ExprOp::kNeg && e.args.size() == 1 && e.args[0].kind == ExprKind::kNumber) {
        AttributeValue v;
        literal(e.args[0], &v);
        if (auto* i = std::get_if<int64_t>(&v)) {
          *out = -*i;
        } else {
          *out = -std::get<double>(v);
        }
        return true;
      }
      return false;
    default: return false;
  }
}

// The operand that is not an attribute or literal, for the error message.
const Expr& offender(const Expr& a, const Expr& b) {
  AttributeValue v;
  if (a.kind != ExprKind::kIdentifier && !literal(a, &v)) return a;
  return b;
}

Filter compare(ExprOp op, std::string attr, AttributeValue v) {
  switch (op) {
    case ExprOp::kEq: return Filter::eq(std::move(attr), std::move(v));
    case ExprOp::kNe: return Filter::ne(std::move(attr), std::move(v));
    case ExprOp::kLt: return Filter::lt(std::move(attr), std::move(v));
    case ExprOp::kLe: return Filter::le(std::move(attr), std::move(v));
    case ExprOp::kGt: return Filter::gt(std::move(attr), std::move(v));
    default: return Filter::ge(std::move(attr), std::move(v));
  }
}

// `5 < x` is `x > 5`.
ExprOp mirror(ExprOp op) {
  switch (op) {
    case ExprOp::kLt: return ExprOp::kGt;
    case ExprOp::kLe: return ExprOp::kGe;
    case ExprOp::kGt: return ExprOp::kLt;
    case ExprOp::kGe: return ExprOp::kLe;
    default: return op;
  }
}

Result<Filter> convert(const Expr& e) {
  if (e.kind == ExprKind::kIdentifier) return Filter::eq(e.text, true);
  if (e.kind == ExprKind::kUnary && e.args.size() == 1) {
    if (e.op == ExprOp::kNot) {
      auto child = convert(e.args[0]);
      if (!child.ok()) return child.status();
      return Filter::negate(std::move(*child));
    }
    if (e.op == ExprOp::kExists && e.args[0].kind == ExprKind::kIdentifier) {
      return Filter::exists(e.args[0].text);
    }
  }
  if (e.kind == ExprKind::kCall && e.text == kInCohortCall) {
    return unsupported(e, "IN COHORT under OR or NOT (AND it with the rest of the WHERE)");
  }
  if (e.kind != ExprKind::kBinary) return unsupported(e, construct(e));
  switch (e.op) {
    case ExprOp::kAnd:
    case ExprOp::kOr: {
      // Flatten a AND b AND c into one node of three children.
      Filter f = e.op == ExprOp::kAnd ? Filter::all_of({}) : Filter::any_of({});
      for (const Expr& side : e.args) {
        auto child = convert(side);
        if (!child.ok()) return child.status();
        if (child->op == f.op) {
          for (Filter& g : child->children) f.children.push_back(std::move(g));
        } else {
          f.children.push_back(std::move(*child));
        }
      }
      return f;
    }
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe: {
      const Expr& a = e.args[0];
      const Expr& b = e.args[1];
      AttributeValue v;
      if (a.kind == ExprKind::kIdentifier && literal(b, &v)) return compare(e.op, a.text, v);
      if (b.kind == ExprKind::kIdentifier && literal(a, &v)) {
        return compare(mirror(e.op), b.text, v);
      }
      if (a.kind == ExprKind::kIdentifier && b.kind == ExprKind::kIdentifier) {
        return unsupported(b, "comparing two attributes");
      }
      AttributeValue ignored;
      if (literal(a, &ignored) && literal(b, &ignored)) {
        return unsupported(a, "comparing two literals");
      }
      const Expr& bad = offender(a, b);
      return unsupported(bad, construct(bad));
    }
    case ExprOp::kBetween: {
      if (e.args.size() != 3) return unsupported(e, "this operator");
      AttributeValue lo, hi;
      if (e.args[0].kind != ExprKind::kIdentifier) {
        return unsupported(e.args[0], std::string(construct(e.args[0])) + " before BETWEEN");
      }
      if (!literal(e.args[1], &lo)) return unsupported(e.args[1], construct(e.args[1]));
      if (!literal(e.args[2], &hi)) return unsupported(e.args[2], construct(e.args[2]));
      return Filter::between(e.args[0].text, std::move(lo), std::move(hi));
    }
    case ExprOp::kIn: {
      const Expr& a = e.args[0];
      const Expr& b = e.args[1];
      if (b.kind == ExprKind::kIdentifier) {
        if (a.kind != ExprKind::kString) {
          return unsupported(a, std::string(construct(a)) + " IN an attribute (only 'text' IN)");
        }
        return Filter::contains(b.text, a.text);
      }
      if (a.kind != ExprKind::kIdentifier) {
        return unsupported(a, std::string(construct(a)) + " before IN");
      }
      std::vector<AttributeValue> values;
      for (const Expr& x : b.args) {
        AttributeValue v;
        if (!literal(x, &v)) return unsupported(x, std::string(construct(x)) + " in an IN list");
        values.push_back(std::move(v));
      }
      return Filter::in(a.text, std::move(values));
    }
    default: return unsupported(e, construct(e));
  }
}

}  // namespace

Result<Filter> to_filter(const Expr& where) {
  return convert(where);
}

}  // namespace tidal::query
