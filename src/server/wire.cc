#include "server/wire.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

#include "core/duration.h"
#include "core/json_text.h"
#include "core/time_text.h"
#include "db/event_validation.h"
#include "schema/value_text.h"

namespace tidal::server {

namespace {

using simdjson::dom::array;
using simdjson::dom::element_type;
using simdjson::dom::object;

Status wire_error(std::string_view field, std::string_view rule) {
  return Status(Subsystem::kServer, StatusCode::kInvalidArgument,
                std::string(field) + ": " + std::string(rule), std::string(field));
}

std::string sub(std::string_view field, std::string_view name) {
  std::string s(field);
  if (!s.empty()) s += '.';
  s += name;
  return s;
}

std::string indexed(std::string_view field, size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

std::string_view type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a bool";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

Status expected(JsonElement v, std::string_view field, std::string_view what) {
  return wire_error(
      field, "expected " + std::string(what) + ", found " + std::string(type_name(v.type())));
}

Status get_string(JsonElement v, std::string_view field, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return expected(v, field, "a string");
  out->assign(s);
  return Status::Ok();
}

Status get_object(JsonElement v, std::string_view field, object* out) {
  if (v.get_object().get(*out) != simdjson::SUCCESS) return expected(v, field, "an object");
  return Status::Ok();
}

Status get_number(JsonElement v, std::string_view field, double* out) {
  if (v.get_double().get(*out) != simdjson::SUCCESS) return expected(v, field, "a number");
  return Status::Ok();
}

Status get_bool(JsonElement v, std::string_view field, bool* out) {
  if (v.get_bool().get(*out) != simdjson::SUCCESS) return expected(v, field, "a bool");
  return Status::Ok();
}

Status unknown_field(std::string_view field, std::string_view key, std::string_view known) {
  return wire_error(sub(field, key), "unknown field (known: " + std::string(known) + ")");
}

Status missing_field(std::string_view field, std::string_view key) {
  return wire_error(sub(field, key), "is required");
}

Status read_tags(JsonElement v, std::string_view field, std::vector<std::string>* out) {
  array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) {
    return expected(v, field, "an array of strings");
  }
  size_t i = 0;
  for (JsonElement x : arr) {
    out->emplace_back();
    TIDAL_RETURN_IF_ERROR(get_string(x, indexed(field, i++), &out->back()));
  }
  return Status::Ok();
}

Status read_vector(JsonElement v, std::string_view field, std::vector<float>* out) {
  array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) {
    return expected(v, field, "an array of numbers");
  }
  size_t i = 0;
  for (JsonElement x : arr) {
    double d = 0;
    TIDAL_RETURN_IF_ERROR(get_number(x, indexed(field, i++), &d));
    out->push_back(static_cast<float>(d));
  }
  return Status::Ok();
}

// A value of an attribute the schema does not declare: its natural type.
Status read_untyped_value(JsonElement v, std::string_view field, AttributeValue* out) {
  switch (v.type()) {
    case element_type::NULL_VALUE: *out = std::monostate{}; return Status::Ok();
    case element_type::STRING:
      *out = std::string(v.get_string().value_unsafe());
      return Status::Ok();
    case element_type::INT64: *out = v.get_int64().value_unsafe(); return Status::Ok();
    case element_type::UINT64:
    case element_type::DOUBLE: *out = v.get_double().value_unsafe(); return Status::Ok();
    case element_type::BOOL: *out = v.get_bool().value_unsafe(); return Status::Ok();
    case element_type::ARRAY: {
      std::vector<std::string> tags;
      if (read_tags(v, field, &tags).ok()) {
        *out = std::move(tags);
        return Status::Ok();
      }
      std::vector<float> vec;
      TIDAL_RETURN_IF_ERROR(read_vector(v, field, &vec));
      *out = std::move(vec);
      return Status::Ok();
    }
    case element_type::OBJECT: return expected(v, field, "an attribute value");
  }
  return expected(v, field, "an attribute value");
}

Status read_typed_value(JsonElement v, std::string_view field, AttributeType type,
                        AttributeValue* out) {
  if (v.type() == element_type::NULL_VALUE) {
    *out = std::monostate{};
    return Status::Ok();
  }
  switch (type) {
    case AttributeType::kKeyword:
    case AttributeType::kText: {
      std::string s;
      TIDAL_RETURN_IF_ERROR(get_string(v, field, &s));
      *out = std::move(s);
      return Status::Ok();
    }
    case AttributeType::kInt: {
      int64_t i;
      if (v.get_int64().get(i) == simdjson::SUCCESS) {
        *out = i;
        return Status::Ok();
      }
      if (v.is_number()) {
        double d = v.get_double().value_unsafe();
        return Status::Invalid(Subsystem::kServer, field, number_text(d),
                               "an int attribute takes a whole number between -2^63 and 2^63-1");
      }
      return expected(v, field, "a whole number");
    }
    case AttributeType::kFloat: {
      double d = 0;
      TIDAL_RETURN_IF_ERROR(get_number(v, field, &d));
      *out = d;
      return Status::Ok();
    }
    case AttributeType::kBool: {
      bool b;
      TIDAL_RETURN_IF_ERROR(get_bool(v, field, &b));
      *out = b;
      return Status::Ok();
    }
    case AttributeType::kTimestamp: {
      Timestamp t;
      TIDAL_RETURN_IF_ERROR(read_timestamp(v, field, &t));
      *out = t;
      return Status::Ok();
    }
    case AttributeType::kTags: {
      std::vector<std::string> tags;
      TIDAL_RETURN_IF_ERROR(read_tags(v, field, &tags));
      *out = std::move(tags);
      return Status::Ok();
    }
    case AttributeType::kVector: {
      std::vector<float> vec;
      TIDAL_RETURN_IF_ERROR(read_vector(v, field, &vec));
      *out = std::move(vec);
      return Status::Ok();
    }
  }
  return read_untyped_value(v, field, out);
}

}  // namespace

