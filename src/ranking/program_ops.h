// The instructions of a compiled profile and the scalar definition of each.
//
// Every operation is total: it returns a number for every input (division by
// zero is 0, sqrt/log outside their domain are 0, ...), so the evaluator can
// compute both branches of an if() and select, and constant folding can run
// any of them at compile time. The functions below are the one definition of
// each operation's meaning; the compiler folds constants with them and the
// evaluator's batch loops call them per candidate. docs/profiles.md states
// the same formulas.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace tidal::ranking {

enum class Op : uint8_t {
  // dst = f(a, b)
  kAdd,
  kSub,
  kMul,
  kDiv,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,
  kAnd,
  kOr,
  kMin,
  kMax,
  kPow,
  kWilson,
  // dst = f(a)
  kNeg,
  kNot,
  kAbs,
  kLog,
  kLog1p,
  kSqrt,
  kExp,
  kCopy,
  // dst = f(a = created_at, now); kFreshness also reads imm = half_life seconds
  kAge,
  kFreshness,
  // dst = truthy(a) ? b : c
  kSelect,
};

std::string_view op_name(Op op);
// How many operands (a, b, c) an op reads: 1, 2 or 3.
int op_arity(Op op);

// One instruction: operands and destination are slot numbers (see Program).
struct Instruction {
  Op op = Op::kCopy;
  uint16_t dst = 0;
  uint16_t a = 0;
  uint16_t b = 0;
  uint16_t c = 0;
  double imm = 0;
};

// z of the Wilson score interval: 1.96, a 95% two-sided confidence.
inline constexpr double kWilsonZ = 1.96;

// A number is true when it is neither 0 nor NaN.
inline bool truthy(double x) {
  return std::fabs(x) > 0;
}
inline double bool_value(bool b) {
  return b ? 1.0 : 0.0;
}

// a / b, and 0 when b is 0. The division is done unconditionally (by 1 when
// b is 0) so that the batch loop has no branch to vectorize around.
inline double safe_div(double a, double b) {
  const double q = a / (b == 0 ? 1.0 : b);
  return b == 0 ? 0.0 : q;
}
// Both return a when the two compare unordered (a NaN).
inline double min2(double a, double b) {
  return b < a ? b : a;
}
inline double max2(double a, double b) {
  return b > a ? b : a;
}
// x^y, and 0 where that is not a real number (NaN).
inline double safe_pow(double x, double y) {
  const double r = std::pow(x, y);
  return std::isnan(r) ? 0.0 : r;
}
// ln x for x > 0, else 0.
inline double safe_log(double x) {
  return x > 0 ? std::log(x) : 0.0;
}
// ln(1 + x) for x > -1, else 0.
inline double safe_log1p(double x) {
  return x > -1 ? std::log1p(x) : 0.0;
}
// √x for x >= 0, else 0.
inline double safe_sqrt(double x) {
  return std::sqrt(x >= 0 ? x : 0.0);
}
// The lower bound of the Wilson score interval for `pos` successes out of
// `total` trials, z = kWilsonZ; p = pos / total clamped to [0, 1]; 0 when
// total <= 0, when p is 0 and whenever the result would be NaN.
inline double wilson_lower_bound(double pos, double total) {
  const double p = min2(max2(pos / total, 0.0), 1.0);
  // No successes (or no trials): exactly 0, not the formula's rounding noise.
  if (!(total > 0) || !(p > 0)) return 0.0;
  const double z2 = kWilsonZ * kWilsonZ;
  const double centre = p + z2 / (2 * total);
  const double spread = kWilsonZ * std::sqrt(p * (1 - p) / total + z2 / (4 * total * total));
  const double lower = (centre - spread) / (1 + z2 / total);
  return lower > 0 ? lower : 0.0;  // rounding can dip below 0; NaN gives 0
}
// Seconds from created_at to now, never negative (a created_at in the future
// or NaN gives 0).
inline double age_seconds(double created_at, double now) {
  const double age = now - created_at;
  return age > 0 ? age : 0.0;
}
// 2^(−age / half_life), half_life in seconds.
inline double freshness(double created_at, double now, double half_life) {
  return std::exp2(-age_seconds(created_at, now) / half_life);
}

// The scalar meaning of a one- or two-operand op (not kAge, kFreshness, kSelect).
inline double apply_op(Op op, double a, double b) {
  switch (op) {
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMul: return a * b;
    case Op::kDiv: return safe_div(a, b);
    case Op::kLt: return bool_value(a < b);
    case Op::kLe: return bool_value(a <= b);
    case Op::kGt: return bool_value(a > b);
    case Op::kGe: return bool_value(a >= b);
    case Op::kEq: return bool_value(a == b);
    case Op::kNe: return bool_value(a != b);
    case Op::kAnd: return bool_value(truthy(a) && truthy(b));
    case Op::kOr: return bool_value(truthy(a) || truthy(b));
    case Op::kMin: return min2(a, b);
    case Op::kMax: return max2(a, b);
    case Op::kPow: return safe_pow(a, b);
    case Op::kWilson: return wilson_lower_bound(a, b);
    case Op::kNeg: return -a;
    case Op::kNot: return bool_value(!truthy(a));
    case Op::kAbs: return std::fabs(a);
    case Op::kLog: return safe_log(a);
    case Op::kLog1p: return safe_log1p(a);
    case Op::kSqrt: return safe_sqrt(a);
    case Op::kExp: return std::exp(a);
    case Op::kCopy: return a;
    case Op::kAge:
    case Op::kFreshness:
    case Op::kSelect: break;
  }
  return 0.0;
}

}  // namespace tidal::ranking
