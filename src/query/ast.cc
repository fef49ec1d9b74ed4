#include "query/ast.h"

#include <algorithm>
#include <cmath>

#include "query/lexer.h"
#include "query/limits.h"

namespace tidal::query {

namespace {

Status invalid(std::string_view field, std::string_view value, std::string_view rule) {
  return Status::Invalid(Subsystem::kQuery, field, value, rule);
}

bool is_read(StatementKind k) {
  return k != StatementKind::kCreateCohort && k != StatementKind::kCreateProfile &&
         k != StatementKind::kDropCohort && k != StatementKind::kCreateCohorts;
}

Status check_name(std::string_view field, const std::string& name, bool required) {
  if (name.empty()) {
    if (required) return invalid(field, name, "is required");
    return Status::Ok();
  }
  if (!is_identifier(name)) {
    return invalid(field, name,
                   "must be a name: letters, digits and _, not starting with a digit, and not a "
                   "reserved word");
  }
  return Status::Ok();
}

Status check_unused(std::string_view field, bool used, StatementKind k) {
  if (!used) return Status::Ok();
  return invalid(field, statement_kind_name(k),
                 "is not a field of a " + std::string(statement_kind_name(k)) + " statement");
}

Status check_expr(const Expr& e, std::string_view field, bool list_allowed);

Status check_args(const Expr& e, std::string_view field, size_t n) {
  if (e.args.size() != n) {
    return invalid(field, op_name(e.op), "needs " + std::to_string(n) + " operands");
  }
  for (const Expr& a : e.args) TIDAL_RETURN_IF_ERROR(check_expr(a, field, false));
  return Status::Ok();
}

Status check_expr(const Expr& e, std::string_view field, bool list_allowed) {
  switch (e.kind) {
    case ExprKind::kNumber:
      if (!std::isfinite(e.number)) return invalid(field, "number", "must be finite");
      break;
    case ExprKind::kString: break;
    case ExprKind::kBool:
      if (e.number != 0 && e.number != 1) return invalid(field, "bool", "must be 0 or 1");
      break;
    case ExprKind::kDuration:
      if (e.duration.count() < 0) return invalid(field, "duration", "must not be negative");
      break;
    case ExprKind::kIdentifier:
    case ExprKind::kCall:
      if (!is_identifier(e.text) ||
          (e.kind == ExprKind::kCall && e.text.size() == 2 &&
           (e.text[0] == 'i' || e.text[0] == 'I') && (e.text[1] == 'f' || e.text[1] == 'F'))) {
        return invalid(field, e.text, "is not a valid name");
      }
      if (e.kind == ExprKind::kCall) {
        for (const Expr& a : e.args) TIDAL_RETURN_IF_ERROR(check_expr(a, field, false));
      } else if (!e.args.empty()) {
        return invalid(field, e.text, "a name has no operands");
      }
      break;
    case ExprKind::kIf:
      if (e.args.size() != 3) return invalid(field, "if", "needs 3 operands");
      for (const Expr& a : e.args) TIDAL_RETURN_IF_ERROR(check_expr(a, field, false));
      break;
    case ExprKind::kUnary:
      if (e.op != ExprOp::kNeg && e.op != ExprOp::kNot && e.op != ExprOp::kExists) {
        return invalid(field, op_name(e.op), "is not a unary operator");
      }
      TIDAL_RETURN_IF_ERROR(check_args(e, field, 1));
      if (e.op == ExprOp::kExists && e.args[0].kind != ExprKind::kIdentifier) {
        return invalid(field, "exists", "applies to an attribute name");
      }
      break;
    case ExprKind::kBinary:
      switch (e.op) {
        case ExprOp::kNone:
        case ExprOp::kNeg:
        case ExprOp::kNot:
        case ExprOp::kExists: return invalid(field, op_name(e.op), "is not a binary operator");
        case ExprOp::kBetween: return check_args(e, field, 3);
        case ExprOp::kIn:
          if (e.args.size() != 2) return invalid(field, "in", "needs 2 operands");
          TIDAL_RETURN_IF_ERROR(check_expr(e.args[0], field, false));
          if (e.args[1].kind != ExprKind::kList && e.args[1].kind != ExprKind::kIdentifier) {
            return invalid(field, "in", "the right side must be a list or an attribute name");
          }
          return check_expr(e.args[1], field, true);
        default: return check_args(e, field, 2);
      }
    case ExprKind::kList:
      if (!list_allowed) return invalid(field, "list", "a list may only follow IN");
      if (e.args.empty() || e.args.size() > kMaxInListSize) {
        return invalid(field, std::to_string(e.args.size()),
                       "an IN list holds 1 to " + std::to_string(kMaxInListSize) + " values");
      }
      for (const Expr& a : e.args) TIDAL_RETURN_IF_ERROR(check_expr(a, field, false));
      break;
  }
  return Status::Ok();
}

}  // namespace

bool same_expr(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.op != b.op || a.number != b.number || a.text != b.text ||
      a.duration != b.duration || a.args.size() != b.args.size()) {
    return false;
  }
  for (size_t i = 0; i < a.args.size(); ++i) {
    if (!same_expr(a.args[i], b.args[i])) return false;
  }
  return true;
}

