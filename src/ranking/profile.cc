// The profile compiler: expr::Expr → resolved, constant-folded tree (Node)
// → register bytecode (Program).
#include "ranking/profile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "core/duration.h"

namespace tidal::ranking {

using expr::Expr;
using expr::ExprKind;
using expr::ExprOp;

std::string_view feature_kind_name(FeatureKind k) {
  switch (k) {
    case FeatureKind::kDecay: return "decay";
    case FeatureKind::kCount: return "count";
    case FeatureKind::kSum: return "sum";
    case FeatureKind::kVelocity: return "velocity";
    case FeatureKind::kPrevCount: return "prev_count";
    case FeatureKind::kGaussian: return "gaussian";
    case FeatureKind::kAttribute: return "attribute";
    case FeatureKind::kCreatedAt: return "created_at";
    case FeatureKind::kBm25: return "bm25";
    case FeatureKind::kSimilarity: return "similarity";
    case FeatureKind::kHybrid: return "hybrid";
    case FeatureKind::kCoEngagement: return "co_engagement";
    case FeatureKind::kPreference: return "preference";
    case FeatureKind::kAffinity: return "creator_affinity";
    case FeatureKind::kFollowed: return "followed";
    case FeatureKind::kSeen: return "seen";
    case FeatureKind::kServed: return "served";
  }
  return "unknown";
}

std::string_view op_name(Op op) {
  static constexpr std::array<std::string_view, 27> kNames = {
      "add", "sub", "mul",   "div",  "lt",  "le",   "gt",     "ge",        "eq",
      "ne",  "and", "or",    "min",  "max", "pow",  "wilson", "neg",       "not",
      "abs", "log", "log1p", "sqrt", "exp", "copy", "age",    "freshness", "select"};
  const auto i = static_cast<size_t>(op);
  return i < kNames.size() ? kNames[i] : "unknown";
}

namespace {

// Horner's rule for the degree-7 polynomials of normal_quantile.
double poly7(const double (&c)[8], double x) {
  double v = c[7];
  for (int i = 6; i >= 0; --i) v = v * x + c[i];
  return v;
}

// The standard normal quantile Φ⁻¹(p), 0 < p < 1: Wichura's rational
// approximations (Applied Statistics algorithm AS 241, 1988; about 16
// significant digits). The central 85% of p needs no log or sqrt.
double normal_quantile(double p) {
  static constexpr double kA[8] = {3.3871328727963666080e0, 1.3314166789178437745e2,
                                   1.9715909503065514427e3, 1.3731693765509461125e4,
                                   4.5921953931549871457e4, 6.7265770927008700853e4,
                                   3.3430575583588128105e4, 2.5090809287301226727e3};
  static constexpr double kB[8] = {1.0,
                                   4.2313330701600911252e1,
                                   6.8718700749205790830e2,
                                   5.3941960214247511077e3,
                                   2.1213794301586595867e4,
                                   3.9307895800092710610e4,
                                   2.8729085735721942674e4,
                                   5.2264952788528545610e3};
  static constexpr double kC[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                   5.76949722146069140550e0,  3.64784832476320460504e0,
                                   1.27045825245236838258e0,  2.41780725177450611770e-1,
                                   2.27238449892691845833e-2, 7.74545014278341407640e-4};
  static constexpr double kD[8] = {1.0,
                                   2.05319162663775882187e0,
                                   1.67638483018380384940e0,
                                   6.89767334985100004550e-1,
                                   1.48103976427480074590e-1,
                                   1.51986665636164571966e-2,
                                   5.47593808499534494600e-4,
                                   1.05075007164441684324e-9};
  static constexpr double kE[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                   1.78482653991729133580e0,  2.96560571828504891230e-1,
                                   2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                   2.71155556874348757815e-5, 2.01033439929228813265e-7};
  static constexpr double kF[8] = {1.0,
                                   5.99832206555887937690e-1,
                                   1.36929880922735805310e-1,
                                   1.48753612908506148525e-2,
                                   7.86869131145613259100e-4,
                                   1.84631831751005468180e-5,
                                   1.42151175831644588870e-7,
                                   2.04426310338993978564e-15};
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * poly7(kA, r) / poly7(kB, r);
  }
  double r = std::sqrt(-std::log(q < 0 ? p : 1.0 - p));
  double z;
  if (r <= 5.0) {
    r -= 1.6;
    z = poly7(kC, r) / poly7(kD, r);
  } else {
    r -= 5.0;
    z = poly7(kE, r) / poly7(kF, r);
  }
  return q < 0 ? -z : z;
}

}  // namespace