Status read_timestamp(JsonElement v, std::string_view field, Timestamp* out) {
  if (v.type() == element_type::STRING) {
    TIDAL_ASSIGN_OR_RETURN(*out,
                           parse_rfc3339(v.get_string().value_unsafe(), field, Subsystem::kServer));
    return Status::Ok();
  }
  double secs;
  if (v.get_double().get(secs) != simdjson::SUCCESS) {
    return expected(v, field, "an RFC 3339 time string or a number of seconds since the epoch");
  }
  // Whole microseconds within what a Timestamp holds (±292,000 years).
  if (!std::isfinite(secs) || std::fabs(secs) > 9.2e12) {
    return Status::Invalid(Subsystem::kServer, field, number_text(secs),
                           "seconds since the epoch must be within ±9.2e12");
  }
  *out = from_micros(static_cast<int64_t>(std::llround(secs * 1e6)));
  return Status::Ok();
}

Status read_event(JsonElement v, std::string_view field, SignalEvent* out) {
  object obj;
  TIDAL_RETURN_IF_ERROR(get_object(v, field, &obj));
  bool has_item = false, has_signal = false;
  for (auto [key, value] : obj) {
    if (key == "item") {
      TIDAL_RETURN_IF_ERROR(get_string(value, sub(field, key), &out->item));
      has_item = true;
    } else if (key == "signal") {
      TIDAL_RETURN_IF_ERROR(get_string(value, sub(field, key), &out->signal));
      has_signal = true;
    } else if (key == "user") {
      if (value.type() != element_type::NULL_VALUE) {
        TIDAL_RETURN_IF_ERROR(get_string(value, sub(field, key), &out->user));
      }
    } else if (key == "timestamp") {
      TIDAL_RETURN_IF_ERROR(read_timestamp(value, sub(field, key), &out->timestamp));
    } else if (key == "value") {
      TIDAL_RETURN_IF_ERROR(get_number(value, sub(field, key), &out->value));
    } else if (key == "idempotency_key") {
      TIDAL_RETURN_IF_ERROR(get_string(value, sub(field, key), &out->idempotency_key));
    } else {
      return unknown_field(field, key, "item, signal, user, timestamp, value, idempotency_key");
    }
  }
  if (!has_item) return missing_field(field, "item");
  if (!has_signal) return missing_field(field, "signal");
  return Status::Ok();
}

