// Random TQL statements survive both of their other forms:
//   Statement -> to_tql -> parse -> the same Statement
//   Statement -> to_json -> parse_json -> the same Statement
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "query/json.h"
#include "query/parser.h"
#include "query/printer.h"

namespace tidal::query {
namespace {

// Names that are identifiers, including unreserved keywords and mixed case.
rc::Gen<std::string> gen_name() {
  return rc::gen::oneOf(
      rc::gen::element<std::string>("like", "share", "hot", "new", "x", "_a1", "Category",
                                    "trending", "max", "user", "query", "vector", "cohort",
                                    "profile", "items"),
      rc::gen::map(rc::gen::inRange(0, 100000), [](int n) { return "n" + std::to_string(n); }));
}

// Text with quotes, escapes, control characters and multi-byte UTF-8.
rc::Gen<std::string> gen_text() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>(
                          "a", "Z", " ", "'", "\"", "\\", "\n", "\t", "\x01", "\x7f", "\xC3\xA9",
                          "\xE4\xB8\xAD", "\xF0\x9F\x8E\xB5", "0", "-")),
                      [](const std::vector<std::string>& parts) {
                        std::string out;
                        for (const auto& p : parts) out += p;
                        return out;
                      });
}

Expr leaf(ExprKind kind) {
  Expr e;
  e.kind = kind;
  return e;
}

rc::Gen<Expr> gen_literal() {
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::oneOf(rc::gen::map(rc::gen::inRange(0, 1000000),
                                               [](int n) { return static_cast<double>(n); }),
                                  rc::gen::map(rc::gen::arbitrary<double>(),
                                               [](double d) {
                                                 return std::isfinite(d) ? std::fabs(d) : 0.5;
                                               })),
                   [](double d) {
                     Expr e = leaf(ExprKind::kNumber);
                     e.number = d;
                     return e;
                   }),
      rc::gen::map(gen_text(),
                   [](std::string s) {
                     Expr e = leaf(ExprKind::kString);
                     e.text = std::move(s);
                     return e;
                   }),
      rc::gen::map(rc::gen::arbitrary<bool>(),
                   [](bool b) {
                     Expr e = leaf(ExprKind::kBool);
                     e.number = b ? 1 : 0;
                     return e;
                   }),
      rc::gen::map(rc::gen::inRange<int64_t>(0, int64_t{1} << 45), [](int64_t us) {
        Expr e = leaf(ExprKind::kDuration);
        e.duration = Duration(us);
        return e;
      }));
}

rc::Gen<Expr> gen_ident() {
  return rc::gen::map(gen_name(), [](std::string n) {
    Expr e = leaf(ExprKind::kIdentifier);
    e.text = std::move(n);
    return e;
  });
}

Expr node(ExprKind kind, ExprOp op, std::vector<Expr> args) {
  Expr e = leaf(kind);
  e.op = op;
  e.args = std::move(args);
  return e;
}

// An expression at most `depth` levels deep, of every shape the parser makes.
rc::Gen<Expr> gen_expr(int depth) {
  if (depth <= 1) return rc::gen::oneOf(gen_literal(), gen_ident());
  auto sub = gen_expr(depth - 1);
  auto two = rc::gen::pair(sub, sub);
  return rc::gen::oneOf(
      gen_literal(), gen_ident(),
      rc::gen::apply(
          [](ExprOp op, std::pair<Expr, Expr> ab) {
            return node(ExprKind::kBinary, op, {std::move(ab.first), std::move(ab.second)});
          },
          rc::gen::element(ExprOp::kAdd, ExprOp::kSub, ExprOp::kMul, ExprOp::kDiv, ExprOp::kLt,
                           ExprOp::kLe, ExprOp::kGt, ExprOp::kGe, ExprOp::kEq, ExprOp::kNe,
                           ExprOp::kAnd, ExprOp::kOr),
          two),
      rc::gen::apply([](ExprOp op, Expr a) { return node(ExprKind::kUnary, op, {std::move(a)}); },
                     rc::gen::element(ExprOp::kNeg, ExprOp::kNot), sub),
      rc::gen::map(gen_ident(),
                   [](Expr a) { return node(ExprKind::kUnary, ExprOp::kExists, {std::move(a)}); }),
      // IN COHORT name, or 'family:value'.
      rc::gen::apply(
          [](std::string name, bool family, std::string value) {
            Expr c = leaf(ExprKind::kString);
            c.text = family ? name + ":" + value + "v" : name;
            Expr e = node(ExprKind::kCall, ExprOp::kNone, {std::move(c)});
            e.text = std::string(kInCohortCall);
            return e;
          },
          gen_name(), rc::gen::arbitrary<bool>(), gen_text()),
      rc::gen::apply(
          [](Expr a, Expr lo, Expr hi) {
            return node(ExprKind::kBinary, ExprOp::kBetween,
                        {std::move(a), std::move(lo), std::move(hi)});
          },
          sub, sub, sub),
      rc::gen::apply(
          [](Expr a, std::vector<Expr> vs) {
            if (vs.empty()) vs.push_back(a);
            return node(ExprKind::kBinary, ExprOp::kIn,
                        {std::move(a), node(ExprKind::kList, ExprOp::kNone, std::move(vs))});
          },
          sub, rc::gen::resize(4, rc::gen::container<std::vector<Expr>>(sub))),
      rc::gen::apply(
          [](Expr a, Expr tags) {
            return node(ExprKind::kBinary, ExprOp::kIn, {std::move(a), std::move(tags)});
          },
          sub, gen_ident()),
      rc::gen::apply(
          [](std::string f, std::vector<Expr> args) {
            Expr e = node(ExprKind::kCall, ExprOp::kNone, std::move(args));
            e.text = std::move(f);
            return e;
          },
          gen_name(), rc::gen::resize(3, rc::gen::container<std::vector<Expr>>(sub))),
      rc::gen::apply(
          [](Expr c, Expr a, Expr b) {
            return node(ExprKind::kIf, ExprOp::kNone, {std::move(c), std::move(a), std::move(b)});
          },
          sub, sub, sub));
}