double gaussian_draw(uint64_t seed, uint32_t item) {
  uint64_t x = seed * 0x100000001b3ULL ^ item;
  x += 0x9e3779b97f4a7c15ULL;  // SplitMix64
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  // A uniform in (0, 1) from the top 53 bits (never 0 or 1), through the
  // normal quantile: inverse-transform sampling.
  const double u = (static_cast<double>(x >> 11) + 0.5) * 0x1.0p-53;
  return normal_quantile(u);
}

int op_arity(Op op) {
  if (op == Op::kSelect) return 3;
  if (op <= Op::kWilson) return 2;
  return 1;
}

// `cohort = young`, `cohort = 'by_country:US'` or `cohort = all`.
bool is_scope_argument(const Expr& a) {
  return a.kind == ExprKind::kBinary && a.op == ExprOp::kEq && a.args.size() == 2 &&
         a.args[0].kind == ExprKind::kIdentifier &&
         std::equal(a.args[0].text.begin(), a.args[0].text.end(), kScopeArgument.begin(),
                    kScopeArgument.end(), [](char x, char y) {
                      return std::tolower(static_cast<unsigned char>(x)) == y;
                    });
}

std::string scope_of(const Expr& a) {
  const Expr& v = a.args[1];
  if (v.kind == ExprKind::kIdentifier && v.text == kEveryoneName) return std::string(kEveryone);
  return v.text;
}

namespace {
void collect_scopes(const Expr& e, std::vector<std::string>& out) {
  for (const Expr& a : e.args) {
    if (e.kind == ExprKind::kCall && is_scope_argument(a)) {
      if (std::string s = scope_of(a); s != kEveryone && !s.empty()) out.push_back(std::move(s));
    } else {
      collect_scopes(a, out);
    }
  }
}
}  // namespace

