#include "ranking/reference_interpreter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

namespace tidal::ranking {
namespace {

using expr::Expr;
using expr::ExprKind;
using expr::ExprOp;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_true(double x) {
  return x != 0 && !std::isnan(x);
}

double seconds(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

class Walker {
 public:
  Walker(const Schema& schema, const FeatureLookup& lookup, double now)
      : schema_(schema), lookup_(lookup), now_(now) {}

  double eval(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kNumber:
      case ExprKind::kBool: return e.number;
      case ExprKind::kDuration: return seconds(e.duration);
      case ExprKind::kIdentifier: return name(e.text);
      case ExprKind::kIf: return is_true(eval(e.args[0])) ? eval(e.args[1]) : eval(e.args[2]);
      case ExprKind::kUnary:
        if (e.op == ExprOp::kNeg) return -eval(e.args[0]);
        if (e.op == ExprOp::kNot) return is_true(eval(e.args[0])) ? 0 : 1;
        return kNaN;
      case ExprKind::kBinary: return binary(e);
      case ExprKind::kCall: return call(e);
      case ExprKind::kString:
      case ExprKind::kList: return kNaN;
    }
    return kNaN;
  }

 private:
  double name(const std::string& n) {
    if (n == "bm25") return lookup_({.kind = FeatureKind::kBm25});
    if (n == "hybrid") return lookup_({.kind = FeatureKind::kHybrid});
    if (n == "age") return age();
    if (n == "created_at") return created_at();
    if (const AttributeDefinition* a = schema_.find_attribute(EntityKind::kItem, n)) {
      return lookup_({.kind = FeatureKind::kAttribute, .attribute = a->id});
    }
    if (const SignalTypeDefinition* s = schema_.find_signal(n)) {
      return lookup_({.kind = FeatureKind::kDecay, .signal = s->id});
    }
    if (n == "co_engagement") return lookup_({.kind = FeatureKind::kCoEngagement});
    if (n == "creator_affinity") return lookup_({.kind = FeatureKind::kAffinity});
    if (n == "followed") return lookup_({.kind = FeatureKind::kFollowed});
    if (n == "seen") return lookup_({.kind = FeatureKind::kSeen});
    if (n == "served") return lookup_({.kind = FeatureKind::kServed});
    if (n == "preference") return preference("");
    return kNaN;
  }

  // The preference feature of item vector attribute `slot` ("": the only one).
  double preference(const std::string& slot) {
    const AttributeDefinition* found = nullptr;
    size_t vectors = 0;
    for (const AttributeDefinition& a : schema_.attributes(EntityKind::kItem)) {
      if (a.type != AttributeType::kVector) continue;
      ++vectors;
      if (slot.empty() || a.name == slot) found = &a;
    }
    if (found == nullptr || (slot.empty() && vectors != 1)) return kNaN;
    return lookup_({.kind = FeatureKind::kPreference, .attribute = found->id});
  }

  double created_at() { return lookup_({.kind = FeatureKind::kCreatedAt}); }
  // Never negative: 0 for a created_at in the future (or NaN).
  double age() {
    const double a = now_ - created_at();
    return a > 0 ? a : 0;
  }

  double binary(const Expr& e) {
    if (e.op == ExprOp::kBetween) {
      const double x = eval(e.args[0]);
      return (x >= eval(e.args[1]) && x <= eval(e.args[2])) ? 1 : 0;
    }
    if (e.op == ExprOp::kIn) {
      const double x = eval(e.args[0]);
      for (const Expr& v : e.args[1].args) {
        if (x == eval(v)) return 1;
      }
      return 0;
    }
    const double a = eval(e.args[0]);
    const double b = eval(e.args[1]);
    switch (e.op) {
      case ExprOp::kAdd: return a + b;
      case ExprOp::kSub: return a - b;
      case ExprOp::kMul: return a * b;
      case ExprOp::kDiv: return b == 0 ? 0 : a / b;
      case ExprOp::kLt: return a < b ? 1 : 0;
      case ExprOp::kLe: return a <= b ? 1 : 0;
      case ExprOp::kGt: return a > b ? 1 : 0;
      case ExprOp::kGe: return a >= b ? 1 : 0;
      case ExprOp::kEq: return a == b ? 1 : 0;
      case ExprOp::kNe: return a != b ? 1 : 0;
      case ExprOp::kAnd: return is_true(a) && is_true(b) ? 1 : 0;
      case ExprOp::kOr: return is_true(a) || is_true(b) ? 1 : 0;
      default: return kNaN;
    }
  }

  size_t window_index(const SignalTypeDefinition& s, Duration w) {
    return static_cast<size_t>(std::find(s.windows.begin(), s.windows.end(), w) -
                               s.windows.begin());
  }

  double call(const Expr& e) {
    std::string fn = e.text;
    for (char& c : fn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto& args = e.args;
    if (fn == "preference" && args.size() == 1) return preference(args[0].text);
    if (fn == "similarity" && args.size() == 1 && args[0].text == "preference" &&
        schema_.find_attribute(EntityKind::kItem, "preference") == nullptr) {
      return preference("");
    }
    if (fn == "similarity") {
      for (EntityKind k : kEntityKinds) {
        const AttributeDefinition* a = schema_.find_attribute(k, args[0].text);
        if (a != nullptr && a->type == AttributeType::kVector) {
          return lookup_({.kind = FeatureKind::kSimilarity, .attribute = a->id});
        }
      }
      return kNaN;
    }
    // A trailing `cohort = <name>` (all: every user) scopes a signal feature.
    std::string scope;
    if (!args.empty() && is_scope_argument(args.back())) scope = scope_of(args.back());
    if (fn == "decay") {
      return lookup_({.kind = FeatureKind::kDecay,
                      .signal = schema_.find_signal(args[0].text)->id,
                      .scope = scope});
    }
    if (fn == "count" || fn == "sum" || fn == "velocity" || fn == "prev_count") {
      const SignalTypeDefinition* s = schema_.find_signal(args[0].text);
      const FeatureKind k = fn == "count"      ? FeatureKind::kCount
                            : fn == "sum"      ? FeatureKind::kSum
                            : fn == "velocity" ? FeatureKind::kVelocity
                                               : FeatureKind::kPrevCount;
      return lookup_({.kind = k,
                      .signal = s->id,
                      .window = static_cast<uint8_t>(window_index(*s, args[1].duration)),
                      .scope = scope});
    }
    if (fn == "gaussian") {
      return lookup_(
          {.kind = FeatureKind::kGaussian, .seed = static_cast<uint64_t>(args[0].number)});
    }
    if (fn == "freshness") {
      return std::exp2(-age() / seconds(args[0].duration));
    }
    if (fn == "if") return is_true(eval(args[0])) ? eval(args[1]) : eval(args[2]);
    std::vector<double> v;
    for (const Expr& a : args) v.push_back(eval(a));
    if (fn == "rate") {
      if (v.size() == 4) {
        const double den = v[1] + v[3];
        return den == 0 ? 0 : (v[0] + v[2] * v[3]) / den;
      }
      return v[1] + 2 == 0 ? 0 : (v[0] + 1) / (v[1] + 2);
    }
    if (fn == "wilson") return wilson(v[0], v[1]);
    if (fn == "log1p") return v[0] > -1 ? std::log1p(v[0]) : 0;
    if (fn == "log") return v[0] > 0 ? std::log(v[0]) : 0;
    if (fn == "sqrt") return v[0] >= 0 ? std::sqrt(v[0]) : 0;
    if (fn == "exp") return std::exp(v[0]);
    if (fn == "abs") return std::fabs(v[0]);
    if (fn == "pow") {
      const double r = std::pow(v[0], v[1]);
      return std::isnan(r) ? 0 : r;
    }
    if (fn == "min" || fn == "max") {
      double acc = v[0];
      for (size_t i = 1; i < v.size(); ++i) {
        const bool take = fn == "min" ? v[i] < acc : v[i] > acc;
        if (take) acc = v[i];
      }
      return acc;
    }
    if (fn == "clamp") {
      double x = v[1] > v[0] ? v[1] : v[0];
      return v[2] < x ? v[2] : x;
    }
    return kNaN;
  }

  // Wilson (1927): the lower end of the score interval for n trials with
  // observed proportion p, n = total.
  static double wilson(double pos, double n) {
    double p = pos / n;
    if (p < 0) p = 0;
    if (p > 1) p = 1;
    if (!(n > 0) || !(p > 0)) return 0;
    const double z = 1.96;
    const double lower =
        (p + z * z / (2 * n) - z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) /
        (1 + z * z / n);
    return lower > 0 ? lower : 0;
  }

  const Schema& schema_;
  const FeatureLookup& lookup_;
  const double now_;
};

}  // namespace

double interpret(const Expr& e, const Schema& schema, const FeatureLookup& lookup,
                 double now_seconds) {
  return Walker(schema, lookup, now_seconds).eval(e);
}

}  // namespace tidal::ranking
