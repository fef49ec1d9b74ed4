#include "query/json.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/duration.h"
#include "core/json_text.h"
#include "core/time_text.h"
#include "query/limits.h"
#include "query/printer.h"

namespace tidal::query {

namespace {

// --- writing ----------------------------------------------------------------

void put_string(std::string* out, std::string_view s) {
  append_json_string(out, s);
}

void put_number(std::string* out, double v) {
  append_json_number(out, v);
}

void put_key(std::string* out, std::string_view key) {
  if (out->back() != '{') *out += ',';
  put_string(out, key);
  *out += ':';
}

void put_expr(std::string* out, const Expr& e);

void put_list(std::string* out, const std::vector<Expr>& args) {
  *out += '[';
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) *out += ',';
    put_expr(out, args[i]);
  }
  *out += ']';
}

void put_expr(std::string* out, const Expr& e) {
  *out += '{';
  switch (e.kind) {
    case ExprKind::kNumber:
      put_key(out, "number");
      put_number(out, e.number);
      break;
    case ExprKind::kString:
      put_key(out, "string");
      put_string(out, e.text);
      break;
    case ExprKind::kBool:
      put_key(out, "bool");
      *out += e.number != 0 ? "true" : "false";
      break;
    case ExprKind::kDuration:
      put_key(out, "duration");
      put_string(out, format_duration(e.duration));
      break;
    case ExprKind::kIdentifier:
      put_key(out, "ident");
      put_string(out, e.text);
      break;
    case ExprKind::kCall:
      put_key(out, "call");
      put_string(out, e.text);
      put_key(out, "args");
      put_list(out, e.args);
      break;
    case ExprKind::kIf:
      put_key(out, "if");
      put_list(out, e.args);
      break;
    case ExprKind::kUnary:
    case ExprKind::kBinary:
      put_key(out, "op");
      put_string(out, op_name(e.op));
      put_key(out, "args");
      put_list(out, e.args);
      break;
    case ExprKind::kList:
      put_key(out, "list");
      put_list(out, e.args);
      break;
  }
  *out += '}';
}

// --- reading ----------------------------------------------------------------

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

Status json_error(std::string_view field, std::string_view rule) {
  return Status(Subsystem::kQuery, StatusCode::kInvalidArgument,
                std::string(field) + ": " + std::string(rule), std::string(field));
}

Status get_string(element v, std::string_view field, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return json_error(field, "expected a string");
  *out = std::string(s);
  return Status::Ok();
}

Status get_int(element v, std::string_view field, int64_t* out) {
  if (v.type() == element_type::INT64) {
    *out = v.get_int64().value_unsafe();
    return Status::Ok();
  }
  if (v.type() == element_type::UINT64) {
    return json_error(field, "must be between 1 and " + std::to_string(kMaxLimit));
  }
  double d;
  if (v.get_double().get(d) == simdjson::SUCCESS && d == std::floor(d) && std::fabs(d) < 1e18) {
    *out = static_cast<int64_t>(d);
    return Status::Ok();
  }
  return json_error(field, "expected a whole number");
}

Status get_duration(element v, std::string_view field, Duration* out) {
  std::string text;
  TIDAL_RETURN_IF_ERROR(get_string(v, field, &text));
  auto d = parse_duration(text, field, Subsystem::kQuery);
  if (!d.ok()) return d.status();
  *out = *d;
  return Status::Ok();
}

std::optional<ExprOp> op_from_name(std::string_view name, bool* unary) {
  static constexpr ExprOp kOps[] = {
      ExprOp::kAdd, ExprOp::kSub, ExprOp::kMul, ExprOp::kDiv,     ExprOp::kNeg,   ExprOp::kLt,
      ExprOp::kLe,  ExprOp::kGt,  ExprOp::kGe,  ExprOp::kEq,      ExprOp::kNe,    ExprOp::kAnd,
      ExprOp::kOr,  ExprOp::kNot, ExprOp::kIn,  ExprOp::kBetween, ExprOp::kExists};
  for (ExprOp op : kOps) {
    if (op_name(op) == name) {
      *unary = op == ExprOp::kNeg || op == ExprOp::kNot || op == ExprOp::kExists;
      return op;
    }
  }
  return std::nullopt;
}