namespace {
bool same_opt(const std::optional<Expr>& a, const std::optional<Expr>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || same_expr(*a, *b);
}
}  // namespace

bool operator==(const Statement& a, const Statement& b) {
  return a.kind == b.kind && a.explain == b.explain && a.target == b.target &&
         a.cohort == b.cohort && a.signal == b.signal && a.window == b.window &&
         a.within_trending == b.within_trending && a.text == b.text && a.fields == b.fields &&
         a.match_all == b.match_all && a.key == b.key && a.vector == b.vector && a.slot == b.slot &&
         a.ef == b.ef && a.user == b.user && a.profile == b.profile &&
         same_opt(a.rank_by, b.rank_by) && a.order == b.order && same_opt(a.where, b.where) &&
         a.diversify == b.diversify && a.limit == b.limit && a.cursor == b.cursor &&
         a.as_of_us == b.as_of_us && a.name == b.name && same_opt(a.definition, b.definition) &&
         a.by == b.by && a.buckets == b.buckets;
}

int expr_depth(const Expr& e) {
  int deepest = 0;
  for (const Expr& a : e.args) deepest = std::max(deepest, expr_depth(a));
  return deepest + 1;
}

bool is_identifier(std::string_view name) {
  if (name.empty()) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(name[0])) return false;
  for (char c : name) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return !is_reserved(name);
}

Status validate_expr(const Expr& e, std::string_view field) {
  // Depth first: check_expr recurses.
  struct Walk {
    static bool too_deep(const Expr& x, int level) {
      if (level > kMaxExpressionDepth) return true;
      for (const Expr& a : x.args) {
        if (too_deep(a, level + 1)) return true;
      }
      return false;
    }
  };
  if (Walk::too_deep(e, 1)) {
    return invalid(field, "expression",
                   "is nested more than " + std::to_string(kMaxExpressionDepth) + " levels deep");
  }
  return check_expr(e, field, false);
}

bool writes(const Statement& s) {
  return !is_read(s.kind);
}