Status read_entity(JsonElement v, std::string_view field, const Schema& schema, EntityKind kind,
                   std::string_view key, EntityWrite* out) {
  object obj;
  TIDAL_RETURN_IF_ERROR(get_object(v, field, &obj));
  out->kind = kind;
  out->key.assign(key);
  bool has_key = !key.empty();
  std::optional<object> attributes;
  for (auto [name, value] : obj) {
    if (name == "key") {
      std::string body_key;
      TIDAL_RETURN_IF_ERROR(get_string(value, sub(field, name), &body_key));
      if (has_key && body_key != key) {
        return Status::Invalid(Subsystem::kServer, sub(field, name), body_key,
                               "differs from the key in the URL (\"" + std::string(key) + "\")");
      }
      out->key = std::move(body_key);
      has_key = true;
    } else if (name == "attributes") {
      object attrs;
      TIDAL_RETURN_IF_ERROR(get_object(value, sub(field, name), &attrs));
      attributes = attrs;
    } else if (name == "kind") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(get_string(value, sub(field, name), &text));
      // Plural forms name the kind as the URL does.
      if (text.size() > 1 && text.back() == 's') text.pop_back();
      TIDAL_ASSIGN_OR_RETURN(EntityKind k, parse_entity_kind(text, sub(field, name)));
      if (k != kind) {
        return Status::Invalid(Subsystem::kServer, sub(field, name), text,
                               "differs from the kind this request writes (" +
                                   std::string(entity_kind_name(kind)) + ")");
      }
    } else {
      return unknown_field(field, name, "key, attributes, kind");
    }
  }
  if (!has_key) return missing_field(field, "key");
  if (!attributes) return Status::Ok();
  std::string afield = sub(field, "attributes");
  for (auto [name, value] : *attributes) {
    std::string f = sub(afield, name);
    AttributeValue val;
    if (kind == EntityKind::kItem && name == "creator") {
      TIDAL_RETURN_IF_ERROR(read_typed_value(value, f, AttributeType::kKeyword, &val));
    } else if (kind == EntityKind::kItem && name == "created_at") {
      TIDAL_RETURN_IF_ERROR(read_typed_value(value, f, AttributeType::kTimestamp, &val));
    } else if (const AttributeDefinition* def = schema.find_attribute(kind, name)) {
      TIDAL_RETURN_IF_ERROR(read_typed_value(value, f, def->type, &val));
    } else {
      TIDAL_RETURN_IF_ERROR(read_untyped_value(value, f, &val));
    }
    out->attributes.emplace_back(std::string(name), std::move(val));
  }
  return Status::Ok();
}

Status read_relationship(JsonElement v, std::string_view field, RelationshipWrite* out) {
  object obj;
  TIDAL_RETURN_IF_ERROR(get_object(v, field, &obj));
  bool has_user = false, has_relation = false, has_target = false, has_kind = false;
  for (auto [key, value] : obj) {
    std::string f = sub(field, key);
    if (key == "user") {
      TIDAL_RETURN_IF_ERROR(get_string(value, f, &out->user));
      has_user = true;
    } else if (key == "relation") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(get_string(value, f, &text));
      TIDAL_ASSIGN_OR_RETURN(out->relation, parse_relation(text, f));
      has_relation = true;
    } else if (key == "target_kind") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(get_string(value, f, &text));
      TIDAL_ASSIGN_OR_RETURN(out->target_kind, parse_entity_kind(text, f));
      has_kind = true;
    } else if (key == "target") {
      TIDAL_RETURN_IF_ERROR(get_string(value, f, &out->target));
      has_target = true;
    } else if (key == "active") {
      TIDAL_RETURN_IF_ERROR(get_bool(value, f, &out->active));
    } else {
      return unknown_field(field, key, "user, relation, target_kind, target, active");
    }
  }
  if (!has_user) return missing_field(field, "user");
  if (!has_relation) return missing_field(field, "relation");
  if (!has_kind) return missing_field(field, "target_kind");
  if (!has_target) return missing_field(field, "target");
  return Status::Ok();
}