std::vector<std::string> scoped_cohorts(const Expr& e) {
  std::vector<std::string> out;
  collect_scopes(e, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// A resolved expression: a constant, a feature, or an op over sub-nodes.
struct Node {
  enum class Kind : uint8_t { kConst, kFeature, kOp };
  Kind kind = Kind::kConst;
  double value = 0;      // kConst
  FeatureRef feature{};  // kFeature
  Op op = Op::kCopy;     // kOp
  double imm = 0;        // kOp: kFreshness's half_life in seconds
  std::vector<Node> kids{};
};

Node constant(double v) {
  return Node{.kind = Node::Kind::kConst, .value = v};
}
Node feature_node(FeatureRef f) {
  return Node{.kind = Node::Kind::kFeature, .feature = f};
}

// Builds an op node, folding it to a constant when every operand is one (and
// an if() whose condition is a constant to the branch it picks).
Node make_op_node(Op op, std::vector<Node> kids, double imm) {
  if (op == Op::kSelect && kids[0].kind == Node::Kind::kConst) {
    return std::move(truthy(kids[0].value) ? kids[1] : kids[2]);
  }
  const bool all_constant = std::all_of(kids.begin(), kids.end(),
                                        [](const Node& n) { return n.kind == Node::Kind::kConst; });
  if (all_constant && op != Op::kAge && op != Op::kFreshness) {
    return constant(apply_op(op, kids[0].value, kids.size() > 1 ? kids[1].value : 0));
  }
  return Node{.kind = Node::Kind::kOp, .op = op, .imm = imm, .kids = std::move(kids)};
}

// make_op(op, a, b, ...): the operands are moved in (an initializer list
// would copy whole sub-trees).
template <typename... Kids>
Node make_op(Op op, Kids&&... kids) {
  std::vector<Node> v;
  v.reserve(sizeof...(kids));
  (v.push_back(std::forward<Kids>(kids)), ...);
  return make_op_node(op, std::move(v), 0);
}
Node make_op(Op op, std::vector<Node> kids) {
  return make_op_node(op, std::move(kids), 0);
}

// freshness: 2^(−age / half_life), imm = half_life seconds.
Node make_freshness(double half_life) {
  return make_op_node(Op::kFreshness, {feature_node({.kind = FeatureKind::kCreatedAt})}, half_life);
}

std::string position(const Expr& e) {
  return "profile@" + std::to_string(e.pos.line) + ":" + std::to_string(e.pos.column);
}

Status error(const Expr& e, std::string_view value, std::string_view rule) {
  return Status::Invalid(Subsystem::kQuery, position(e), value, rule);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double seconds_of(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

bool is_numeric(AttributeType t) {
  return t == AttributeType::kInt || t == AttributeType::kFloat || t == AttributeType::kBool ||
         t == AttributeType::kTimestamp;
}

// What a function's handler does with its arguments.
enum class FunctionKind : uint8_t {
  kDecay,
  kWindowed,  // count, sum, velocity, prev_count
  kRate,
  kWilson,
  kFreshness,
  kMath1,  // log1p, sqrt, exp, log, abs
  kPow,
  kMinMax,  // n-ary
  kClamp,
  kIf,
  kGaussian,
};

struct FunctionSpec {
  std::string_view name;
  FunctionKind kind;
  size_t min_args;
  size_t max_args;
  Op op = Op::kCopy;                          // kMath1, kMinMax
  FeatureKind feature = FeatureKind::kCount;  // kWindowed
  std::string_view signature;                 // for arity errors
};

constexpr size_t kAnyArgs = SIZE_MAX;

// The function registry: adding a function is adding a row (and, for a new
// kind, a case in Resolver::call).
constexpr std::array<FunctionSpec, 19> kFunctions = {{
    {"decay", FunctionKind::kDecay, 1, 1, Op::kCopy, FeatureKind::kDecay, "decay(signal)"},
    {"count", FunctionKind::kWindowed, 2, 2, Op::kCopy, FeatureKind::kCount,
     "count(signal, window)"},
    {"sum", FunctionKind::kWindowed, 2, 2, Op::kCopy, FeatureKind::kSum, "sum(signal, window)"},
    {"velocity", FunctionKind::kWindowed, 2, 2, Op::kCopy, FeatureKind::kVelocity,
     "velocity(signal, window)"},
    {"prev_count", FunctionKind::kWindowed, 2, 2, Op::kCopy, FeatureKind::kPrevCount,
     "prev_count(signal, window)"},
    {"rate", FunctionKind::kRate, 2, 4, Op::kCopy, FeatureKind::kCount,
     "rate(a, b) or rate(a, b, prior, weight)"},
    {"wilson", FunctionKind::kWilson, 2, 2, Op::kCopy, FeatureKind::kCount,
     "wilson(positive, total)"},
    {"freshness", FunctionKind::kFreshness, 1, 1, Op::kCopy, FeatureKind::kCount,
     "freshness(half_life)"},
    {"log1p", FunctionKind::kMath1, 1, 1, Op::kLog1p, FeatureKind::kCount, "log1p(x)"},
    {"log", FunctionKind::kMath1, 1, 1, Op::kLog, FeatureKind::kCount, "log(x)"},
    {"sqrt", FunctionKind::kMath1, 1, 1, Op::kSqrt, FeatureKind::kCount, "sqrt(x)"},
    {"exp", FunctionKind::kMath1, 1, 1, Op::kExp, FeatureKind::kCount, "exp(x)"},
    {"abs", FunctionKind::kMath1, 1, 1, Op::kAbs, FeatureKind::kCount, "abs(x)"},
    {"pow", FunctionKind::kPow, 2, 2, Op::kPow, FeatureKind::kCount, "pow(x, y)"},
    {"min", FunctionKind::kMinMax, 2, kAnyArgs, Op::kMin, FeatureKind::kCount, "min(x, y, ...)"},
    {"max", FunctionKind::kMinMax, 2, kAnyArgs, Op::kMax, FeatureKind::kCount, "max(x, y, ...)"},
    {"clamp", FunctionKind::kClamp, 3, 3, Op::kCopy, FeatureKind::kCount, "clamp(x, lo, hi)"},
    {"if", FunctionKind::kIf, 3, 3, Op::kSelect, FeatureKind::kCount, "if(cond, then, else)"},
    {"gaussian", FunctionKind::kGaussian, 1, 1, Op::kCopy, FeatureKind::kGaussian,
     "gaussian(seed)"},
}};

const FunctionSpec* find_function(std::string_view name) {
  for (const FunctionSpec& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<Op> binary_op(ExprOp op) {
  switch (op) {
    case ExprOp::kAdd: return Op::kAdd;
    case ExprOp::kSub: return Op::kSub;
    case ExprOp::kMul: return Op::kMul;
    case ExprOp::kDiv: return Op::kDiv;
    case ExprOp::kLt: return Op::kLt;
    case ExprOp::kLe: return Op::kLe;
    case ExprOp::kGt: return Op::kGt;
    case ExprOp::kGe: return Op::kGe;
    case ExprOp::kEq: return Op::kEq;
    case ExprOp::kNe: return Op::kNe;
    case ExprOp::kAnd: return Op::kAnd;
    case ExprOp::kOr: return Op::kOr;
    default: return std::nullopt;
  }
}

// Resolves names and checks the rules; produces the folded Node tree.
class Resolver {
 public:
  Resolver(const Schema& schema, EntityKind kind) : schema_(schema), kind_(kind) {}

  Result<Node> node(const Expr& e, size_t depth) {
    if (depth > kMaxExprDepth) {
      return error(e, std::to_string(depth),
                   "expressions may nest at most " + std::to_string(kMaxExprDepth) + " deep");
    }
    switch (e.kind) {
      case ExprKind::kNumber:
      case ExprKind::kBool: return constant(e.number);
      case ExprKind::kDuration: return constant(seconds_of(e.duration));
      case ExprKind::kString:
        return error(e, e.text, "a string is not a number; profiles compute numbers");
      case ExprKind::kList: return error(e, "(...)", "a list may only follow IN");
      case ExprKind::kIdentifier: return identifier(e);
      case ExprKind::kCall: return call(e, depth);
      case ExprKind::kIf: return op_over_args(e, Op::kSelect, 3, depth);
      case ExprKind::kUnary: return unary(e, depth);
      case ExprKind::kBinary: return binary(e, depth);
    }
    return error(e, "?", "unknown expression kind");
  }

 private:
  Result<Node> identifier(const Expr& e) {
    // The relevance of a SEARCH query's text; every kind can be searched.
    if (e.text == "bm25") return feature_node({.kind = FeatureKind::kBm25});
    // The fused rank of a vector query with a QUERY text; every kind.
    if (e.text == "hybrid") return feature_node({.kind = FeatureKind::kHybrid});
    if (kind_ != EntityKind::kItem) {
      const AttributeDefinition* a = schema_.find_attribute(kind_, e.text);
      if (a == nullptr) {
        return error(e, e.text,
                     "unknown name: not an attribute of " +
                         std::string(kind_ == EntityKind::kUser ? "users" : "creators") +
                         " (signals, age and created_at belong to items)");
      }
      if (!is_numeric(a->type)) {
        return error(e, e.text,
                     "attribute of type " + std::string(attribute_type_name(a->type)) +
                         " is not a number (only int, float, bool and timestamp are)");
      }
      return feature_node({.kind = FeatureKind::kAttribute, .attribute = a->id});
    }
    if (e.text == "age") {
      return make_op(Op::kAge, feature_node({.kind = FeatureKind::kCreatedAt}));
    }
    if (e.text == "created_at") return feature_node({.kind = FeatureKind::kCreatedAt});
    if (const AttributeDefinition* a = schema_.find_attribute(EntityKind::kItem, e.text)) {
      if (!is_numeric(a->type)) {
        return error(e, e.text,
                     "item attribute of type " + std::string(attribute_type_name(a->type)) +
                         " is not a number (only int, float, bool and timestamp are)");
      }
      return feature_node({.kind = FeatureKind::kAttribute, .attribute = a->id});
    }
    if (const SignalTypeDefinition* s = schema_.find_signal(e.text)) {
      return feature_node({.kind = FeatureKind::kDecay, .signal = s->id});  // short form
    }
    // The query's user (docs/feeds.md); the planner checks there is one.
    if (e.text == "co_engagement") return feature_node({.kind = FeatureKind::kCoEngagement});
    if (e.text == "creator_affinity") return feature_node({.kind = FeatureKind::kAffinity});
    if (e.text == "followed") return feature_node({.kind = FeatureKind::kFollowed});
    if (e.text == "seen") return feature_node({.kind = FeatureKind::kSeen});
    if (e.text == "served") return feature_node({.kind = FeatureKind::kServed});
    if (e.text == "preference") return preference(e, nullptr);
    return error(e, e.text,
                 "unknown name: not an item attribute, a signal type, age, created_at or a "
                 "user feature (co_engagement, creator_affinity, followed, seen, served, "
                 "preference)");
  }

  Result<Node> unary(const Expr& e, size_t depth) {
    if (e.op == ExprOp::kExists) {
      return error(e, "EXISTS", "EXISTS is a filter, not a number; missing values read as 0");
    }
    if (e.op != ExprOp::kNeg && e.op != ExprOp::kNot) {
      return error(e, "unary", "unknown unary operator");
    }
    return op_over_args(e, e.op == ExprOp::kNeg ? Op::kNeg : Op::kNot, 1, depth);
  }

  Result<Node> binary(const Expr& e, size_t depth) {
    if (e.op == ExprOp::kBetween) {
      // x BETWEEN lo AND hi = x >= lo AND x <= hi
      if (e.args.size() != 3) return error(e, "BETWEEN", "needs three operands");
      TIDAL_ASSIGN_OR_RETURN(Node x, node(e.args[0], depth + 1));
      TIDAL_ASSIGN_OR_RETURN(Node lo, node(e.args[1], depth + 1));
      TIDAL_ASSIGN_OR_RETURN(Node hi, node(e.args[2], depth + 1));
      Node x2 = x;
      return make_op(Op::kAnd, make_op(Op::kGe, std::move(x), std::move(lo)),
                     make_op(Op::kLe, std::move(x2), std::move(hi)));
    }
    if (e.op == ExprOp::kIn) {
      // x IN (a, b, ...) = x == a OR x == b OR ...
      if (e.args.size() != 2 || e.args[1].kind != ExprKind::kList || e.args[1].args.empty()) {
        return error(e, "IN", "in a profile, IN takes a non-empty list of numbers: x IN (1, 2)");
      }
      TIDAL_ASSIGN_OR_RETURN(Node x, node(e.args[0], depth + 1));
      std::optional<Node> any;
      for (const Expr& item : e.args[1].args) {
        TIDAL_ASSIGN_OR_RETURN(Node v, node(item, depth + 2));
        Node eq = make_op(Op::kEq, Node(x), std::move(v));
        any = any ? make_op(Op::kOr, std::move(*any), std::move(eq)) : std::move(eq);
      }
      return std::move(*any);
    }
    const std::optional<Op> op = binary_op(e.op);
    if (!op) return error(e, "binary", "unknown binary operator");
    return op_over_args(e, *op, 2, depth);
  }

  // An op whose operands are e.args, each any numeric expression.
  Result<Node> op_over_args(const Expr& e, Op op, size_t arity, size_t depth) {
    if (e.args.size() != arity) {
      return error(e, std::to_string(e.args.size()) + " operands",
                   "needs exactly " + std::to_string(arity));
    }
    std::vector<Node> kids;
    for (const Expr& a : e.args) {
      TIDAL_ASSIGN_OR_RETURN(Node k, node(a, depth + 1));
      kids.push_back(std::move(k));
    }
    return make_op(op, std::move(kids));
  }

  Result<std::vector<Node>> numeric_args(const Expr& e, size_t depth) {
    std::vector<Node> kids;
    for (const Expr& a : e.args) {
      TIDAL_ASSIGN_OR_RETURN(Node k, node(a, depth + 1));
      kids.push_back(std::move(k));
    }
    return kids;
  }

  Result<const SignalTypeDefinition*> signal_arg(const FunctionSpec& f, const Expr& arg) {
    if (kind_ != EntityKind::kItem) {
      return error(arg, std::string(f.name), "signals belong to items, not to users or creators");
    }
    if (arg.kind != ExprKind::kIdentifier) {
      return error(arg, arg.text.empty() ? "expression" : arg.text,
                   std::string(f.signature) + ": the first argument must be a signal type name");
    }
    const SignalTypeDefinition* s = schema_.find_signal(arg.text);
    if (!s) return error(arg, arg.text, "unknown signal type");
    return s;
  }

  // gaussian(seed): a whole number literal, 0 <= seed < 2^53.
  Result<uint64_t> seed_arg(const Expr& arg) {
    if (arg.kind != ExprKind::kNumber || arg.number < 0 || arg.number >= 9007199254740992.0 ||
        arg.number != std::floor(arg.number)) {
      return error(arg, arg.kind == ExprKind::kNumber ? std::to_string(arg.number) : "expression",
                   "gaussian(seed): the seed must be a whole number literal from 0 to 2^53 - 1");
    }
    return static_cast<uint64_t>(arg.number);
  }

  Result<Node> call(const Expr& call_expr, size_t depth) {
    const std::string name = lowercase(call_expr.text);
    if (name == "similarity") return similarity(call_expr);
    if (name == "preference") {
      if (call_expr.args.size() != 1 || call_expr.args[0].kind != ExprKind::kIdentifier) {
        return error(call_expr, call_expr.text,
                     "the form is preference(slot), slot an item vector attribute");
      }
      return preference(call_expr, &call_expr.args[0]);
    }
    const FunctionSpec* f = find_function(name);
    if (!f) return error(call_expr, call_expr.text, "unknown function");
    // A signal feature's trailing `cohort = <name>` names whose state it reads.
    std::string scope;
    const Expr* scoped = nullptr;
    for (const Expr& a : call_expr.args) {
      if (!is_scope_argument(a)) continue;
      if (f->kind != FunctionKind::kDecay && f->kind != FunctionKind::kWindowed) {
        return error(a, "cohort =",
                     "only a signal feature (decay, count, sum, velocity, prev_count) reads a "
                     "cohort's state; write e.g. count(like, 24h, cohort = young)");
      }
      if (&a != &call_expr.args.back()) {
        return error(a, "cohort =", "cohort = <name> must be the last argument");
      }
      TIDAL_ASSIGN_OR_RETURN(scope, scope_name(a));
      scoped = &a;
    }
    Expr unscoped_copy;
    if (scoped != nullptr) {
      unscoped_copy = call_expr;
      unscoped_copy.args.pop_back();
    }
    const Expr& e = scoped != nullptr ? unscoped_copy : call_expr;
    const size_t n = e.args.size();
    if (n < f->min_args || n > f->max_args || (f->kind == FunctionKind::kRate && n == 3)) {
      return error(e, e.text + " with " + std::to_string(n) + " arguments",
                   "wrong number of arguments; the form is " + std::string(f->signature));
    }
    switch (f->kind) {
      case FunctionKind::kDecay: {
        TIDAL_ASSIGN_OR_RETURN(const SignalTypeDefinition* s, signal_arg(*f, e.args[0]));
        return feature_node({.kind = FeatureKind::kDecay, .signal = s->id, .scope = scope});
      }
      case FunctionKind::kWindowed: return windowed(*f, e, scope);
      case FunctionKind::kGaussian: {
        TIDAL_ASSIGN_OR_RETURN(uint64_t seed, seed_arg(e.args[0]));
        return feature_node({.kind = FeatureKind::kGaussian, .seed = seed});
      }
      case FunctionKind::kFreshness: {
        if (kind_ != EntityKind::kItem) {
          return error(e, "freshness",
                       "freshness is about an item's age; users and creators have none");
        }
        const Expr& hl = e.args[0];
        if (hl.kind != ExprKind::kDuration || hl.duration.count() <= 0) {
          return error(
              hl, hl.kind == ExprKind::kDuration ? format_duration(hl.duration) : "expression",
              "freshness(half_life): the half-life must be a positive duration such as 6h");
        }
        return make_freshness(seconds_of(hl.duration));
      }
      default: break;
    }
    TIDAL_ASSIGN_OR_RETURN(std::vector<Node> args, numeric_args(e, depth));
    switch (f->kind) {
      case FunctionKind::kRate: {
        // (a + prior·weight) / (b + weight); rate(a, b) = (a + 1) / (b + 2).
        Node prior_mass =
            args.size() == 4 ? make_op(Op::kMul, Node(args[2]), Node(args[3])) : constant(1);
        Node weight = args.size() == 4 ? std::move(args[3]) : constant(2);
        return make_op(Op::kDiv, make_op(Op::kAdd, std::move(args[0]), std::move(prior_mass)),
                       make_op(Op::kAdd, std::move(args[1]), std::move(weight)));
      }
      case FunctionKind::kWilson: return make_op(Op::kWilson, std::move(args));
      case FunctionKind::kMath1:
      case FunctionKind::kPow:
      case FunctionKind::kIf: return make_op(f->op, std::move(args));
      case FunctionKind::kMinMax: {
        Node acc = std::move(args[0]);
        for (size_t i = 1; i < args.size(); ++i) {
          acc = make_op(f->op, std::move(acc), std::move(args[i]));
        }
        return acc;
      }
      case FunctionKind::kClamp:
        return make_op(Op::kMin, make_op(Op::kMax, std::move(args[0]), std::move(args[1])),
                       std::move(args[2]));
      default: break;
    }
    return error(e, e.text, "unhandled function");
  }

  // similarity(slot): the similarity of the candidate's vector attribute
  // `slot` to the query's vector.
  Result<Node> similarity(const Expr& e) {
    if (e.args.size() != 1 || e.args[0].kind != ExprKind::kIdentifier) {
      return error(e, e.text,
                   "the form is similarity(slot), slot a vector attribute name such as "
                   "similarity(embedding)");
    }
    const Expr& arg = e.args[0];
    const AttributeDefinition* a = schema_.find_attribute(kind_, arg.text);
    // similarity(preference): to the user's preference vector.
    if (a == nullptr && arg.text == "preference" && kind_ == EntityKind::kItem) {
      return preference(arg, nullptr);
    }
    if (a == nullptr || a->type != AttributeType::kVector) {
      std::string known;
      for (const AttributeDefinition& x : schema_.attributes(kind_)) {
        if (x.type == AttributeType::kVector) known += (known.empty() ? "" : ", ") + x.name;
      }
      return error(arg, arg.text,
                   std::string(a == nullptr ? "unknown name" : "not a vector attribute") +
                       ": similarity() takes a vector attribute (vector attributes here: " +
                       (known.empty() ? "none" : known) + ")");
    }
    return feature_node({.kind = FeatureKind::kSimilarity, .attribute = a->id});
  }

  // preference(slot), or bare `preference` (slot: nullptr) when items have
  // exactly one vector attribute: the similarity of the item's vector to the
  // query user's preference vector for that attribute.
  Result<Node> preference(const Expr& e, const Expr* slot) {
    std::vector<const AttributeDefinition*> vectors;
    for (const AttributeDefinition& x : schema_.attributes(EntityKind::kItem)) {
      if (x.type == AttributeType::kVector) vectors.push_back(&x);
    }
    std::string known;
    for (const AttributeDefinition* x : vectors) known += (known.empty() ? "" : ", ") + x->name;
    if (known.empty()) known = "none";
    if (slot == nullptr) {
      if (vectors.size() != 1) {
        return error(e, e.text,
                     "preference needs its vector attribute named when items have " +
                         std::string(vectors.empty() ? "none" : "several") +
                         ": write preference(slot) (item vector attributes: " + known + ")");
      }
      return feature_node({.kind = FeatureKind::kPreference, .attribute = vectors[0]->id});
    }
    for (const AttributeDefinition* x : vectors) {
      if (x->name == slot->text) {
        return feature_node({.kind = FeatureKind::kPreference, .attribute = x->id});
      }
    }
    return error(
        *slot, slot->text,
        "preference() takes an item vector attribute (item vector attributes: " + known + ")");
  }

  static Result<std::string> scope_name(const Expr& a) {
    const Expr& v = a.args[1];
    if ((v.kind != ExprKind::kIdentifier && v.kind != ExprKind::kString) || v.text.empty()) {
      return error(v, v.text.empty() ? "expression" : v.text,
                   "cohort = takes a cohort name (young, or 'family:value' for a cohort of a "
                   "family), or all for every user");
    }
    return scope_of(a);
  }

  Result<Node> windowed(const FunctionSpec& f, const Expr& e, const std::string& scope) {
    TIDAL_ASSIGN_OR_RETURN(const SignalTypeDefinition* s, signal_arg(f, e.args[0]));
    const Expr& w = e.args[1];
    if (w.kind != ExprKind::kDuration) {
      return error(w, w.text.empty() ? "expression" : w.text,
                   std::string(f.signature) + ": the window must be a duration such as 24h");
    }
    const auto it = std::find(s->windows.begin(), s->windows.end(), w.duration);
    if (it == s->windows.end()) {
      return error(w, format_duration(w.duration),
                   "signal type " + s->name + " has no such window; it counts " + windows_text(*s));
    }
    if (f.feature == FeatureKind::kSum && s->value_kind != ValueKind::kSum) {
      return error(e, s->name, "sum() needs a signal type whose value_kind is sum; use count()");
    }
    if (f.feature == FeatureKind::kCount && s->value_kind != ValueKind::kCount) {
      return error(e, s->name, "count() needs a signal type whose value_kind is count; use sum()");
    }
    if ((f.feature == FeatureKind::kVelocity || f.feature == FeatureKind::kPrevCount) &&
        !s->velocity) {
      return error(e, s->name,
                   std::string(f.name) + "() needs a signal type declared with velocity");
    }
    return feature_node({.kind = f.feature,
                         .signal = s->id,
                         .window = static_cast<uint8_t>(it - s->windows.begin()),
                         .scope = scope});
  }

  static std::string windows_text(const SignalTypeDefinition& s) {
    if (s.windows.empty()) return "no windows";
    std::string out;
    for (Duration d : s.windows) out += (out.empty() ? "" : ", ") + format_duration(d);
    return out;
  }

  const Schema& schema_;
  EntityKind kind_;
};

}  // namespace

// Turns the Node tree into instructions. Operands are first numbered per
// class (feature, constant, temporary) and mapped to slots at the end, when
// the number of each is known.
class ProgramBuilder {
 public:
  Result<Program> build(const Node& root, const Expr& root_expr) {
    const Operand r = emit(root);
    if (r.cls == Class::kTemp && !code_.empty() && code_.back().dst == r) {
      code_.back().dst = {Class::kOut, 0};
    } else {
      code_.push_back({Op::kCopy, {Class::kOut, 0}, r, {}, {}, 0});
    }
    if (code_.size() > kMaxInstructions) {
      return error(root_expr, std::to_string(code_.size()) + " instructions",
                   "a profile may compile to at most " + std::to_string(kMaxInstructions));
    }
    if (program_.features_.size() > kMaxFeatures) {
      return error(root_expr, std::to_string(program_.features_.size()) + " features",
                   "a profile may read at most " + std::to_string(kMaxFeatures));
    }
    program_.temp_count_ = temp_high_;
    program_.constant_ = root.kind == Node::Kind::kConst;
    program_.constant_value_ = root.kind == Node::Kind::kConst ? root.value : 0;
    const auto f = static_cast<uint32_t>(program_.features_.size());
    const auto c = static_cast<uint32_t>(program_.constants_.size());
    auto slot = [&](Operand o) -> uint16_t {
      switch (o.cls) {
        case Class::kFeature: return static_cast<uint16_t>(o.index);
        case Class::kConst: return static_cast<uint16_t>(f + o.index);
        case Class::kTemp: return static_cast<uint16_t>(f + c + o.index);
        case Class::kOut: return static_cast<uint16_t>(f + c + temp_high_);
        case Class::kNone: break;
      }
      return 0;
    };
    for (const Pending& p : code_) {
      program_.code_.push_back({p.op, slot(p.dst), slot(p.a), slot(p.b), slot(p.c), p.imm});
    }
    return std::move(program_);
  }

 private:
  enum class Class : uint8_t { kNone, kFeature, kConst, kTemp, kOut };
  struct Operand {
    Class cls = Class::kNone;
    uint32_t index = 0;
    bool operator==(const Operand&) const = default;
  };
  struct Pending {
    Op op;
    Operand dst, a, b, c;
    double imm;
  };

  Operand emit(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kConst: return constant_operand(n.value);
      case Node::Kind::kFeature: return feature_operand(n.feature);
      case Node::Kind::kOp: break;
    }
    std::array<Operand, 3> in{};
    for (size_t i = 0; i < n.kids.size() && i < 3; ++i) in[i] = emit(n.kids[i]);
    // The destination is taken before the operands are released, so that no
    // instruction writes a register it reads (the batch loops use restrict).
    const Operand dst = take_temp();
    for (const Operand& o : in) {
      if (o.cls == Class::kTemp) free_.push_back(o.index);
    }
    code_.push_back({n.op, dst, in[0], in[1], in[2], n.imm});
    return dst;
  }

  Operand take_temp() {
    if (!free_.empty()) {
      const uint32_t t = free_.back();
      free_.pop_back();
      return {Class::kTemp, t};
    }
    return {Class::kTemp, temp_high_++};
  }

  Operand constant_operand(double v) {
    auto& cs = program_.constants_;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (std::memcmp(&cs[i], &v, sizeof v) == 0) return {Class::kConst, static_cast<uint32_t>(i)};
    }
    cs.push_back(v);
    return {Class::kConst, static_cast<uint32_t>(cs.size() - 1)};
  }

  Operand feature_operand(const FeatureRef& f) {
    auto& fs = program_.features_;
    const auto it = std::find(fs.begin(), fs.end(), f);
    if (it != fs.end()) return {Class::kFeature, static_cast<uint32_t>(it - fs.begin())};
    fs.push_back(f);
    return {Class::kFeature, static_cast<uint32_t>(fs.size() - 1)};
  }

  Program program_;
  std::vector<Pending> code_;
  std::vector<uint32_t> free_;
  uint32_t temp_high_ = 0;
};

Result<Program> compile(const Expr& e, const CompileContext& ctx) {
  if (ctx.schema == nullptr) {
    return Status::Internal(Subsystem::kQuery, "profile compile without a schema");
  }
  Resolver resolver(*ctx.schema, ctx.kind);
  TIDAL_ASSIGN_OR_RETURN(Node root, resolver.node(e, 1));
  return ProgramBuilder().build(root, e);
}

std::string Program::disassemble() const {
  const size_t f = features_.size();
  const size_t c = constants_.size();
  auto name = [&](uint16_t s) {
    if (s < f) return "f" + std::to_string(s);
    if (s < f + c) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", constants_[s - f]);
      return std::string(buf);
    }
    if (s < f + c + temp_count_) return "t" + std::to_string(s - f - c);
    return std::string("out");
  };
  std::string out;
  for (const Instruction& in : code_) {
    out += name(in.dst) + " = " + std::string(op_name(in.op)) + " " + name(in.a);
    if (op_arity(in.op) >= 2) out += " " + name(in.b);
    if (op_arity(in.op) >= 3) out += " " + name(in.c);
    if (in.op == Op::kFreshness) out += " /" + std::to_string(in.imm) + "s";
    out += "\n";
  }
  return out;
}

}  // namespace tidal::ranking
