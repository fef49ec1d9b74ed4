// The profile compiler and evaluator: every operator and function against its
// documented definition (docs/profiles.md), every compile error, constant
// folding, and batch evaluation across chunk boundaries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "ranking/profile.h"
#include "support/profile_exprs.h"

namespace tidal::ranking {
namespace {

using namespace tidal::profile_test;  // NOLINT(google-build-using-namespace)
using ::testing::HasSubstr;

constexpr double kNow = 1.7e9;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class ProfileTest : public ::testing::Test {
 protected:
  Result<Program> compile_expr(const Expr& e) { return compile(e, CompileContext{&schema_}); }

  Program compile_ok(const Expr& e) {
    auto p = compile_expr(e);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    return std::move(p).value();
  }

  // Compiles `e` and evaluates it for one candidate whose features have the
  // given values (0 for the rest), through both the batch and the scalar
  // path, which must agree.
  double eval(const Expr& e, const std::map<std::string, double>& values = {}, double now = kNow) {
    Program p = compile_ok(e);
    std::vector<double> f;
    for (const FeatureRef& ref : p.features()) {
      const auto it = values.find(key(ref));
      f.push_back(it == values.end() ? 0.0 : it->second);
    }
    std::vector<const double*> cols;
    for (const double& v : f) cols.push_back(&v);
    Evaluator ev(p);
    double batch = -12345;
    ev.evaluate(FeatureColumns{cols}, 1, now, &batch);
    const double one = ev.evaluate_one(f, now);
    if (std::isnan(batch)) {
      EXPECT_TRUE(std::isnan(one));
    } else {
      EXPECT_EQ(batch, one);
    }
    return batch;
  }

  // "decay:like", "count:view:24h", "attr:duration", "created_at".
  std::string key(const FeatureRef& r) const {
    const auto& sigs = schema_.signals();
    switch (r.kind) {
      case FeatureKind::kDecay: return "decay:" + sigs[r.signal].name;
      case FeatureKind::kAttribute:
        return "attr:" + schema_.attributes(EntityKind::kItem)[r.attribute].name;
      case FeatureKind::kCreatedAt: return "created_at";
      default: {
        const auto h =
            std::chrono::duration_cast<std::chrono::hours>(sigs[r.signal].windows[r.window])
                .count();
        return std::string(feature_kind_name(r.kind)) + ":" + sigs[r.signal].name + ":" +
               std::to_string(h) + "h";
      }
    }
  }

  Status compile_error(const Expr& e) {
    auto p = compile_expr(e);
    EXPECT_FALSE(p.ok());
    return p.status();
  }

  Schema schema_ = profile_schema();
};

// --- operators ---------------------------------------------------------------

TEST_F(ProfileTest, Arithmetic) {
  const std::map<std::string, double> v = {{"attr:duration", 7}, {"attr:quality", 2}};
  EXPECT_EQ(eval(bin(ExprOp::kAdd, id("duration"), id("quality")), v), 9);
  EXPECT_EQ(eval(bin(ExprOp::kSub, id("duration"), id("quality")), v), 5);
  EXPECT_EQ(eval(bin(ExprOp::kMul, id("duration"), id("quality")), v), 14);
  EXPECT_EQ(eval(bin(ExprOp::kDiv, id("duration"), id("quality")), v), 3.5);
  EXPECT_EQ(eval(un(ExprOp::kNeg, id("duration")), v), -7);
}

TEST_F(ProfileTest, DivisionByZeroIsZero) {
  EXPECT_EQ(eval(bin(ExprOp::kDiv, id("duration"), id("quality")), {{"attr:duration", 5}}), 0);
  EXPECT_EQ(eval(bin(ExprOp::kDiv, num(5), num(0))), 0);
  EXPECT_EQ(eval(bin(ExprOp::kDiv, id("duration"), num(0)), {{"attr:duration", -3}}), 0);
}

TEST_F(ProfileTest, ComparisonsGiveOneOrZero) {
  const std::map<std::string, double> v = {{"attr:duration", 3}, {"attr:quality", 4}};
  auto cmp = [&](ExprOp op) { return eval(bin(op, id("duration"), id("quality")), v); };
  EXPECT_EQ(cmp(ExprOp::kLt), 1);
  EXPECT_EQ(cmp(ExprOp::kLe), 1);
  EXPECT_EQ(cmp(ExprOp::kGt), 0);
  EXPECT_EQ(cmp(ExprOp::kGe), 0);
  EXPECT_EQ(cmp(ExprOp::kEq), 0);
  EXPECT_EQ(cmp(ExprOp::kNe), 1);
  EXPECT_EQ(eval(bin(ExprOp::kLe, id("duration"), num(3)), v), 1);
  EXPECT_EQ(eval(bin(ExprOp::kGe, id("duration"), num(3)), v), 1);
  EXPECT_EQ(eval(bin(ExprOp::kEq, id("duration"), num(3)), v), 1);
  // NaN compares false to everything.
  EXPECT_EQ(eval(bin(ExprOp::kEq, id("duration"), id("duration")), {{"attr:duration", kNaN}}), 0);
}

TEST_F(ProfileTest, LogicUsesTruthiness) {
  auto logic = [&](ExprOp op, double a, double b) {
    return eval(bin(op, id("duration"), id("quality")),
                {{"attr:duration", a}, {"attr:quality", b}});
  };
  EXPECT_EQ(logic(ExprOp::kAnd, 2, -0.5), 1);
  EXPECT_EQ(logic(ExprOp::kAnd, 2, 0), 0);
  EXPECT_EQ(logic(ExprOp::kAnd, kNaN, 1), 0);  // NaN is false
  EXPECT_EQ(logic(ExprOp::kOr, 0, 0), 0);
  EXPECT_EQ(logic(ExprOp::kOr, 0, 3), 1);
  EXPECT_EQ(logic(ExprOp::kOr, kNaN, 0), 0);
  EXPECT_EQ(eval(un(ExprOp::kNot, id("duration")), {{"attr:duration", 0}}), 1);
  EXPECT_EQ(eval(un(ExprOp::kNot, id("duration")), {{"attr:duration", 5}}), 0);
  EXPECT_EQ(eval(un(ExprOp::kNot, id("duration")), {{"attr:duration", kNaN}}), 1);
}

TEST_F(ProfileTest, IfSelectsByTruthiness) {
  const Expr e = iff(id("premium"), num(10), id("quality"));
  EXPECT_EQ(eval(e, {{"attr:premium", 1}, {"attr:quality", 4}}), 10);
  EXPECT_EQ(eval(e, {{"attr:premium", 0}, {"attr:quality", 4}}), 4);
  EXPECT_EQ(eval(e, {{"attr:premium", kNaN}, {"attr:quality", 4}}), 4);
  // if() as a call reads the same.
  EXPECT_EQ(eval(call("IF", {id("premium"), num(10), num(20)}), {{"attr:premium", 2}}), 10);
}

TEST_F(ProfileTest, BetweenAndIn) {
  const Expr b = between(id("duration"), num(10), num(20));
  EXPECT_EQ(eval(b, {{"attr:duration", 10}}), 1);
  EXPECT_EQ(eval(b, {{"attr:duration", 20}}), 1);
  EXPECT_EQ(eval(b, {{"attr:duration", 21}}), 0);
  const Expr in = bin(ExprOp::kIn, id("duration"), list({num(1), num(5), num(9)}));
  EXPECT_EQ(eval(in, {{"attr:duration", 5}}), 1);
  EXPECT_EQ(eval(in, {{"attr:duration", 6}}), 0);
}

TEST_F(ProfileTest, DurationsAndBooleansAreNumbers) {
  EXPECT_EQ(eval(hours(6)), 21600);
  EXPECT_EQ(eval(dur(std::chrono::milliseconds(500))), 0.5);
  EXPECT_EQ(eval(boolean(true)), 1);
  EXPECT_EQ(eval(bin(ExprOp::kAdd, boolean(false), num(2))), 2);
}

// --- math functions ----------------------------------------------------------

TEST_F(ProfileTest, MathFunctions) {
  auto f = [&](const char* fn, double x) {
    return eval(call(fn, {id("quality")}), {{"attr:quality", x}});
  };
  EXPECT_DOUBLE_EQ(f("log1p", std::exp(2.0) - 1), 2);
  EXPECT_EQ(f("log1p", -1), 0);  // outside the domain
  EXPECT_EQ(f("log1p", -5), 0);
  EXPECT_DOUBLE_EQ(f("log", std::exp(3.0)), 3);
  EXPECT_EQ(f("log", 0), 0);
  EXPECT_EQ(f("log", -2), 0);
  EXPECT_EQ(f("sqrt", 16), 4);
  EXPECT_EQ(f("sqrt", -4), 0);
  EXPECT_EQ(f("sqrt", kNaN), 0);
  EXPECT_DOUBLE_EQ(f("exp", 1), std::exp(1.0));
  EXPECT_EQ(f("abs", -2.5), 2.5);
  EXPECT_EQ(f("abs", 2.5), 2.5);
}

TEST_F(ProfileTest, PowMinMaxClamp) {
  const std::map<std::string, double> v = {{"attr:duration", 2}, {"attr:quality", 10}};
  EXPECT_EQ(eval(call("pow", {id("duration"), id("quality")}), v), 1024);
  EXPECT_EQ(eval(call("pow", {num(-8), id("duration")}), v), 64);
  EXPECT_EQ(eval(call("pow", {id("duration"), num(0.5)}), {{"attr:duration", -4}}), 0);  // NaN → 0
  EXPECT_EQ(eval(call("min", {id("duration"), id("quality"), num(-1)}), v), -1);
  EXPECT_EQ(eval(call("max", {id("duration"), id("quality"), num(-1)}), v), 10);
  EXPECT_EQ(eval(call("max", {id("duration"), id("quality")}), v), 10);
  EXPECT_EQ(eval(call("clamp", {id("quality"), num(0), num(5)}), v), 5);
  EXPECT_EQ(eval(call("clamp", {id("duration"), num(3), num(5)}), v), 3);
  EXPECT_EQ(eval(call("clamp", {id("duration"), num(0), num(5)}), v), 2);
}

// --- features ----------------------------------------------------------------

TEST_F(ProfileTest, SignalFeatures) {
  const std::map<std::string, double> v = {{"decay:like", 12.5},      {"count:view:24h", 100},
                                           {"count:view:1h", 7},      {"sum:dwell_time:24h", 360},
                                           {"velocity:share:1h", -3}, {"prev_count:share:24h", 9}};
  EXPECT_EQ(eval(call("decay", {id("like")}), v), 12.5);
  EXPECT_EQ(eval(id("like"), v), 12.5);  // a bare signal name is its decayed score
  EXPECT_EQ(eval(call("count", {id("view"), hours(24)}), v), 100);
  EXPECT_EQ(eval(call("count", {id("view"), hours(1)}), v), 7);
  EXPECT_EQ(eval(call("sum", {id("dwell_time"), hours(24)}), v), 360);
  EXPECT_EQ(eval(call("velocity", {id("share"), hours(1)}), v), -3);
  EXPECT_EQ(eval(call("prev_count", {id("share"), hours(24)}), v), 9);
}

TEST_F(ProfileTest, FeaturesAreListedOnceInFirstUseOrder) {
  const Program p = compile_ok(
      bin(ExprOp::kAdd,
          bin(ExprOp::kMul, call("count", {id("view"), hours(24)}), call("decay", {id("like")})),
          bin(ExprOp::kAdd, id("like"), call("count", {id("view"), hours(24)}))));
  ASSERT_EQ(p.features().size(), 2u);
  const auto view = schema_.find_signal("view");
  const auto like = schema_.find_signal("like");
  EXPECT_EQ(p.features()[0],
            (FeatureRef{.kind = FeatureKind::kCount, .signal = view->id, .window = 1}));
  EXPECT_EQ(p.features()[1], (FeatureRef{.kind = FeatureKind::kDecay, .signal = like->id}));
}

TEST_F(ProfileTest, AttributesByIdentifier) {
  EXPECT_EQ(eval(id("duration"), {{"attr:duration", 42}}), 42);
  EXPECT_EQ(eval(id("premium"), {{"attr:premium", 1}}), 1);
  EXPECT_EQ(eval(id("published"), {{"attr:published", 1.6e9}}), 1.6e9);
  // A missing value reads as 0: the executor's column holds 0 for it.
  EXPECT_EQ(eval(id("quality")), 0);
  const Program p = compile_ok(id("quality"));
  ASSERT_EQ(p.features().size(), 1u);
  EXPECT_EQ(p.features()[0].kind, FeatureKind::kAttribute);
  EXPECT_EQ(p.features()[0].attribute, schema_.find_attribute(EntityKind::kItem, "quality")->id);
}

TEST_F(ProfileTest, RateIsLaplaceSmoothed) {
  // rate(a, b) = (a + 1) / (b + 2)
  EXPECT_EQ(eval(call("rate", {id("completion"), id("view")})), 0.5);
  EXPECT_DOUBLE_EQ(eval(call("rate", {id("completion"), id("view")}),
                        {{"decay:completion", 3}, {"decay:view", 10}}),
                   4.0 / 12.0);
  EXPECT_DOUBLE_EQ(eval(call("rate", {call("count", {id("completion"), hours(24)}),
                                      call("count", {id("view"), hours(24)})}),
                        {{"count:completion:24h", 50}, {"count:view:24h", 100}}),
                   51.0 / 102.0);
  // rate(a, b, prior, weight) = (a + prior·weight) / (b + weight)
  EXPECT_DOUBLE_EQ(eval(call("rate", {id("completion"), id("view"), num(0.1), num(20)}),
                        {{"decay:completion", 3}, {"decay:view", 10}}),
                   5.0 / 30.0);
  EXPECT_EQ(eval(call("rate", {num(1), num(0), num(0.3), num(0)})), 0);  // b + weight = 0
  EXPECT_EQ(eval(call("rate", {num(1), num(-2)})), 0);
}

TEST_F(ProfileTest, WilsonLowerBound) {
  auto w = [&](double pos, double total) {
    return eval(call("wilson", {id("like"), id("view")}),
                {{"decay:like", pos}, {"decay:view", total}});
  };
  // Hand-computed with z = 1.96.
  EXPECT_NEAR(w(5, 10), 0.236590, 1e-6);
  EXPECT_NEAR(w(10, 10), 0.722460, 1e-6);
  EXPECT_NEAR(w(81, 100), 0.722210, 1e-6);
  EXPECT_NEAR(w(0, 10), 0.0, 1e-12);
  EXPECT_EQ(w(0, 0), 0);
  EXPECT_EQ(w(3, 0), 0);
  EXPECT_EQ(w(3, -1), 0);
  EXPECT_NEAR(w(20, 10), w(10, 10), 1e-15);                              // p is clamped to [0, 1]
  EXPECT_NEAR(eval(call("wilson", {num(5), num(10)})), 0.236590, 1e-6);  // folded
}

TEST_F(ProfileTest, FreshnessHalvesEveryHalfLife) {
  const Expr e = call("freshness", {hours(6)});
  EXPECT_EQ(eval(e, {{"created_at", kNow}}), 1);
  EXPECT_DOUBLE_EQ(eval(e, {{"created_at", kNow - 6 * 3600}}), 0.5);
  EXPECT_DOUBLE_EQ(eval(e, {{"created_at", kNow - 12 * 3600}}), 0.25);
  EXPECT_DOUBLE_EQ(eval(e, {{"created_at", kNow - 3 * 3600}}), std::sqrt(0.5));
  EXPECT_EQ(eval(e, {{"created_at", kNow + 3600}}), 1);  // from the future: age 0
}

TEST_F(ProfileTest, AgeAndCreatedAt) {
  EXPECT_EQ(eval(id("age"), {{"created_at", kNow - 90}}), 90);
  EXPECT_EQ(eval(id("age"), {{"created_at", kNow + 90}}), 0);
  EXPECT_EQ(eval(id("created_at"), {{"created_at", 123}}), 123);
  EXPECT_EQ(eval(bin(ExprOp::kLt, id("age"), hours(1)), {{"created_at", kNow - 3599}}), 1);
  EXPECT_EQ(eval(bin(ExprOp::kLt, id("age"), hours(1)), {{"created_at", kNow - 3600}}), 0);
}

TEST_F(ProfileTest, DesignExample) {
  // 0.5*log1p(decay(like)) + 0.3*rate(completion, view) + 0.2*freshness(6h)
  const Expr e = bin(
      ExprOp::kAdd,
      bin(ExprOp::kAdd, bin(ExprOp::kMul, num(0.5), call("log1p", {call("decay", {id("like")})})),
          bin(ExprOp::kMul, num(0.3), call("rate", {id("completion"), id("view")}))),
      bin(ExprOp::kMul, num(0.2), call("freshness", {hours(6)})));
  const double got = eval(e, {{"decay:like", 9},
                              {"decay:completion", 4},
                              {"decay:view", 8},
                              {"created_at", kNow - 6 * 3600}});
  EXPECT_DOUBLE_EQ(got, 0.5 * std::log(10.0) + 0.3 * 0.5 + 0.2 * 0.5);
  EXPECT_EQ(compile_ok(e).features().size(), 4u);
}

// --- constant folding ----------------------------------------------------------

TEST_F(ProfileTest, ConstantsFoldAtCompileTime) {
  const Program p = compile_ok(bin(ExprOp::kMul, bin(ExprOp::kAdd, num(1), num(2)),
                                   call("sqrt", {call("pow", {num(2), num(4)})})));
  EXPECT_TRUE(p.is_constant());
  EXPECT_EQ(p.constant_value(), 12);
  EXPECT_EQ(p.instruction_count(), 1u);  // the copy to the output
  EXPECT_TRUE(p.features().empty());
  EXPECT_EQ(eval(bin(ExprOp::kDiv, num(1), num(0))), 0);

  // A constant sub-tree folds inside a non-constant expression: one multiply.
  const Program q =
      compile_ok(bin(ExprOp::kMul, id("duration"), bin(ExprOp::kAdd, num(0.25), num(0.25))));
  EXPECT_FALSE(q.is_constant());
  EXPECT_EQ(q.instruction_count(), 1u);
  EXPECT_EQ(q.disassemble(), "out = mul f0 0.5\n");
}

TEST_F(ProfileTest, IfWithConstantConditionKeepsOneBranch) {
  const Program p = compile_ok(
      iff(bin(ExprOp::kGt, num(2), num(1)), id("duration"), call("decay", {id("like")})));
  ASSERT_EQ(p.features().size(), 1u);  // decay(like) is never read
  EXPECT_EQ(p.features()[0].kind, FeatureKind::kAttribute);
  EXPECT_EQ(eval(iff(num(0), num(1), num(2))), 2);
}

// --- batches -----------------------------------------------------------------

TEST_F(ProfileTest, BatchesSpanChunks) {
  const Expr e = bin(ExprOp::kAdd, call("log1p", {id("like")}),
                     iff(bin(ExprOp::kGt, id("duration"), num(1000)), num(1), id("quality")));
  const Program p = compile_ok(e);
  ASSERT_EQ(p.features().size(), 3u);
  const size_t n = 2 * kEvalBatch + 37;
  std::vector<std::vector<double>> data(3, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    data[0][i] = static_cast<double>(i);
    data[1][i] = static_cast<double>(i % 2000);
    data[2][i] = 0.5 * static_cast<double>(i);
  }
  const std::vector<const double*> cols = {data[0].data(), data[1].data(), data[2].data()};
  std::vector<double> out(n);
  Evaluator ev(p);
  ev.evaluate(FeatureColumns{cols}, n, kNow, out.data());
  for (size_t i = 0; i < n; ++i) {
    const double want = std::log1p(data[0][i]) + (data[1][i] > 1000 ? 1 : data[2][i]);
    ASSERT_EQ(out[i], want) << i;
  }
  ev.evaluate(FeatureColumns{cols}, 0, kNow, out.data());  // nothing to do
}

// --- compile errors ----------------------------------------------------------

TEST_F(ProfileTest, ErrorsNameThePositionAndRule) {
  const Status s = compile_error(bin(ExprOp::kAdd, num(1), at(call("nosuch", {num(1)}), 3, 7)));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.subsystem(), Subsystem::kQuery);
  EXPECT_EQ(s.field(), "profile@3:7");
  EXPECT_THAT(s.message(), HasSubstr("nosuch"));
  EXPECT_THAT(s.message(), HasSubstr("unknown function"));
}

TEST_F(ProfileTest, UnknownNames) {
  EXPECT_THAT(compile_error(call("decay", {at(id("clap"), 1, 7)})).message(),
              HasSubstr("unknown signal type"));
  EXPECT_EQ(compile_error(call("decay", {at(id("clap"), 1, 7)})).field(), "profile@1:7");
  EXPECT_THAT(compile_error(id("nothing")).message(), HasSubstr("unknown name"));
  EXPECT_THAT(compile_error(call("count", {id("view"), hours(2)})).message(),
              HasSubstr("no such window; it counts 1h, 1d, 7d"));
  EXPECT_THAT(compile_error(call("velocity", {id("skip"), hours(24)})).message(),
              HasSubstr("velocity"));
  EXPECT_THAT(compile_error(call("prev_count", {id("completion"), hours(24)})).message(),
              HasSubstr("velocity"));
}

TEST_F(ProfileTest, WrongArity) {
  EXPECT_THAT(compile_error(call("log1p", {})).message(), HasSubstr("log1p(x)"));
  EXPECT_THAT(compile_error(call("decay", {id("like"), id("view")})).message(),
              HasSubstr("wrong number of arguments"));
  EXPECT_THAT(compile_error(call("rate", {num(1), num(2), num(3)})).message(),
              HasSubstr("rate(a, b) or rate(a, b, prior, weight)"));
  EXPECT_THAT(compile_error(call("min", {num(1)})).message(), HasSubstr("min(x, y, ...)"));
  EXPECT_THAT(compile_error(call("clamp", {num(1), num(2)})).message(), HasSubstr("clamp"));
  EXPECT_THAT(compile_error(call("wilson", {num(1)})).message(), HasSubstr("wilson"));
  EXPECT_THAT(compile_error(call("freshness", {})).message(), HasSubstr("freshness"));
  EXPECT_THAT(compile_error(call("count", {id("view")})).message(), HasSubstr("count"));
}

TEST_F(ProfileTest, WrongArgumentKinds) {
  EXPECT_THAT(compile_error(call("count", {num(1), hours(24)})).message(),
              HasSubstr("must be a signal type name"));
  EXPECT_THAT(compile_error(call("count", {id("view"), num(24)})).message(),
              HasSubstr("window must be a duration"));
  EXPECT_THAT(compile_error(call("freshness", {num(6)})).message(), HasSubstr("positive duration"));
  EXPECT_THAT(compile_error(call("freshness", {dur(Duration(0))})).message(),
              HasSubstr("positive duration"));
  EXPECT_THAT(compile_error(call("sum", {id("view"), hours(24)})).message(),
              HasSubstr("value_kind is sum"));
  EXPECT_THAT(compile_error(call("count", {id("dwell_time"), hours(24)})).message(),
              HasSubstr("value_kind is count"));
  EXPECT_THAT(compile_error(id("category")).message(), HasSubstr("keyword is not a number"));
  EXPECT_THAT(compile_error(id("tags")).message(), HasSubstr("not a number"));
  EXPECT_THAT(compile_error(bin(ExprOp::kAdd, str("x"), num(1))).message(),
              HasSubstr("a string is not a number"));
  EXPECT_THAT(compile_error(list({num(1)})).message(), HasSubstr("only follow IN"));
  EXPECT_THAT(compile_error(un(ExprOp::kExists, id("duration"))).message(), HasSubstr("EXISTS"));
  EXPECT_THAT(compile_error(bin(ExprOp::kIn, id("duration"), id("tags"))).message(),
              HasSubstr("IN takes"));
  EXPECT_THAT(compile_error(bin(ExprOp::kIn, id("duration"), list({str("a")}))).message(),
              HasSubstr("a string is not a number"));
}

TEST_F(ProfileTest, DepthLimit) {
  Expr e = id("duration");
  for (size_t i = 1; i < kMaxExprDepth; ++i) e = un(ExprOp::kNeg, std::move(e));
  EXPECT_TRUE(compile_expr(e).ok());  // exactly 64 deep
  e = un(ExprOp::kNeg, std::move(e));
  EXPECT_THAT(compile_error(e).message(), HasSubstr("at most 64 deep"));
}

TEST_F(ProfileTest, InstructionLimit) {
  std::vector<Expr> ages(kMaxInstructions + 1, id("age"));
  EXPECT_THAT(compile_error(call("max", std::move(ages))).message(), HasSubstr("at most 4096"));
}

TEST_F(ProfileTest, FeatureLimit) {
  SchemaBuilder b;
  std::vector<Expr> attrs;
  for (size_t i = 0; i <= kMaxFeatures; ++i) {
    const std::string name = "a" + std::to_string(i);
    b.add_attribute(EntityKind::kItem, {.name = name, .type = AttributeType::kFloat});
    attrs.push_back(id(name));
  }
  const Schema wide = b.build().value();
  auto p = compile(call("max", std::move(attrs)), CompileContext{&wide});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("at most 256"));
}

