// profile_bench: ranking-profile evaluation, candidate scores per second on
// one core (issue 6: target >= 20M/s), for three profiles:
//   design  — docs/profiles.md's example (`engaging`), 0.5*log1p(decay(like))
//             + 0.3*rate(completion, view) + 0.2*freshness(6h)
//   big     — if/min/max/pow/clamp/wilson/sqrt over eight features
//   trivial — decay(like)
// Each is run compiled (Evaluator over feature columns, kEvalBatch candidates
// per chunk) and through the naive tree-walking reference interpreter
// (ranking/reference_interpreter.h) on the same candidates; the ratio is
// printed. Candidate sets of 10k (columns in cache, as a query's candidates
// are) and, in full mode, 1M (columns streamed from memory).
//
//   profile_bench [--quick | --smoke]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../tests/support/profile_exprs.h"
#include "ranking/profile.h"
#include "ranking/reference_interpreter.h"
#include "support/bench_report.h"

namespace tidal::bench {
namespace {

using namespace tidal::profile_test;  // NOLINT(google-build-using-namespace)
using ranking::Evaluator;
using ranking::FeatureColumns;
using ranking::FeatureKind;
using ranking::FeatureRef;
using ranking::Program;

constexpr const char* kBench = "profile_bench";
constexpr double kTargetScoresPerSecond = 20e6;
constexpr double kNow = 1.7e9;
constexpr uint64_t kSeed = 1;

[[noreturn]] void die(const std::string& what) {
  bench_fail("profile_bench", what);
}

struct NamedProfile {
  const char* name;
  Expr expr;
};

Expr add(Expr a, Expr b) {
  return bin(ExprOp::kAdd, std::move(a), std::move(b));
}
Expr mul(Expr a, Expr b) {
  return bin(ExprOp::kMul, std::move(a), std::move(b));
}

std::vector<NamedProfile> profiles() {
  // 0.5*log1p(decay(like)) + 0.3*rate(completion, view) + 0.2*freshness(6h)
  Expr design = add(add(mul(num(0.5), call("log1p", {call("decay", {id("like")})})),
                        mul(num(0.3), call("rate", {id("completion"), id("view")}))),
                    mul(num(0.2), call("freshness", {hours(6)})));
  // if(premium, 1.2, 1) * (0.4*wilson(like, view)
  //   + 0.2*min(1, pow(max(velocity(share, 1h), 0) / 100, 0.5))
  //   + 0.2*max(log1p(count(view, 24h)) / 10, rate(completion, view, 0.3, 20))
  //   + 0.2*clamp(freshness(24h) - 0.1, 0, 1))
  //   - if(age > 7d AND quality < 0.5, 0.5, 0) + sqrt(sum(dwell_time, 24h)) / 1000
  Expr big = bin(
      ExprOp::kSub,
      mul(iff(id("premium"), num(1.2), num(1)),
          add(add(mul(num(0.4), call("wilson", {id("like"), id("view")})),
                  mul(num(0.2),
                      call("min",
                           {num(1),
                            call("pow", {bin(ExprOp::kDiv,
                                             call("max", {call("velocity", {id("share"), hours(1)}),
                                                          num(0)}),
                                             num(100)),
                                         num(0.5)})}))),
              add(mul(num(0.2),
                      call("max",
                           {bin(ExprOp::kDiv,
                                call("log1p", {call("count", {id("view"), hours(24)})}), num(10)),
                            call("rate", {id("completion"), id("view"), num(0.3), num(20)})})),
                  mul(num(0.2),
                      call("clamp", {bin(ExprOp::kSub, call("freshness", {hours(24)}), num(0.1)),
                                     num(0), num(1)}))))),
      add(iff(bin(ExprOp::kAnd, bin(ExprOp::kGt, id("age"), hours(24 * 7)),
                  bin(ExprOp::kLt, id("quality"), num(0.5))),
              num(0.5), num(0)),
          bin(ExprOp::kDiv, call("sqrt", {call("sum", {id("dwell_time"), hours(24)})}),
              num(1000))));
  std::vector<NamedProfile> out;
  out.push_back({"design", std::move(design)});
  out.push_back({"big", std::move(big)});
  out.push_back({"trivial", call("decay", {id("like")})});
  return out;
}

// Plausible feature values: counts and decayed scores of a long-tailed
// catalogue, created_at within the last two weeks, premium one in five.
std::vector<std::vector<double>> make_columns(const Program& p, size_t n, std::mt19937_64& rng) {
  std::exponential_distribution<double> counts(1.0 / 50);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::vector<double>> cols(p.features().size(), std::vector<double>(n));
  for (size_t f = 0; f < cols.size(); ++f) {
    const FeatureRef& ref = p.features()[f];
    for (double& v : cols[f]) {
      switch (ref.kind) {
        case FeatureKind::kCreatedAt: v = kNow - unit(rng) * 14 * 86400; break;
        case FeatureKind::kAttribute: v = unit(rng) < 0.2 ? 1 : unit(rng); break;
        case FeatureKind::kVelocity: v = counts(rng) - 50; break;
        default: v = counts(rng); break;
      }
    }
  }
  return cols;
}

struct Figures {
  double compiled = 0;  // scores/s
  double naive = 0;     // scores/s
  size_t instructions = 0;
  size_t features = 0;
};

Figures measure(const NamedProfile& prof, const Schema& schema, size_t n, double budget_s) {
  auto compiled = ranking::compile(prof.expr, ranking::CompileContext{&schema});
  if (!compiled.ok()) die(std::string(prof.name) + ": " + compiled.status().to_string());
  const Program& p = *compiled;
  std::mt19937_64 rng(kSeed);
  const auto data = make_columns(p, n, rng);
  std::vector<const double*> cols;
  for (const auto& c : data) cols.push_back(c.data());
  std::vector<double> out(n);
  Evaluator ev(p);

  Figures fig{.instructions = p.instruction_count(), .features = p.features().size()};
  ev.evaluate(FeatureColumns{cols}, n, kNow, out.data());  // warm-up
  size_t scored = 0;
  const double t0 = now_seconds();
  double t = t0;
  while (t - t0 < budget_s) {
    ev.evaluate(FeatureColumns{cols}, n, kNow, out.data());
    scored += n;
    t = now_seconds();
  }
  fig.compiled = static_cast<double>(scored) / (t - t0);

  // The reference interpreter on the same candidates; it must agree.
  size_t i = 0;
  const ranking::FeatureLookup lookup = [&](const FeatureRef& ref) {
    for (size_t f = 0; f < p.features().size(); ++f) {
      if (p.features()[f] == ref) return data[f][i];
    }
    return 0.0;
  };
  scored = 0;
  const double n0 = now_seconds();
  t = n0;
  while (t - n0 < budget_s / 2) {
    for (i = 0; i < std::min<size_t>(n, 4096); ++i) {
      const double want = ranking::interpret(prof.expr, schema, lookup, kNow);
      if (std::fabs(want - out[i]) > 1e-9 * std::max(1.0, std::fabs(want))) {
        die(std::string(prof.name) + ": compiled and reference scores differ at candidate " +
            std::to_string(i));
      }
    }
    scored += i;
    t = now_seconds();
  }
  fig.naive = static_cast<double>(scored) / (t - n0);
  return fig;
}

int run_main(int argc, char** argv) {
  BenchArgs args =
      parse_bench_args(argc, argv,
                       "profile_bench [--quick | --smoke]\n"
                       "  Ranking-profile evaluation, candidate scores/s on one core.\n"
                       "  --quick: 0.3 s per figure; default: 3 s, plus 1M candidates.");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const Schema schema = profile_schema();
  const double budget = args.sized(3.0, 0.3, 0.02);
  std::vector<size_t> sizes = {10000};
  if (!args.quick) sizes.push_back(1000000);
  std::printf("profile_bench%s: one thread, %.1f s per figure, load %.2f\n",
              args.quick ? " --quick" : "", budget, host_load());

  BenchReport report(kBench);
  for (const NamedProfile& prof : profiles()) {
    for (size_t n : sizes) {
      const Figures f = measure(prof, schema, n, budget);
      const std::string suffix = n == 10000 ? "" : "_1m";
      const std::string shape = std::to_string(f.instructions) + " instructions, " +
                                std::to_string(f.features) + " features, " + std::to_string(n) +
                                " candidates";
      report.add(std::string(prof.name) + suffix + "_compiled", f.compiled, "scores/s",
                 shape + "; " + meets(f.compiled >= kTargetScoresPerSecond, ">= 20M/s"));
      report.add(std::string(prof.name) + suffix + "_naive", f.naive, "scores/s",
                 "tree-walking reference interpreter");
      report.add(std::string(prof.name) + suffix + "_speedup", f.compiled / f.naive, "x",
                 "compiled / naive");
    }
  }
  report.add("host_load", host_load(), "load", "1-minute load average after the run");
  report.print();
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run_main(argc, argv);
}
