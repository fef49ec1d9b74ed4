// Routes of the server and the database as a whole: /health, /metrics,
// /v1/schema (and schema changes), /v1/profiles, /v1/present,
// /v1/checkpoint (docs/http-api.md).
#include "server/api_request.h"
#include "server/schema_document.h"

namespace tidal::server {

// 200 {"status": "ok", ...} while writes and checkpoints succeed; 503
// {"status": "degraded", "writable", "problems": [...]} otherwise (a full
// disk, a stopped WAL, failing checkpoints) — reads still work then.
void Api::Request::health() {
  with_db([&](Database& db) {
    DatabaseProgress st = db.progress();
    DatabaseHealth h = db.health();
    std::string& out = res_->body;
    out = std::string("{\"status\":") + (h.ok() ? "\"ok\"" : "\"degraded\"") +
          ",\"writable\":" + (h.writable ? "true" : "false") + ",\"problems\":[";
    bool first = true;
    for (const auto& [what, failure] :
         {std::pair<const char*, const Status*>{"writes", &h.write_failure},
          {"checkpoints", &h.checkpoint_failure}}) {
      if (failure->ok()) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"what\":";
      append_json_string(&out, what);
      out += ",\"error\":";
      write_error_object(&out, *failure);
      out += '}';
    }
    out += "],\"version\":\"0.1.0\",\"last_sequence\":" + std::to_string(st.last_sequence) +
           ",\"checkpoint_sequence\":" + std::to_string(st.checkpoint_sequence) + ",\"present\":";
    write_present(&out, db.present());
    out += ",\"uptime_seconds\":";
    append_json_number(&out, std::round(uptime() * 1000) / 1000);
    out += "}\n";
    if (!h.ok()) res_->status = 503;
    return Status::Ok();
  });
}
double Api::Request::uptime() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - api_->started_).count();
}
void Api::Request::metrics() {
  with_db([&](Database& db) {
    res_->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res_->body = api_->metrics_.render(db.stats(), db.health(), uptime());
    return Status::Ok();
  });
}
void Api::Request::schema_get() {
  with_db([&](Database& db) {
    write_schema(&res_->body, db.schema());
    return Status::Ok();
  });
}

void Api::Request::present_get() {
  with_db([&](Database& db) {
    write_present(&res_->body, db.present());
    res_->body += '\n';
    return Status::Ok();
  });
}

void Api::Request::set_present() {
  auto doc = parse_body("{\"mode\": \"live\" | \"historical\", \"at\"?: time}");
  if (!doc) return;
  PresentMode mode = PresentMode::kLive;
  std::optional<Timestamp> at;
  if (Status st = read_present_request(*doc, &mode, &at); !st.ok()) return fail(st);
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(uint64_t seq, db.set_present(mode, at));
    std::string& out = res_->body;
    out = "{\"sequence\":" + std::to_string(seq) + ",\"present\":";
    write_present(&out, db.present());
    out += "}\n";
    return Status::Ok();
  });
}
void Api::Request::checkpoint() {
  with_db([&](Database& db) {
    TIDAL_RETURN_IF_ERROR(db.checkpoint());
    res_->body =
        "{\"checkpoint_sequence\":" + std::to_string(db.stats().checkpoint_sequence) + "}\n";
    return Status::Ok();
  });
}
void Api::Request::profiles_list() {
  with_db([&](Database& db) {
    std::string& out = res_->body;
    out = "{\"profiles\":[";
    bool first = true;
    for (const ProfileDefinition& p : db.profiles()) {
      if (!first) out += ',';
      first = false;
      out += "{\"name\":";
      append_json_string(&out, p.name);
      out += ",\"expression\":";
      append_json_string(&out, p.expression);
      out += '}';
    }
    out += "]}\n";
    return Status::Ok();
  });
}

void Api::Request::profile_get(const std::string& name) {
  with_db([&](Database& db) {
    for (const ProfileDefinition& p : db.profiles()) {
      if (p.name != name) continue;
      std::string& out = res_->body;
      out = "{\"name\":";
      append_json_string(&out, p.name);
      out += ",\"expression\":";
      append_json_string(&out, p.expression);
      out += "}\n";
      return Status::Ok();
    }
    return Status::NotFound(Subsystem::kServer, "no profile named \"" + name + "\"", "name");
  });
}

void Api::Request::profile_put(const std::string& name) {
  auto doc = parse_body("{\"expression\": \"...\"}");
  if (!doc) return;
  object obj;
  if (doc->get_object().get(obj) != simdjson::SUCCESS) {
    return fail(bad_request("body", "expected an object {\"expression\": \"...\"}"));
  }
  std::string expression;
  for (auto [key, value] : obj) {
    std::string_view text;
    if (key != "expression") {
      return fail(bad_request(key, std::string(key) + ": unknown field (known: expression)"));
    }
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      return fail(bad_request("expression", "expression: expected a string"));
    }
    expression = std::string(text);
  }
  if (expression.empty()) return fail(bad_request("expression", "expression: is required"));
  bool name_ok =
      !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name)
    name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!name_ok) {
    return fail(Status::Invalid(Subsystem::kServer, "name", name,
                                "a profile name is a letter or _ followed by letters, digits "
                                "and _"));
  }
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(QueryResult r, db.query("CREATE PROFILE " + name + " AS " + expression));
    std::string& out = res_->body;
    out = "{\"name\":";
    append_json_string(&out, name);
    out += ",\"message\":";
    append_json_string(&out, r.message);
    out += "}\n";
    return Status::Ok();
  });
}
void Api::Request::migrate(bool signal) {
  auto doc = parse_body(signal ? "a signal type" : "an attribute");
  if (!doc) return;
  SignalTypeSpec signal_spec;
  AttributeSpec attribute_spec;
  EntityKind kind = EntityKind::kItem;
  std::vector<Status> errors;
  if (signal) {
    read_signal_spec(*doc, "", &signal_spec, &errors);
  } else {
    read_attribute_spec(*doc, "", false, &kind, &attribute_spec, &errors);
  }
  if (!errors.empty()) return fail(join_errors(errors, "the body"));

  // A schema change through the WAL: other requests go on while it applies.
  with_db([&](Database& db) -> Status {
    Result<Schema> extended =
        signal ? db.add_signal_type(signal_spec) : db.add_attribute(kind, attribute_spec);
    if (!extended.ok()) return extended.status();
    write_schema(&res_->body, *extended);
    return Status::Ok();
  });
}

}  // namespace tidal::server
