// Builders for query::Expr trees (the tests of ranking/ run before the TQL
// parser exists) and the schema those tests compile against.
#pragma once

#include <chrono>
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