Status read_expr(element v, std::string_view field, int depth, Expr* out);

Status read_args(element v, std::string_view field, int depth, std::vector<Expr>* out) {
  simdjson::dom::array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) return json_error(field, "expected an array");
  for (element item : arr) {
    out->emplace_back();
    TIDAL_RETURN_IF_ERROR(read_expr(item, field, depth + 1, &out->back()));
  }
  return Status::Ok();
}

Status read_expr(element v, std::string_view field, int depth, Expr* out) {
  if (depth > kMaxExpressionDepth) {
    return json_error(field, "expression is nested more than " +
                                 std::to_string(kMaxExpressionDepth) + " levels deep");
  }
  object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) {
    return json_error(field, "expected an expression object");
  }
  out->pos = SourcePos{0, 0};
  std::string_view kind_key;
  std::optional<element> args;
  for (auto [key, value] : obj) {
    const std::string sub = std::string(field) + "." + std::string(key);
    if (key == "args") {
      args = value;
      continue;
    }
    static constexpr std::string_view kKinds[] = {"number", "string", "bool", "duration", "ident",
                                                  "call",   "if",     "op",   "list"};
    if (std::find(std::begin(kKinds), std::end(kKinds), key) == std::end(kKinds)) {
      return json_error(sub, "unknown field");
    }
    if (!kind_key.empty()) {
      return json_error(sub,
                        "an expression has one of number, string, bool, duration, ident, "
                        "call, if, op or list; found both " +
                            std::string(kind_key) + " and " + std::string(key));
    }
    kind_key = key;
    if (key == "number") {
      out->kind = ExprKind::kNumber;
      if (value.get_double().get(out->number) != simdjson::SUCCESS) {
        return json_error(sub, "expected a number");
      }
    } else if (key == "string") {
      out->kind = ExprKind::kString;
      TIDAL_RETURN_IF_ERROR(get_string(value, sub, &out->text));
    } else if (key == "bool") {
      out->kind = ExprKind::kBool;
      bool b;
      if (value.get_bool().get(b) != simdjson::SUCCESS) return json_error(sub, "expected a bool");
      out->number = b ? 1 : 0;
    } else if (key == "duration") {
      out->kind = ExprKind::kDuration;
      TIDAL_RETURN_IF_ERROR(get_duration(value, sub, &out->duration));
    } else if (key == "ident") {
      out->kind = ExprKind::kIdentifier;
      TIDAL_RETURN_IF_ERROR(get_string(value, sub, &out->text));
    } else if (key == "call") {
      out->kind = ExprKind::kCall;
      TIDAL_RETURN_IF_ERROR(get_string(value, sub, &out->text));
    } else if (key == "if") {
      out->kind = ExprKind::kIf;
      TIDAL_RETURN_IF_ERROR(read_args(value, sub, depth, &out->args));
    } else if (key == "list") {
      out->kind = ExprKind::kList;
      TIDAL_RETURN_IF_ERROR(read_args(value, sub, depth, &out->args));
    } else if (key == "op") {
      std::string name;
      TIDAL_RETURN_IF_ERROR(get_string(value, sub, &name));
      bool unary = false;
      auto op = op_from_name(name, &unary);
      if (!op) {
        return json_error(sub, "unknown operator \"" + name +
                                   "\" (known: + - * / neg < <= > >= = != and or not in "
                                   "between exists)");
      }
      out->kind = unary ? ExprKind::kUnary : ExprKind::kBinary;
      out->op = *op;
    } else {
      return json_error(sub, "unknown field");
    }
  }
  if (kind_key.empty()) {
    return json_error(field,
                      "an expression needs one of number, string, bool, duration, ident, "
                      "call, if, op or list");
  }
  const bool takes_args = kind_key == "call" || kind_key == "op";
  if (args && !takes_args) return json_error(std::string(field) + ".args", "unknown field");
  if (takes_args) {
    if (!args) return json_error(std::string(field) + ".args", "is required");
    TIDAL_RETURN_IF_ERROR(read_args(*args, std::string(field) + ".args", depth, &out->args));
  }
  return Status::Ok();
}