Status read_batch_mode(JsonElement v, std::string_view field, BatchMode* out) {
  std::string text;
  TIDAL_RETURN_IF_ERROR(get_string(v, field, &text));
  if (text == "apply_valid") {
    *out = BatchMode::kApplyValid;
  } else if (text == "all_or_nothing") {
    *out = BatchMode::kAllOrNothing;
  } else {
    return Status::Invalid(Subsystem::kServer, field, text,
                           "must be apply_valid or all_or_nothing");
  }
  return Status::Ok();
}

Status for_each_ndjson_line(std::string_view body,
                            const std::function<Status(size_t, std::string_view)>& fn) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    ++line_no;
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    TIDAL_RETURN_IF_ERROR(fn(line_no, line));
  }
  return Status::Ok();
}

// ---- writing

std::string_view error_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kNotSupported: return "not_supported";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kNoSpace: return "no_space";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kOutcomeUnknown: return "outcome_unknown";
  }
  return "unknown";
}

void write_error_object(std::string* out, const Status& status) {
  *out += "{\"code\":";
  append_json_string(out, error_code_name(status.code()));
  *out += ",\"message\":";
  append_json_string(out, status.message());
  if (!status.field().empty()) {
    *out += ",\"field\":";
    append_json_string(out, status.field());
  }
  *out += '}';
}

std::string error_body(const Status& status) {
  std::string out = "{\"error\":";
  write_error_object(&out, status);
  out += "}\n";
  return out;
}

void write_timestamp(std::string* out, Timestamp t) {
  append_json_string(out, format_timestamp(to_micros(t)));
}

void write_present(std::string* out, const Present& p) {
  *out += "{\"mode\":";
  append_json_string(out, p.mode == PresentMode::kLive ? "live" : "historical");
  *out += ",\"now\":";
  write_timestamp(out, p.now);
  *out += ",\"pinned\":";
  if (p.pinned) {
    write_timestamp(out, *p.pinned);
  } else {
    *out += "null";
  }
  *out += ",\"floor\":";
  write_timestamp(out, p.floor);
  *out += '}';
}

Status read_present_request(JsonElement v, PresentMode* mode, std::optional<Timestamp>* at) {
  object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) {
    return wire_error("body",
                      "expected an object {\"mode\": \"live\" | \"historical\", "
                      "\"at\": time (historical only, optional)}");
  }
  bool has_mode = false;
  for (auto [key, value] : obj) {
    if (key == "mode") {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS ||
          (text != "live" && text != "historical")) {
        return Status::Invalid(Subsystem::kServer, "mode",
                               value.is_string() ? text : std::string_view("(not a string)"),
                               "must be \"live\" or \"historical\"");
      }
      *mode = text == "live" ? PresentMode::kLive : PresentMode::kHistorical;
      has_mode = true;
    } else if (key == "at") {
      if (value.is_null()) continue;
      Timestamp t;
      TIDAL_RETURN_IF_ERROR(read_timestamp(value, "at", &t));
      *at = t;
    } else {
      return unknown_field("", key, "mode, at");
    }
  }
  if (!has_mode) return missing_field("", "mode");
  return Status::Ok();
}

void write_attribute_value(std::string* out, const AttributeValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          *out += "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_json_string(out, x);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          *out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          append_json_number(out, x);
        } else if constexpr (std::is_same_v<T, bool>) {
          *out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          write_timestamp(out, x);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          *out += '[';
          for (size_t i = 0; i < x.size(); ++i) {
            if (i > 0) *out += ',';
            append_json_string(out, x[i]);
          }
          *out += ']';
        } else {
          *out += '[';
          for (size_t i = 0; i < x.size(); ++i) {
            if (i > 0) *out += ',';
            append_json_number(out, static_cast<double>(x[i]));
          }
          *out += ']';
        }
      },
      v);
}

namespace {

// {"name": value, ...}
void write_attributes(std::string* out, const std::vector<Attribute>& attributes) {
  *out += '{';
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i > 0) *out += ',';
    append_json_string(out, attributes[i].name);
    *out += ':';
    write_attribute_value(out, attributes[i].value);
  }
  *out += '}';
}

}  // namespace