Status validate(const Statement& s) {
  const StatementKind k = s.kind;
  const bool read = is_read(k);
  if (s.explain && !read) return invalid("explain", "true", "applies to read queries only");
  if (k == StatementKind::kFeed || !read) {
    if (s.target != EntityKind::kItem) {
      return check_unused("target", true, k);
    }
  }
  TIDAL_RETURN_IF_ERROR(check_unused("cohort",
                                     !s.cohort.empty() && k != StatementKind::kTrending &&
                                         k != StatementKind::kSearch && k != StatementKind::kRank,
                                     k));
  if (!s.cohort.empty() && !is_cohort_name(s.cohort)) {
    return invalid("cohort", s.cohort,
                   "must be a cohort name, or family:value for a cohort of a family");
  }
  TIDAL_RETURN_IF_ERROR(
      check_unused("signal", !s.signal.empty() && k != StatementKind::kTrending, k));
  TIDAL_RETURN_IF_ERROR(check_name("signal", s.signal, false));
  if (k == StatementKind::kTrending && !s.window) return invalid("window", "", "is required");
  TIDAL_RETURN_IF_ERROR(check_unused(
      "window", s.window && k != StatementKind::kTrending && k != StatementKind::kSearch, k));
  if (s.window && s.window->count() <= 0) {
    return invalid("window", std::to_string(s.window->count()) + "us", "must be positive");
  }
  TIDAL_RETURN_IF_ERROR(
      check_unused("within_trending", s.within_trending && k != StatementKind::kSearch, k));
  if (k == StatementKind::kSearch && !s.within_trending && (!s.cohort.empty() || s.window)) {
    return invalid(s.window ? "window" : "cohort", "", "needs WITHIN TRENDING");
  }
  const bool vector_kind = k == StatementKind::kSimilar || k == StatementKind::kNearest;
  const bool text_kind = k == StatementKind::kSearch || vector_kind;
  TIDAL_RETURN_IF_ERROR(check_unused("query", !s.text.empty() && !text_kind, k));
  TIDAL_RETURN_IF_ERROR(check_unused("fields", !s.fields.empty() && !text_kind, k));
  TIDAL_RETURN_IF_ERROR(check_unused("match", s.match_all && !text_kind, k));
  if (vector_kind && s.text.empty() && (!s.fields.empty() || s.match_all)) {
    return invalid(s.match_all ? "match" : "fields", "", "needs a query text (QUERY '...')");
  }
  TIDAL_RETURN_IF_ERROR(check_unused("ef", s.ef.has_value() && !vector_kind, k));
  if (s.ef && (*s.ef < 1 || *s.ef > kMaxEf)) {
    return invalid("ef", std::to_string(*s.ef), "must be from 1 to " + std::to_string(kMaxEf));
  }
  for (size_t i = 0; i < s.fields.size(); ++i) {
    const std::string at = "fields[" + std::to_string(i) + "]";
    TIDAL_RETURN_IF_ERROR(check_name(at + ".name", s.fields[i].name, true));
    const double b = s.fields[i].boost;
    if (!(b > 0 && b <= 1000)) {
      return invalid(at + ".boost", std::to_string(b), "must be above 0 and at most 1000");
    }
  }
  TIDAL_RETURN_IF_ERROR(check_unused("key", !s.key.empty() && k != StatementKind::kSimilar, k));
  TIDAL_RETURN_IF_ERROR(
      check_unused("vector", !s.vector.empty() && k != StatementKind::kNearest, k));
  if (k == StatementKind::kNearest) {
    if (s.vector.empty() || s.vector.size() > kMaxVectorLength) {
      return invalid("vector", std::to_string(s.vector.size()) + " values",
                     "a vector holds 1 to " + std::to_string(kMaxVectorLength) + " values");
    }
    for (float f : s.vector) {
      if (!std::isfinite(f)) return invalid("vector", "", "values must be finite");
    }
  }
  const bool uses_slot = k == StatementKind::kSimilar || k == StatementKind::kNearest;
  TIDAL_RETURN_IF_ERROR(check_unused("using", !s.slot.empty() && !uses_slot, k));
  TIDAL_RETURN_IF_ERROR(check_name("using", s.slot, uses_slot));
  // FOR USER: FEED, and RANK and SEARCH of items (the user features).
  const bool takes_user =
      k == StatementKind::kFeed ||
      ((k == StatementKind::kRank || k == StatementKind::kSearch) && s.target == EntityKind::kItem);
  TIDAL_RETURN_IF_ERROR(check_unused("user", !s.user.empty() && !takes_user, k));
  TIDAL_RETURN_IF_ERROR(
      check_unused("profile", !s.profile.empty() && k != StatementKind::kFeed, k));
  TIDAL_RETURN_IF_ERROR(check_name("profile", s.profile, false));
  if (k == StatementKind::kRank && !s.rank_by) return invalid("rank_by", "", "is required");
  TIDAL_RETURN_IF_ERROR(
      check_unused("rank_by", s.rank_by && k != StatementKind::kRank && !text_kind, k));
  if (s.rank_by) TIDAL_RETURN_IF_ERROR(validate_expr(*s.rank_by, "rank_by"));
  if (s.order != SortOrder::kDefault && !s.rank_by) {
    return invalid("order", s.order == SortOrder::kAsc ? "asc" : "desc", "needs rank_by");
  }
  if (k == StatementKind::kCreateCohort && !s.where) return invalid("where", "", "is required");
  TIDAL_RETURN_IF_ERROR(check_unused(
      "where", s.where && (k == StatementKind::kCreateProfile || k == StatementKind::kDropCohort),
      k));
  if (s.where) TIDAL_RETURN_IF_ERROR(validate_expr(*s.where, "where"));
  const bool pages = read && k != StatementKind::kCount;  // COUNT answers one number
  TIDAL_RETURN_IF_ERROR(check_unused("diversify", s.diversify && !pages, k));
  if (s.diversify) {
    TIDAL_RETURN_IF_ERROR(check_name("diversify.by", s.diversify->attribute, true));
    if (s.diversify->max_per_value < 1 || s.diversify->max_per_value > kMaxLimit) {
      return invalid("diversify.max", std::to_string(s.diversify->max_per_value),
                     "must be between 1 and " + std::to_string(kMaxLimit));
    }
  }
  TIDAL_RETURN_IF_ERROR(check_unused("limit", s.limit && !pages, k));
  if (s.limit && (*s.limit < 1 || *s.limit > kMaxLimit)) {
    return invalid("limit", std::to_string(*s.limit),
                   "must be between 1 and " + std::to_string(kMaxLimit));
  }
  TIDAL_RETURN_IF_ERROR(check_unused("cursor", s.cursor && !pages, k));
  TIDAL_RETURN_IF_ERROR(check_unused("as_of", s.as_of_us && !pages, k));
  TIDAL_RETURN_IF_ERROR(check_unused("name", !s.name.empty() && read, k));
  if (k == StatementKind::kDropCohort) {
    if (!is_cohort_name(s.name)) {
      return invalid("name", s.name, "must be a cohort name, or family:value");
    }
  } else {
    TIDAL_RETURN_IF_ERROR(check_name("name", s.name, !read));
  }
  if (k == StatementKind::kCreateProfile && !s.definition) {
    return invalid("definition", "", "is required");
  }
  TIDAL_RETURN_IF_ERROR(
      check_unused("definition", s.definition && k != StatementKind::kCreateProfile, k));
  if (s.definition) TIDAL_RETURN_IF_ERROR(validate_expr(*s.definition, "definition"));
  TIDAL_RETURN_IF_ERROR(check_unused("by", !s.by.empty() && k != StatementKind::kCreateCohorts, k));
  TIDAL_RETURN_IF_ERROR(check_name("by", s.by, k == StatementKind::kCreateCohorts));
  TIDAL_RETURN_IF_ERROR(
      check_unused("buckets", !s.buckets.empty() && k != StatementKind::kCreateCohorts, k));
  if (s.buckets.size() > 64) {
    return invalid("buckets", std::to_string(s.buckets.size()) + " bounds", "at most 64");
  }
  for (size_t i = 1; i < s.buckets.size(); ++i) {
    if (s.buckets[i] <= s.buckets[i - 1]) {
      return invalid("buckets[" + std::to_string(i) + "]", std::to_string(s.buckets[i]),
                     "bucket bounds must increase (the one before is " +
                         std::to_string(s.buckets[i - 1]) + ")");
    }
  }
  return Status::Ok();
}