Status read_statement(object obj, Statement* s) {
  bool have_kind = false;
  for (auto [key, value] : obj) {
    const std::string field(key);
    if (key == "statement") {
      std::string name;
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &name));
      bool found = false;
      for (int k = 0; k <= static_cast<int>(kLastStatementKind); ++k) {
        if (statement_kind_name(static_cast<StatementKind>(k)) == name) {
          s->kind = static_cast<StatementKind>(k);
          found = true;
        }
      }
      if (!found) {
        return json_error(field, "unknown statement \"" + name +
                                     "\" (known: trending, rank, search, similar, nearest, feed, "
                                     "count, create_cohort, drop_cohort, create_profile, "
                                     "create_cohorts)");
      }
      have_kind = true;
    } else if (key == "explain") {
      if (value.get_bool().get(s->explain) != simdjson::SUCCESS) {
        return json_error(field, "expected a bool");
      }
    } else if (key == "target") {
      std::string name;
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &name));
      if (name == "items") {
        s->target = EntityKind::kItem;
      } else if (name == "users") {
        s->target = EntityKind::kUser;
      } else if (name == "creators") {
        s->target = EntityKind::kCreator;
      } else {
        return json_error(field, "expected items, users or creators");
      }
    } else if (key == "cohort") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->cohort));
    } else if (key == "signal") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->signal));
    } else if (key == "window") {
      Duration d{0};
      TIDAL_RETURN_IF_ERROR(get_duration(value, field, &d));
      s->window = d;
    } else if (key == "within_trending") {
      if (value.get_bool().get(s->within_trending) != simdjson::SUCCESS) {
        return json_error(field, "expected a bool");
      }
    } else if (key == "query") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->text));
    } else if (key == "fields") {
      // [{"name": "title", "boost": 2}, "body", ...]
      simdjson::dom::array arr;
      if (value.get_array().get(arr) != simdjson::SUCCESS) {
        return json_error(field, "expected an array of attribute names or {name, boost} objects");
      }
      size_t i = 0;
      for (element x : arr) {
        const std::string at = std::string(field) + "[" + std::to_string(i++) + "]";
        SearchField f;
        if (x.is_string()) {
          TIDAL_RETURN_IF_ERROR(get_string(x, at, &f.name));
        } else {
          simdjson::dom::object o;
          if (x.get_object().get(o) != simdjson::SUCCESS) {
            return json_error(at, "expected an attribute name or a {name, boost} object");
          }
          for (auto [k, v] : o) {
            if (k == "name") {
              TIDAL_RETURN_IF_ERROR(get_string(v, at + ".name", &f.name));
            } else if (k == "boost") {
              if (v.get_double().get(f.boost) != simdjson::SUCCESS) {
                return json_error(at + ".boost", "expected a number");
              }
            } else {
              return json_error(at + "." + std::string(k), "unknown field (known: name, boost)");
            }
          }
        }
        s->fields.push_back(std::move(f));
      }
    } else if (key == "match") {
      std::string m;
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &m));
      if (m == "all") {
        s->match_all = true;
      } else if (m != "any") {
        return json_error(field, "expected \"all\" or \"any\"");
      }
    } else if (key == "key") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->key));
    } else if (key == "vector") {
      simdjson::dom::array arr;
      if (value.get_array().get(arr) != simdjson::SUCCESS) {
        return json_error(field, "expected an array of numbers");
      }
      if (arr.size() > kMaxVectorLength) {
        return json_error(field,
                          "a vector holds at most " + std::to_string(kMaxVectorLength) + " values");
      }
      for (element x : arr) {
        double d;
        if (x.get_double().get(d) != simdjson::SUCCESS) {
          return json_error(field, "expected an array of numbers");
        }
        if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
          return json_error(field, "value is out of the range of a 32-bit float");
        }
        s->vector.push_back(static_cast<float>(d));
      }
    } else if (key == "using") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->slot));
    } else if (key == "user") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->user));
    } else if (key == "profile") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->profile));
    } else if (key == "rank_by") {
      Expr e;
      TIDAL_RETURN_IF_ERROR(read_expr(value, field, 1, &e));
      s->rank_by = std::move(e);
    } else if (key == "order") {
      std::string o;
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &o));
      if (o == "asc") {
        s->order = SortOrder::kAsc;
      } else if (o == "desc") {
        s->order = SortOrder::kDesc;
      } else {
        return json_error(field, "expected asc or desc");
      }
    } else if (key == "where") {
      Expr e;
      TIDAL_RETURN_IF_ERROR(read_expr(value, field, 1, &e));
      s->where = std::move(e);
    } else if (key == "diversify") {
      object d;
      if (value.get_object().get(d) != simdjson::SUCCESS) {
        return json_error(field, "expected an object with by and max");
      }
      Diversify div;
      bool have_by = false, have_max = false;
      for (auto [dkey, dvalue] : d) {
        const std::string sub = "diversify." + std::string(dkey);
        if (dkey == "by") {
          TIDAL_RETURN_IF_ERROR(get_string(dvalue, sub, &div.attribute));
          have_by = true;
        } else if (dkey == "max") {
          TIDAL_RETURN_IF_ERROR(get_int(dvalue, sub, &div.max_per_value));
          have_max = true;
        } else {
          return json_error(sub, "unknown field");
        }
      }
      if (!have_by) return json_error("diversify.by", "is required");
      if (!have_max) return json_error("diversify.max", "is required");
      s->diversify = std::move(div);
    } else if (key == "ef") {
      int64_t n = 0;
      TIDAL_RETURN_IF_ERROR(get_int(value, field, &n));
      s->ef = n;
    } else if (key == "limit") {
      int64_t n = 0;
      TIDAL_RETURN_IF_ERROR(get_int(value, field, &n));
      s->limit = n;
    } else if (key == "cursor") {
      std::string c;
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &c));
      s->cursor = std::move(c);
    } else if (key == "as_of") {
      std::string t;
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &t));
      TIDAL_ASSIGN_OR_RETURN(Timestamp at, parse_rfc3339(t, field, Subsystem::kQuery));
      s->as_of_us = to_micros(at);
    } else if (key == "name") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->name));
    } else if (key == "by") {
      TIDAL_RETURN_IF_ERROR(get_string(value, field, &s->by));
    } else if (key == "buckets") {
      simdjson::dom::array a;
      if (value.get_array().get(a) != simdjson::SUCCESS) {
        return json_error(field, "expected an array of whole numbers");
      }
      for (auto v : a) {
        int64_t n;
        if (v.get_int64().get(n) != simdjson::SUCCESS) {
          return json_error(field, "expected an array of whole numbers");
        }
        s->buckets.push_back(n);
      }
    } else if (key == "definition") {
      Expr e;
      TIDAL_RETURN_IF_ERROR(read_expr(value, field, 1, &e));
      s->definition = std::move(e);
    } else {
      return json_error(field, "unknown field");
    }
  }
  if (!have_kind) return json_error("statement", "is required");
  return Status::Ok();
}

}  // namespace

