// Builders for query::Expr trees (the tests of ranking/ run before the TQL
// parser exists), a random expression generator, and the schema the profile
// tests compile against.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "query/expr.h"
#include "tidal/schema.h"

namespace tidal::profile_test {

using query::Expr;
using query::ExprKind;
using query::ExprOp;

inline Expr num(double v) {
  return Expr{.kind = ExprKind::kNumber, .number = v};
}
inline Expr boolean(bool b) {
  return Expr{.kind = ExprKind::kBool, .number = b ? 1.0 : 0.0};
}
inline Expr dur(Duration d) {
  return Expr{.kind = ExprKind::kDuration, .duration = d};
}
inline Expr hours(int64_t h) {
  return dur(std::chrono::hours(h));
}
inline Expr id(std::string name) {
  return Expr{.kind = ExprKind::kIdentifier, .text = std::move(name)};
}
inline Expr str(std::string text) {
  return Expr{.kind = ExprKind::kString, .text = std::move(text)};
}
inline Expr call(std::string fn, std::vector<Expr> args) {
  return Expr{.kind = ExprKind::kCall, .text = std::move(fn), .args = std::move(args)};
}
inline Expr bin(ExprOp op, Expr a, Expr b) {
  return Expr{.kind = ExprKind::kBinary, .op = op, .args = {std::move(a), std::move(b)}};
}
inline Expr un(ExprOp op, Expr a) {
  return Expr{.kind = ExprKind::kUnary, .op = op, .args = {std::move(a)}};
}
inline Expr iff(Expr c, Expr a, Expr b) {
  return Expr{.kind = ExprKind::kIf, .args = {std::move(c), std::move(a), std::move(b)}};
}
inline Expr list(std::vector<Expr> items) {
  return Expr{.kind = ExprKind::kList, .args = std::move(items)};
}
inline Expr between(Expr x, Expr lo, Expr hi) {
  return Expr{.kind = ExprKind::kBinary,
              .op = ExprOp::kBetween,
              .args = {std::move(x), std::move(lo), std::move(hi)}};
}
// `e` placed at line:column, for error-position tests.
inline Expr at(Expr e, uint32_t line, uint32_t column) {
  e.pos = {line, column};
  return e;
}

// Reads choices in order (a rapidcheck-generated vector); 0 once they run
// out, which picks leaves, so every expression is finite.
class Choices {
 public:
  explicit Choices(const std::vector<uint32_t>& c) : c_(c) {}
  uint32_t next(uint32_t bound) { return i_ < c_.size() ? c_[i_++] % bound : 0; }

 private:
  const std::vector<uint32_t>& c_;
  size_t i_ = 0;
};

// A random expression using every operator and function of the profile
// language, up to `max_depth` deep, with leaves (and IN-list values) from
// `leaf`: each test picks leaves that fit its schema.
inline Expr random_expr(Choices& ch, int depth, int max_depth,
                        const std::function<Expr(Choices&)>& leaf) {
  if (depth >= max_depth) return leaf(ch);
  auto sub = [&] { return random_expr(ch, depth + 1, max_depth, leaf); };
  static const ExprOp kBinary[] = {ExprOp::kAdd, ExprOp::kSub, ExprOp::kMul, ExprOp::kDiv,
                                   ExprOp::kLt,  ExprOp::kLe,  ExprOp::kGt,  ExprOp::kGe,
                                   ExprOp::kEq,  ExprOp::kNe,  ExprOp::kAnd, ExprOp::kOr};
  static const char* const kMath[] = {"log1p", "log", "sqrt", "exp", "abs"};
  switch (ch.next(14)) {
    case 0:
    case 1: return leaf(ch);
    case 2:
    case 3: {
      const ExprOp op = kBinary[ch.next(std::size(kBinary))];
      Expr a = sub();
      return bin(op, std::move(a), sub());
    }
    case 4: return un(ch.next(2) ? ExprOp::kNeg : ExprOp::kNot, sub());
    case 5: {
      Expr c = sub();
      Expr a = sub();
      return ch.next(2) ? iff(std::move(c), std::move(a), sub())
                        : call("if", {std::move(c), std::move(a), sub()});
    }
    case 6: return call(kMath[ch.next(std::size(kMath))], {sub()});
    case 7: {
      Expr a = sub();
      return call("pow", {std::move(a), sub()});
    }
    case 8: {
      std::vector<Expr> args;
      const uint32_t n = 2 + ch.next(3);
      for (uint32_t i = 0; i < n; ++i) args.push_back(sub());
      return call(ch.next(2) ? "min" : "max", std::move(args));
    }
    case 9: {
      Expr x = sub();
      Expr lo = sub();
      return call("clamp", {std::move(x), std::move(lo), sub()});
    }
    case 10: {
      std::vector<Expr> args;
      const uint32_t n = ch.next(2) ? 4 : 2;
      for (uint32_t i = 0; i < n; ++i) args.push_back(sub());
      return call("rate", std::move(args));
    }
    case 11: {
      Expr a = sub();
      return call("wilson", {std::move(a), sub()});
    }
    case 12: {
      Expr x = sub();
      Expr lo = sub();
      return between(std::move(x), std::move(lo), sub());
    }
    default: {
      Expr x = sub();
      std::vector<Expr> items;
      const uint32_t n = 1 + ch.next(3);
      for (uint32_t i = 0; i < n; ++i) items.push_back(leaf(ch));
      return bin(ExprOp::kIn, std::move(x), list(std::move(items)));
    }
  }
}

// The default signal types plus numeric and non-numeric item attributes:
// duration (int), quality (float), premium (bool), published (timestamp),
// category (keyword), tags (tags).
inline Schema profile_schema() {
  auto built =
      SchemaBuilder::with_default_signals()
          .add_attribute(EntityKind::kItem, {.name = "duration", .type = AttributeType::kInt})
          .add_attribute(EntityKind::kItem, {.name = "quality", .type = AttributeType::kFloat})
          .add_attribute(EntityKind::kItem, {.name = "premium", .type = AttributeType::kBool})
          .add_attribute(EntityKind::kItem,
                         {.name = "published", .type = AttributeType::kTimestamp})
          .add_attribute(EntityKind::kItem, {.name = "category", .type = AttributeType::kKeyword})
          .add_attribute(EntityKind::kItem, {.name = "tags", .type = AttributeType::kTags})
          .build();
  return std::move(built).value();
}

}  // namespace tidal::profile_test