bool is_cohort_name(std::string_view name) {
  const size_t colon = name.find(':');
  if (colon == std::string_view::npos) return is_identifier(name);
  return is_identifier(name.substr(0, colon)) && colon + 1 < name.size();
}

std::string_view statement_kind_name(StatementKind k) {
  switch (k) {
    case StatementKind::kTrending: return "trending";
    case StatementKind::kRank: return "rank";
    case StatementKind::kSearch: return "search";
    case StatementKind::kSimilar: return "similar";
    case StatementKind::kNearest: return "nearest";
    case StatementKind::kFeed: return "feed";
    case StatementKind::kCreateCohort: return "create_cohort";
    case StatementKind::kCreateProfile: return "create_profile";
    case StatementKind::kDropCohort: return "drop_cohort";
    case StatementKind::kCreateCohorts: return "create_cohorts";
    case StatementKind::kCount: return "count";
  }
  return "?";
}

std::string_view target_name(EntityKind k) {
  switch (k) {
    case EntityKind::kItem: return "items";
    case EntityKind::kUser: return "users";
    case EntityKind::kCreator: return "creators";
  }
  return "?";
}

std::string_view op_name(ExprOp op) {
  switch (op) {
    case ExprOp::kNone: return "none";
    case ExprOp::kAdd: return "+";
    case ExprOp::kSub: return "-";
    case ExprOp::kMul: return "*";
    case ExprOp::kDiv: return "/";
    case ExprOp::kNeg: return "neg";
    case ExprOp::kLt: return "<";
    case ExprOp::kLe: return "<=";
    case ExprOp::kGt: return ">";
    case ExprOp::kGe: return ">=";
    case ExprOp::kEq: return "=";
    case ExprOp::kNe: return "!=";
    case ExprOp::kAnd: return "and";
    case ExprOp::kOr: return "or";
    case ExprOp::kNot: return "not";
    case ExprOp::kIn: return "in";
    case ExprOp::kBetween: return "between";
    case ExprOp::kExists: return "exists";
  }
  return "?";
}

}  // namespace tidal::query
