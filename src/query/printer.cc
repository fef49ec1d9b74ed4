#include "query/printer.h"

#include <charconv>
#include <cstdio>

#include "core/duration.h"
#include "core/time_text.h"

namespace tidal::query {

namespace {

// Binding strength, loosest first; a child that binds looser than its
// position allows is parenthesized.
enum Prec : int {
  kPrecOr = 1,
  kPrecAnd = 2,
  kPrecNot = 3,
  kPrecCompare = 4,
  kPrecAdd = 5,
  kPrecMul = 6,
  kPrecNeg = 7,
  kPrecPrimary = 8,
};

int precedence(const Expr& e) {
  if (e.kind == ExprKind::kUnary) {
    if (e.op == ExprOp::kNot) return kPrecNot;
    if (e.op == ExprOp::kNeg) return kPrecNeg;
    return kPrecPrimary;  // EXISTS name
  }
  if (e.kind != ExprKind::kBinary) return kPrecPrimary;
  switch (e.op) {
    case ExprOp::kOr: return kPrecOr;
    case ExprOp::kAnd: return kPrecAnd;
    case ExprOp::kAdd:
    case ExprOp::kSub: return kPrecAdd;
    case ExprOp::kMul:
    case ExprOp::kDiv: return kPrecMul;
    default: return kPrecCompare;
  }
}

std::string_view infix(ExprOp op) {
  switch (op) {
    case ExprOp::kOr: return " OR ";
    case ExprOp::kAnd: return " AND ";
    case ExprOp::kAdd: return " + ";
    case ExprOp::kSub: return " - ";
    case ExprOp::kMul: return " * ";
    case ExprOp::kDiv: return " / ";
    case ExprOp::kLt: return " < ";
    case ExprOp::kLe: return " <= ";
    case ExprOp::kGt: return " > ";
    case ExprOp::kGe: return " >= ";
    case ExprOp::kEq: return " = ";
    case ExprOp::kNe: return " != ";
    case ExprOp::kIn: return " IN ";
    default: return " ? ";
  }
}

void print(const Expr& e, int min_prec, std::string* out);

void print_args(const std::vector<Expr>& args, std::string* out) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) *out += ", ";
    print(args[i], kPrecOr, out);
  }
}

void print(const Expr& e, int min_prec, std::string* out) {
  const int p = precedence(e);
  const bool parens = p < min_prec;
  if (parens) *out += '(';
  switch (e.kind) {
    case ExprKind::kNumber: *out += format_number(e.number); break;
    case ExprKind::kString: *out += quote_tql(e.text); break;
    case ExprKind::kBool: *out += e.number != 0 ? "TRUE" : "FALSE"; break;
    case ExprKind::kDuration: *out += format_duration(e.duration); break;
    case ExprKind::kIdentifier: *out += e.text; break;
    case ExprKind::kCall:
      if (e.text == kInCohortCall && e.args.size() == 1 && e.args[0].kind == ExprKind::kString &&
          is_cohort_name(e.args[0].text)) {
        const std::string& c = e.args[0].text;
        *out += "IN COHORT " + cohort_tql(c);
        break;
      }
      [[fallthrough]];
    case ExprKind::kIf:
      *out += e.kind == ExprKind::kIf ? "if" : e.text;
      *out += '(';
      print_args(e.args, out);
      *out += ')';
      break;
    case ExprKind::kList:
      *out += '(';
      print_args(e.args, out);
      *out += ')';
      break;
    case ExprKind::kUnary:
      if (e.args.empty()) break;
      if (e.op == ExprOp::kNot) {
        *out += "NOT ";
        print(e.args[0], kPrecNot, out);
      } else if (e.op == ExprOp::kNeg) {
        *out += '-';
        print(e.args[0], kPrecNeg, out);
      } else {
        *out += "EXISTS ";
        print(e.args[0], kPrecPrimary, out);
      }
      break;
    case ExprKind::kBinary:
      if (e.op == ExprOp::kBetween && e.args.size() == 3) {
        print(e.args[0], kPrecAdd, out);
        *out += " BETWEEN ";
        print(e.args[1], kPrecAdd, out);
        *out += " AND ";
        print(e.args[2], kPrecAdd, out);
      } else if (e.args.size() == 2) {
        // Left-associative operators take an equal-precedence left child
        // bare; comparisons do not chain.
        const bool assoc = p != kPrecCompare;
        print(e.args[0], assoc ? p : p + 1, out);
        *out += infix(e.op);
        print(e.args[1], p + 1, out);
      }
      break;
  }
  if (parens) *out += ')';
}

void clause(std::string* out, std::string_view keyword, std::string_view value) {
  *out += ' ';
  *out += keyword;
  *out += ' ';
  *out += value;
}

}  // namespace

std::string format_number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "0";
  return std::string(buf, p);
}

std::string to_tql(const Expr& e) {
  std::string out;
  print(e, kPrecOr, &out);
  return out;
}