std::string to_json(const Expr& e) {
  std::string out;
  put_expr(&out, e);
  return out;
}

std::string to_json(const Statement& s) {
  std::string out = "{";
  put_key(&out, "statement");
  put_string(&out, statement_kind_name(s.kind));
  if (s.explain) {
    put_key(&out, "explain");
    out += "true";
  }
  const bool read = !writes(s);
  if (read && s.kind != StatementKind::kFeed) {
    put_key(&out, "target");
    put_string(&out, target_name(s.target));
  }
  auto str = [&](std::string_view key, const std::string& v, bool always) {
    if (v.empty() && !always) return;
    put_key(&out, key);
    put_string(&out, v);
  };
  str("cohort", s.cohort, false);
  str("signal", s.signal, false);
  if (s.window) {
    put_key(&out, "window");
    put_string(&out, format_duration(*s.window));
  }
  if (s.within_trending) {
    put_key(&out, "within_trending");
    out += "true";
  }
  str("query", s.text, s.kind == StatementKind::kSearch);
  if (!s.fields.empty()) {
    put_key(&out, "fields");
    out += '[';
    for (size_t i = 0; i < s.fields.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"name\":";
      put_string(&out, s.fields[i].name);
      out += ",\"boost\":" + format_number(s.fields[i].boost) + "}";
    }
    out += ']';
  }
  if (s.match_all) {
    put_key(&out, "match");
    put_string(&out, "all");
  }
  str("key", s.key, s.kind == StatementKind::kSimilar);
  if (s.kind == StatementKind::kNearest || !s.vector.empty()) {
    put_key(&out, "vector");
    out += '[';
    for (size_t i = 0; i < s.vector.size(); ++i) {
      if (i > 0) out += ',';
      put_number(&out, static_cast<double>(s.vector[i]));
    }
    out += ']';
  }
  str("using", s.slot, false);
  if (s.ef) {
    put_key(&out, "ef");
    out += std::to_string(*s.ef);
  }
  str("user", s.user, s.kind == StatementKind::kFeed);
  str("profile", s.profile, false);
  str("name", s.name, false);
  str("by", s.by, false);
  if (!s.buckets.empty()) {
    put_key(&out, "buckets");
    out += '[';
    for (size_t i = 0; i < s.buckets.size(); ++i) {
      out += (i > 0 ? "," : "") + std::to_string(s.buckets[i]);
    }
    out += ']';
  }
  if (s.rank_by) {
    put_key(&out, "rank_by");
    put_expr(&out, *s.rank_by);
  }
  if (s.order != SortOrder::kDefault) {
    put_key(&out, "order");
    put_string(&out, s.order == SortOrder::kAsc ? "asc" : "desc");
  }
  if (s.where) {
    put_key(&out, "where");
    put_expr(&out, *s.where);
  }
  if (s.definition) {
    put_key(&out, "definition");
    put_expr(&out, *s.definition);
  }
  if (s.diversify) {
    put_key(&out, "diversify");
    out += '{';
    put_key(&out, "by");
    put_string(&out, s.diversify->attribute);
    put_key(&out, "max");
    out += std::to_string(s.diversify->max_per_value);
    out += '}';
  }
  if (s.limit) {
    put_key(&out, "limit");
    out += std::to_string(*s.limit);
  }
  if (s.cursor) {
    put_key(&out, "cursor");
    put_string(&out, *s.cursor);
  }
  if (s.as_of_us) {
    put_key(&out, "as_of");
    put_string(&out, format_timestamp(*s.as_of_us));
  }
  out += '}';
  return out;
}

Result<Statement> parse_json(std::string_view json) {
  if (json.size() > kMaxQueryBytes) {
    return json_error("query", "JSON query is " + std::to_string(json.size()) +
                                   " bytes long; the limit is " + std::to_string(kMaxQueryBytes) +
                                   " bytes");
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element doc;
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return json_error("query", std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return json_error("query", "expected a JSON object");
  }
  Statement s;
  s.pos = SourcePos{0, 0};
  TIDAL_RETURN_IF_ERROR(read_statement(obj, &s));
  TIDAL_RETURN_IF_ERROR(validate(s));
  return s;
}

}  // namespace tidal::query
