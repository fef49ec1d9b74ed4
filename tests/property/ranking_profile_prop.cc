// Compiled batch evaluation of random profile expressions equals the
// reference tree-walking interpreter (ranking/reference_interpreter.h) on
// random feature columns, within 1e-9 relative (NaN equals NaN).
//
// The expression is built from a list of choices that rapidcheck generates
// and shrinks: fewer and smaller choices make a smaller tree, so a failure
// shrinks toward a small expression.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <iomanip>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ranking/profile.h"
#include "ranking/reference_interpreter.h"
#include "support/profile_exprs.h"

namespace tidal::ranking {
namespace {

using namespace tidal::profile_test;  // NOLINT(google-build-using-namespace)

constexpr double kNow = 1.7e9;
constexpr int kMaxDepth = 7;

Expr random_leaf(Choices& ch) {
  static const double kNumbers[] = {0, 1, -1, 2, 0.5, -2.5, 3, 10, 1e-3, 1e6, 100, -0.0};
  static const char* kNames[] = {"duration",   "quality", "premium", "published", "age",
                                 "created_at", "like",    "view",    "completion"};
  switch (ch.next(9)) {
    case 0: return num(kNumbers[ch.next(std::size(kNumbers))]);
    case 1: return call("count", {id("like"), hours(ch.next(2) ? 1 : 24)});
    case 2: return id(kNames[ch.next(std::size(kNames))]);
    case 3: return call("decay", {id(ch.next(2) ? "like" : "share")});
    case 4: {
      static const int64_t kViewWindows[] = {1, 24, 168};
      return call("count", {id("view"), hours(kViewWindows[ch.next(3)])});
    }
    case 5: return call("sum", {id("dwell_time"), hours(24)});
    case 6:
      return call(ch.next(2) ? "velocity" : "prev_count",
                  {id("share"), hours(ch.next(2) ? 1 : 24)});
    case 7: return call("freshness", {hours(1 + ch.next(48))});
    default: return ch.next(2) ? hours(ch.next(10)) : boolean(ch.next(2) != 0);
  }
}

// A feature value: mostly small counts, sometimes edge cases.
double random_value(std::mt19937_64& rng, FeatureKind kind) {
  std::uniform_int_distribution<int> pick(0, 19);
  std::uniform_real_distribution<double> unit(0, 1);
  if (kind == FeatureKind::kCreatedAt) {
    return kNow - (unit(rng) * 2 - 0.1) * 86400 * 7;  // mostly past, some future
  }
  switch (pick(rng)) {
    case 0: return 0;
    case 1: return std::numeric_limits<double>::quiet_NaN();
    case 2: return -unit(rng) * 100;
    case 3: return 1;
    case 4: return std::floor(unit(rng) * 1e6);
    default: return std::floor(unit(rng) * 200) + (pick(rng) < 10 ? unit(rng) : 0);
  }
}

bool same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-9 * std::max({std::fabs(a), std::fabs(b), 1e-3});
}

RC_GTEST_PROP(RankingProfileProp, CompiledBatchEqualsTreeWalk, ()) {
  static const Schema schema = profile_schema();
  const auto choices = *rc::gen::container<std::vector<uint32_t>>(rc::gen::arbitrary<uint32_t>());
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto n = *rc::gen::inRange<size_t>(1, kEvalBatch + 80);

  Choices ch(choices);
  const Expr e = random_expr(ch, 0, kMaxDepth, random_leaf);
  auto program = compile(e, CompileContext{&schema});
  RC_ASSERT(program.ok());
  const Program& p = *program;

  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> data(p.features().size(), std::vector<double>(n));
  std::vector<const double*> cols;
  for (size_t f = 0; f < data.size(); ++f) {
    for (double& v : data[f]) v = random_value(rng, p.features()[f].kind);
    cols.push_back(data[f].data());
  }
  std::vector<double> out(n);
  Evaluator ev(p);
  ev.evaluate(FeatureColumns{cols}, n, kNow, out.data());

  for (size_t i = 0; i < n; ++i) {
    const FeatureLookup lookup = [&](const FeatureRef& ref) {
      for (size_t f = 0; f < p.features().size(); ++f) {
        if (p.features()[f] == ref) return data[f][i];
      }
      return std::numeric_limits<double>::quiet_NaN();  // a feature the program does not list
    };
    const double want = interpret(e, schema, lookup, kNow);
    if (!same(out[i], want)) {
      RC_LOG() << std::setprecision(17) << "candidate " << i << ": compiled " << out[i]
               << ", reference " << want << "\n"
               << p.disassemble();
      RC_FAIL("compiled evaluation differs from the reference interpreter");
    }
  }
  if (p.is_constant()) RC_ASSERT(same(out[0], p.constant_value()));
  RC_TAG(p.is_constant() ? "constant" : "variable");
}

}  // namespace
}  // namespace tidal::ranking