namespace {

// QUERY '...' [IN (...)] [MATCH ALL] of SEARCH, SIMILAR and NEAREST.
void text_clauses(const Statement& s, std::string* out) {
  clause(out, "QUERY", quote_tql(s.text));
  if (!s.fields.empty()) {
    std::string list;
    for (const SearchField& f : s.fields) {
      if (!list.empty()) list += ", ";
      list += f.name;
      if (f.boost != 1.0) list += "^" + format_number(f.boost);
    }
    clause(out, "IN", "(" + list + ")");
  }
  if (s.match_all) *out += " MATCH ALL";
}

// SIMILAR and NEAREST after USING: [QUERY ...] [EF n].
void vector_clauses(const Statement& s, std::string* out) {
  if (!s.text.empty()) text_clauses(s, out);
  if (s.ef) clause(out, "EF", std::to_string(*s.ef));
}

}  // namespace

std::string cohort_tql(const std::string& name) {
  return name.find(':') == std::string::npos ? name : quote_tql(name);
}

std::string to_tql(const Statement& s) {
  std::string out;
  if (s.explain) out += "EXPLAIN ";
  const std::string target(target_name(s.target));
  switch (s.kind) {
    case StatementKind::kTrending:
      out += "TRENDING " + target;
      if (!s.cohort.empty()) clause(&out, "FOR COHORT", cohort_tql(s.cohort));
      if (!s.signal.empty()) clause(&out, "BY", s.signal);
      if (s.window) clause(&out, "WINDOW", format_duration(*s.window));
      break;
    case StatementKind::kRank:
      out += "RANK " + target;
      if (!s.cohort.empty()) clause(&out, "FOR COHORT", cohort_tql(s.cohort));
      if (!s.user.empty()) clause(&out, "FOR USER", quote_tql(s.user));
      break;
    case StatementKind::kSearch:
      out += "SEARCH " + target;
      text_clauses(s, &out);
      if (s.within_trending) out += " WITHIN TRENDING";
      if (!s.cohort.empty()) clause(&out, "FOR COHORT", cohort_tql(s.cohort));
      if (!s.user.empty()) clause(&out, "FOR USER", quote_tql(s.user));
      if (s.window) clause(&out, "WINDOW", format_duration(*s.window));
      break;
    case StatementKind::kSimilar:
      out += "SIMILAR " + target;
      clause(&out, "TO", quote_tql(s.key));
      clause(&out, "USING", s.slot);
      vector_clauses(s, &out);
      break;
    case StatementKind::kNearest: {
      out += "NEAREST " + target + " TO VECTOR [";
      for (size_t i = 0; i < s.vector.size(); ++i) {
        if (i > 0) out += ", ";
        out += format_number(static_cast<double>(s.vector[i]));
      }
      out += ']';
      clause(&out, "USING", s.slot);
      vector_clauses(s, &out);
      break;
    }
    case StatementKind::kFeed:
      out += "FEED FOR USER " + quote_tql(s.user);
      if (!s.profile.empty()) clause(&out, "PROFILE", s.profile);
      break;
    case StatementKind::kCount:
      out += "COUNT " + target;
      if (s.where) clause(&out, "WHERE", to_tql(*s.where));
      return out;
    case StatementKind::kCreateCohort:
      out += "CREATE COHORT " + s.name;
      if (s.where) clause(&out, "WHERE", to_tql(*s.where));
      return out;
    case StatementKind::kDropCohort: return "DROP COHORT " + cohort_tql(s.name);
    case StatementKind::kCreateCohorts: {
      out += "CREATE COHORTS " + s.name + " BY " + s.by;
      if (!s.buckets.empty()) {
        out += " BUCKETS (";
        for (size_t i = 0; i < s.buckets.size(); ++i) {
          out += (i > 0 ? ", " : "") + std::to_string(s.buckets[i]);
        }
        out += ')';
      }
      return out;
    }
    case StatementKind::kCreateProfile:
      out += "CREATE PROFILE " + s.name;
      if (s.definition) clause(&out, "AS", to_tql(*s.definition));
      return out;
  }
  auto sort = [&](std::string_view keyword) {
    if (!s.rank_by) return;
    clause(&out, keyword, to_tql(*s.rank_by));
    if (s.order == SortOrder::kAsc) out += " ASC";
    if (s.order == SortOrder::kDesc) out += " DESC";
  };
  const bool rank_after_where = s.kind == StatementKind::kSearch ||
                                s.kind == StatementKind::kSimilar ||
                                s.kind == StatementKind::kNearest;
  if (!rank_after_where) sort("BY");
  if (s.where) clause(&out, "WHERE", to_tql(*s.where));
  if (rank_after_where) sort("RANK BY");
  if (s.diversify) {
    clause(&out, "DIVERSIFY BY", s.diversify->attribute);
    clause(&out, "MAX", std::to_string(s.diversify->max_per_value));
  }
  if (s.limit) clause(&out, "LIMIT", std::to_string(*s.limit));
  if (s.cursor) clause(&out, "CURSOR", quote_tql(*s.cursor));
  if (s.as_of_us) clause(&out, "AS OF", quote_tql(format_timestamp(*s.as_of_us)));
  return out;
}

}  // namespace tidal::query