TEST_F(ProfileTest, NoSchemaIsAnInternalError) {
  EXPECT_EQ(compile(num(1), CompileContext{}).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace tidal::ranking

namespace tidal::ranking {
namespace {

// gaussian(seed): fixed per (seed, item), and standard normal over items.
TEST(GaussianDraw, IsDeterministicAndStandardNormal) {
  EXPECT_EQ(gaussian_draw(7, 123), gaussian_draw(7, 123));
  EXPECT_NE(gaussian_draw(7, 123), gaussian_draw(8, 123));
  constexpr uint32_t kN = 400000;
  double sum = 0, sum_sq = 0;
  uint32_t below_196 = 0, below_minus_1 = 0, beyond_4 = 0;
  for (uint32_t i = 0; i < kN; ++i) {
    const double z = gaussian_draw(42, i);
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum_sq += z * z;
    below_196 += z < 1.959963984540054;
    below_minus_1 += z < -1;
    beyond_4 += std::fabs(z) > 4;
  }
  const double mean = sum / kN;
  EXPECT_NEAR(mean, 0, 0.01);
  EXPECT_NEAR(sum_sq / kN - mean * mean, 1, 0.01);
  EXPECT_NEAR(static_cast<double>(below_196) / kN, 0.975, 0.0015);
  EXPECT_NEAR(static_cast<double>(below_minus_1) / kN, 0.158655, 0.0025);
  EXPECT_LT(beyond_4, 60u);  // P(|z| > 4) = 6.3e-5: about 25
}

}  // namespace
}  // namespace tidal::ranking
