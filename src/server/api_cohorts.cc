// /v1/cohorts and /v1/users/{key}/cohorts (docs/http-api.md#cohorts).
#include "server/api_request.h"

namespace tidal::server {

namespace {

void append_cohort(std::string* out, const CohortInfo& c) {
  *out += "{\"name\":";
  append_json_string(out, c.name);
  *out += ",\"predicate\":";
  append_json_string(out, c.predicate);
  if (!c.family.empty()) {
    *out += ",\"family\":";
    append_json_string(out, c.family);
  }
  *out += ",\"members\":" + std::to_string(c.members);
  *out += ",\"defined_at\":" + std::to_string(c.defined_at);
  *out += ",\"backfilling\":";
  *out += c.backfilling ? "true" : "false";
  *out += ",\"backfill_progress\":";
  append_json_number(out, c.backfill_progress);
  *out += ",\"backfill_events_read\":" + std::to_string(c.backfill_events_read);
  *out += ",\"backfill_events_counted\":" + std::to_string(c.backfill_events_counted);
  *out += ",\"active_states\":" + std::to_string(c.active_states);
  *out += ",\"memory_bytes\":" + std::to_string(c.memory_bytes);
  *out += '}';
}

}  // namespace

void Api::Request::cohorts_list() {
  with_db([&](Database& db) {
    std::string& out = res_->body;
    out = "{\"cohorts\":[";
    bool first = true;
    for (const CohortInfo& c : db.cohorts()) {
      if (!first) out += ',';
      first = false;
      append_cohort(&out, c);
    }
    out += "]}\n";
    return Status::Ok();
  });
}

void Api::Request::cohort_get(const std::string& name) {
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(CohortInfo c, db.cohort(name));
    res_->body.clear();
    append_cohort(&res_->body, c);
    res_->body += '\n';
    return Status::Ok();
  });
}

void Api::Request::cohort_create() {
  constexpr std::string_view kShape = "{\"name\": \"...\", \"where\": \"<predicate>\"}";
  auto doc = parse_body(kShape);
  if (!doc) return;
  object obj;
  if (doc->get_object().get(obj) != simdjson::SUCCESS) {
    return fail(bad_request("body", "expected an object " + std::string(kShape)));
  }
  std::string name, where;
  for (auto [key, value] : obj) {
    std::string* into = key == "name" ? &name : key == "where" ? &where : nullptr;
    if (into == nullptr) {
      return fail(bad_request(key, std::string(key) + ": unknown field (known: name, where)"));
    }
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      return fail(bad_request(key, std::string(key) + ": expected a string"));
    }
    *into = std::string(text);
  }
  if (name.empty()) return fail(bad_request("name", "name: is required"));
  if (where.empty()) return fail(bad_request("where", "where: is required"));
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(uint64_t sequence, db.create_cohort(name, where));
    TIDAL_ASSIGN_OR_RETURN(CohortInfo c, db.cohort(name));
    res_->status = 201;
    std::string& out = res_->body;
    out = "{\"cohort\":";
    append_cohort(&out, c);
    out += ",\"sequence\":" + std::to_string(sequence) + "}\n";
    return Status::Ok();
  });
}

void Api::Request::cohort_drop(const std::string& name) {
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(uint64_t sequence, db.drop_cohort(name));
    res_->body = "{\"dropped\":";
    append_json_string(&res_->body, name);
    res_->body += ",\"sequence\":" + std::to_string(sequence) + "}\n";
    return Status::Ok();
  });
}

void Api::Request::user_cohorts(const std::string& user) {
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(std::vector<std::string> names, db.user_cohorts(user));
    std::string& out = res_->body;
    out = "{\"user\":";
    append_json_string(&out, user);
    out += ",\"cohorts\":[";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(&out, names[i]);
    }
    out += "]}\n";
    return Status::Ok();
  });
}

}  // namespace tidal::server