rc::Gen<std::optional<Expr>> gen_opt_expr() {
  return rc::gen::oneOf(rc::gen::just(std::optional<Expr>()),
                        rc::gen::map(gen_expr(5), [](Expr e) { return std::optional<Expr>(e); }));
}

template <typename T>
T pick(rc::Gen<T> g) {
  return *std::move(g);
}

Statement gen_statement() {
  Statement s;
  s.kind = *rc::gen::element(StatementKind::kTrending, StatementKind::kRank, StatementKind::kSearch,
                             StatementKind::kSimilar, StatementKind::kNearest, StatementKind::kFeed,
                             StatementKind::kCreateCohort, StatementKind::kDropCohort,
                             StatementKind::kCreateProfile, StatementKind::kCreateCohorts,
                             StatementKind::kCount);
  const bool read = !writes(Statement{.kind = s.kind});
  auto maybe = [] { return *rc::gen::arbitrary<bool>(); };
  auto window = [] { return Duration(*rc::gen::inRange<int64_t>(1, int64_t{1} << 40)); };
  if (read && s.kind != StatementKind::kFeed) {
    s.target = *rc::gen::element(EntityKind::kItem, EntityKind::kUser, EntityKind::kCreator);
  }
  switch (s.kind) {
    case StatementKind::kTrending:
      // A family's cohort is family:value, the value any non-empty text.
      if (maybe()) s.cohort = maybe() ? *gen_name() : *gen_name() + ":" + *gen_text() + "v";
      if (maybe()) s.signal = *gen_name();
      s.window = window();
      break;
    case StatementKind::kRank:
      if (maybe()) s.cohort = *gen_name();
      if (s.target == EntityKind::kItem && maybe()) s.user = *gen_text();
      s.rank_by = *gen_expr(5);
      s.order = *rc::gen::element(SortOrder::kDefault, SortOrder::kAsc, SortOrder::kDesc);
      break;
    case StatementKind::kSearch:
      s.text = *gen_text();
      s.within_trending = maybe();
      if (s.within_trending && maybe()) s.cohort = *gen_name();
      if (s.within_trending && maybe()) s.window = window();
      if (s.target == EntityKind::kItem && maybe()) s.user = *gen_text();
      if (maybe()) {
        s.rank_by = *gen_expr(4);
        s.order = *rc::gen::element(SortOrder::kDefault, SortOrder::kAsc, SortOrder::kDesc);
      }
      break;
    case StatementKind::kSimilar:
      s.key = *gen_text();
      s.slot = *gen_name();
      break;
    case StatementKind::kNearest:
      s.vector = *rc::gen::map(
          rc::gen::nonEmpty(rc::gen::container<std::vector<float>>(rc::gen::arbitrary<float>())),
          [](std::vector<float> v) {
            for (float& f : v) {
              if (!std::isfinite(f)) f = 1.25f;
            }
            return v;
          });
      s.slot = *gen_name();
      break;
    case StatementKind::kFeed:
      s.user = *gen_text();
      if (maybe()) s.profile = *gen_name();
      break;
    case StatementKind::kCreateCohort:
      s.name = *gen_name();
      s.where = *gen_expr(5);
      break;
    case StatementKind::kDropCohort: s.name = *gen_name(); break;
    case StatementKind::kCreateCohorts: {
      s.name = *gen_name();
      s.by = *gen_name();
      int64_t b = *rc::gen::inRange<int64_t>(-100, 100);
      for (int i = *rc::gen::inRange(0, 5); i > 0; --i) {
        s.buckets.push_back(b);
        b += *rc::gen::inRange<int64_t>(1, 50);
      }
      break;
    }
    case StatementKind::kCreateProfile:
      s.name = *gen_name();
      s.definition = *gen_expr(6);
      break;
    case StatementKind::kCount: break;
  }
  if (read) {
    s.explain = maybe();
    s.where = *gen_opt_expr();
  }
  if (read && s.kind != StatementKind::kCount) {
    if (maybe()) s.diversify = Diversify{*gen_name(), *rc::gen::inRange<int64_t>(1, 10001)};
    if (maybe()) s.limit = *rc::gen::inRange<int64_t>(1, 10001);
    if (maybe()) s.cursor = *gen_text();
  }
  return s;
}

RC_GTEST_PROP(TqlRoundTrip, TextAndJson, ()) {
  const Statement s = gen_statement();
  const Status valid = validate(s);
  if (!valid.ok()) RC_FAIL(valid.to_string());

  const std::string text = to_tql(s);
  RC_LOG() << text << "\n";
  auto parsed = parse(text);
  if (!parsed.ok()) RC_FAIL(parsed.status().to_string());
  RC_ASSERT(*parsed == s);

  const std::string json = to_json(s);
  RC_LOG() << json << "\n";
  auto from_json = parse_json(json);
  if (!from_json.ok()) RC_FAIL(from_json.status().to_string());
  RC_ASSERT(*from_json == s);
}

}  // namespace
}  // namespace tidal::query
