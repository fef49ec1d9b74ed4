// The /v1/query route (docs/http-api.md, "Queries").
#include "server/api_request.h"

namespace tidal::server {

bool Api::Request::budget_from(double ms, QueryOptions* opts) {
  if (!(ms >= 1 && ms <= 600000)) {
    fail(Status::Invalid(Subsystem::kServer, "time_budget_ms", number_text_short(ms),
                         "must be between 1 and 600000"));
    return false;
  }
  opts->time_budget = Duration(static_cast<int64_t>(ms * 1000));
  return true;
}
std::string Api::Request::number_text_short(double v) {
  std::string s;
  append_json_number(&s, v);
  return s;
}
void Api::Request::query() {
  std::string tql;
  std::string json_form;
  bool with_plan = false;
  QueryOptions opts;
  // The route checked the search scope before the body is read; CREATE
  // needs admin (below).
  if (req_.method == "GET") {
    auto q = param("q");
    if (!q) return fail(bad_request("q", "q: is required (the TQL statement)"));
    tql = std::string(*q);
    if (auto b = param("time_budget_ms")) {
      char* end = nullptr;
      std::string text(*b);
      double ms = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') {
        return fail(Status::Invalid(Subsystem::kServer, "time_budget_ms", text,
                                    "must be a number of milliseconds"));
      }
      if (!budget_from(ms, &opts)) return;
    }
    with_plan = param("plan").value_or("false") == "true";
    if (auto v = param("include_seen")) {
      if (*v != "true" && *v != "false") {
        return fail(Status::Invalid(Subsystem::kServer, "include_seen", std::string(*v),
                                    "must be true or false"));
      }
      opts.include_seen = *v == "true";
    }
  } else {
    auto doc = parse_body("{\"tql\": \"...\"} or {\"query\": {...}}");
    if (!doc) return;
    object obj;
    if (doc->get_object().get(obj) != simdjson::SUCCESS) {
      return fail(bad_request("body", "expected an object {\"tql\": \"...\"}"));
    }
    bool has_tql = false, has_query = false;
    for (auto [key, value] : obj) {
      if (key == "tql") {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS) {
          return fail(bad_request("tql", "tql: expected a string"));
        }
        tql = std::string(s);
        has_tql = true;
      } else if (key == "query") {
        if (value.type() != element_type::OBJECT) {
          return fail(bad_request("query", "query: expected an object (the JSON form of TQL)"));
        }
        json_form = simdjson::minify(value);
        has_query = true;
      } else if (key == "time_budget_ms") {
        double ms;
        if (value.get_double().get(ms) != simdjson::SUCCESS) {
          return fail(bad_request("time_budget_ms", "time_budget_ms: expected a number"));
        }
        if (!budget_from(ms, &opts)) return;
      } else if (key == "plan") {
        if (value.get_bool().get(with_plan) != simdjson::SUCCESS) {
          return fail(bad_request("plan", "plan: expected a bool"));
        }
      } else if (key == "include_seen") {
        if (value.get_bool().get(opts.include_seen) != simdjson::SUCCESS) {
          return fail(bad_request("include_seen", "include_seen: expected a bool"));
        }
      } else if (key == "record_served") {
        if (value.get_bool().get(opts.record_served) != simdjson::SUCCESS) {
          return fail(bad_request("record_served", "record_served: expected a bool"));
        }
      } else {
        return fail(bad_request(key, std::string(key) + ": unknown field (known: tql, query, "
                                                        "time_budget_ms, plan, include_seen, "
                                                        "record_served)"));
      }
    }
    if (has_tql == has_query) {
      return fail(bad_request("tql",
                              "give exactly one of tql (TQL text) and query (its JSON "
                              "form)"));
    }
  }
  // The parsed statement says whether it writes (CREATE needs admin).
  Result<PreparedStatement> statement =
      json_form.empty() ? Database::prepare(tql) : Database::prepare_json(json_form);
  if (!statement.ok()) return fail(statement.status());
  if (statement->writes() && !authorize(Scope::kAdmin)) return;
  with_db([&](Database& db) {
    Result<QueryResult> r = db.execute(*statement, {}, opts);
    if (!r.ok()) return r.status();
    write_query_result(&res_->body, *r, with_plan);
    return Status::Ok();
  });
}
}  // namespace tidal::server