void write_entity(std::string* out, const Entity& e) {
  *out += "{\"kind\":";
  append_json_string(out, entity_kind_name(e.kind));
  *out += ",\"key\":";
  append_json_string(out, e.key);
  *out += ",\"attributes\":";
  write_attributes(out, e.attributes);
  *out += '}';
}

void write_event(std::string* out, const SignalEvent& e) {
  *out += "{\"item\":";
  append_json_string(out, e.item);
  *out += ",\"signal\":";
  append_json_string(out, e.signal);
  if (!e.user.empty()) {
    *out += ",\"user\":";
    append_json_string(out, e.user);
  }
  if (e.timestamp != Timestamp{}) {  // zero: "now", the server's
    *out += ",\"timestamp\":";
    write_timestamp(out, e.timestamp);
  }
  if (e.value != 1.0) {
    *out += ",\"value\":";
    append_json_number(out, e.value);
  }
  if (!e.idempotency_key.empty()) {
    *out += ",\"idempotency_key\":";
    append_json_string(out, e.idempotency_key);
  }
  *out += '}';
}

void write_entity_write(std::string* out, const EntityWrite& w) {
  *out += "{\"key\":";
  append_json_string(out, w.key);
  *out += ",\"attributes\":";
  write_attributes(out, w.attributes);
  *out += '}';
}

void write_relationship(std::string* out, const RelationshipWrite& r) {
  *out += "{\"user\":";
  append_json_string(out, r.user);
  *out += ",\"relation\":";
  append_json_string(out, relation_name(r.relation));
  *out += ",\"target_kind\":";
  append_json_string(out, entity_kind_name(r.target_kind));
  *out += ",\"target\":";
  append_json_string(out, r.target);
  if (!r.active) *out += ",\"active\":false";
  *out += '}';
}

void write_score(std::string* out, double score) {
  if (std::isnan(score)) {
    *out += "\"NaN\"";
  } else if (std::isinf(score)) {
    *out += score > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    append_json_number(out, score);
  }
}

void write_query_result(std::string* out, const QueryResult& r, bool with_plan) {
  *out += "{\"rows\":[";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    if (i > 0) *out += ',';
    *out += "{\"key\":";
    append_json_string(out, r.rows[i].key);
    *out += ",\"score\":";
    write_score(out, r.rows[i].score);
    *out += '}';
  }
  *out += ']';
  if (r.count) *out += ",\"count\":" + std::to_string(*r.count);
  if (!r.cursor.empty()) {
    *out += ",\"cursor\":";
    append_json_string(out, r.cursor);
  }
  if (!r.message.empty()) {
    *out += ",\"message\":";
    append_json_string(out, r.message);
  }
  *out += ",\"took_ms\":";
  append_json_number(out, std::round(r.total_micros) / 1000.0);
  if (r.explain || with_plan) {
    *out += ",\"plan\":[";
    for (size_t i = 0; i < r.plan.size(); ++i) {
      const PlanStage& p = r.plan[i];
      if (i > 0) *out += ',';
      *out += "{\"stage\":";
      append_json_string(out, p.name);
      *out += ",\"detail\":";
      append_json_string(out, p.detail);
      *out += ",\"rows_in\":" + std::to_string(p.rows_in);
      *out += ",\"rows_out\":" + std::to_string(p.rows_out);
      *out += ",\"micros\":";
      append_json_number(out, std::round(p.micros * 10) / 10);
      *out += '}';
    }
    *out += ']';
  }
  if (r.explain) {
    *out += ",\"explain\":";
    append_json_string(out, r.explain_text());
  }
  *out += "}\n";
}

void add_batch_result(BatchOutcome* o, const BatchIngestResult& r,
                      const std::vector<size_t>& positions) {
  o->accepted += r.accepted;
  o->rejected += r.rejected;
  for (size_t i = 0; i < r.errors.size(); ++i) {
    if (!r.errors[i].ok()) {
      o->errors.emplace_back(i < positions.size() ? positions[i] : i, r.errors[i]);
    } else if (i < r.results.size()) {
      if (r.results[i].duplicate) ++o->duplicates;
      o->last_sequence = std::max(o->last_sequence, r.results[i].sequence);
    }
  }
}

void write_batch_outcome(std::string* out, const BatchOutcome& o, std::string_view position_name) {
  constexpr size_t kMaxListed = 1000;
  *out += "{\"accepted\":" + std::to_string(o.accepted);
  *out += ",\"rejected\":" + std::to_string(o.rejected);
  *out += ",\"duplicates\":" + std::to_string(o.duplicates);
  *out += ",\"last_sequence\":" + std::to_string(o.last_sequence);
  *out += ",\"errors\":[";
  std::vector<std::pair<size_t, const Status*>> sorted;
  for (const auto& [pos, st] : o.errors) sorted.emplace_back(pos, &st);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < sorted.size() && i < kMaxListed; ++i) {
    if (i > 0) *out += ',';
    *out += '{';
    append_json_string(out, position_name);
    *out += ':' + std::to_string(sorted[i].first) + ",\"error\":";
    write_error_object(out, *sorted[i].second);
    *out += '}';
  }
  *out += ']';
  if (sorted.size() > kMaxListed) {
    *out += ",\"errors_omitted\":" + std::to_string(sorted.size() - kMaxListed);
  }
  *out += "}\n";
}

void write_signal_definition(std::string* out, const SignalTypeDefinition& s) {
  *out += "{\"name\":";
  append_json_string(out, s.name);
  *out += ",\"half_life\":";
  append_json_string(out, format_duration(s.half_life));
  *out += ",\"windows\":[";
  for (size_t i = 0; i < s.windows.size(); ++i) {
    if (i > 0) *out += ',';
    append_json_string(out, format_duration(s.windows[i]));
  }
  *out += "],\"velocity\":";
  *out += s.velocity ? "true" : "false";
  *out += ",\"polarity\":";
  append_json_string(out, polarity_name(s.polarity));
  *out += ",\"value_kind\":";
  append_json_string(out, value_kind_name(s.value_kind));
  *out += ",\"learning_rate\":";
  append_json_number(out, s.learning_rate);
  *out += ",\"affinity_delta\":";
  append_json_number(out, s.affinity_delta);
  *out += '}';
}

void write_attribute_definition(std::string* out, const AttributeDefinition& a, bool with_kind) {
  *out += '{';
  if (with_kind) {
    *out += "\"kind\":";
    append_json_string(out, entity_kind_name(a.kind));
    *out += ',';
  }
  *out += "\"name\":";
  append_json_string(out, a.name);
  *out += ",\"type\":";
  append_json_string(out, attribute_type_name(a.type));
  *out += ",\"filterable\":";
  *out += a.filterable ? "true" : "false";
  *out += ",\"sortable\":";
  *out += a.sortable ? "true" : "false";
  if (a.type == AttributeType::kVector) {
    *out += ",\"vector_dim\":" + std::to_string(a.vector_dim) + ",\"metric\":";
    append_json_string(out, vector_metric_name(a.metric));
  }
  if (a.type == AttributeType::kText) {
    *out += ",\"stemmer\":";
    append_json_string(out, a.text.stemmer);
    *out += ",\"stop_words\":";
    append_json_string(out, a.text.stop_words);
    *out += ",\"boost\":" + number_text(a.text.boost) + ",\"k1\":" + number_text(a.text.k1) +
            ",\"b\":" + number_text(a.text.b);
  }
  *out += '}';
}

void write_schema(std::string* out, const Schema& schema) {
  *out += "{\"version\":" + std::to_string(schema.version()) + ",\"signals\":[";
  bool first = true;
  for (const SignalTypeDefinition& s : schema.signals()) {
    if (!first) *out += ',';
    first = false;
    write_signal_definition(out, s);
  }
  *out += "],\"attributes\":{";
  for (EntityKind kind : kEntityKinds) {
    if (kind != EntityKind::kItem) *out += ',';
    append_json_string(out, entity_kind_name(kind));
    *out += ":[";
    bool first_attr = true;
    for (const AttributeDefinition& a : schema.attributes(kind)) {
      if (!first_attr) *out += ',';
      first_attr = false;
      write_attribute_definition(out, a, /*with_kind=*/false);
    }
    *out += ']';
  }
  *out += "}}\n";
}

}  // namespace tidal::server
