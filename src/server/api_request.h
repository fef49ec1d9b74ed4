// Api::Request: one HTTP request being handled — the route table, the
// plumbing every route shares (errors, keys and scopes, bodies, batch
// outcomes) and the handlers, defined by resource in api_*.cc. Internal to
// src/server/.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/json_text.h"
#include "schema/value_text.h"
#include "server/api.h"
#include "server/wire.h"

namespace tidal::server {

using simdjson::dom::array;
using simdjson::dom::element_type;
using simdjson::dom::object;

inline constexpr size_t kBulkChunk = 8192;  // entries per database call in a bulk request

// Each server thread keeps one parser: its buffers are reused request after
// request.
simdjson::dom::parser& thread_parser();
// The HTTP status of an error (a 5xx only for the server's own faults).
unsigned http_status(const Status& st);
Status bad_request(std::string_view field, std::string message);

// A request target: the path, its segments after /v1/ (decoded) and the
// query parameters.
struct Target {
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> params;
  std::string path;
};
Result<Target> parse_target(std::string_view target);

std::optional<EntityKind> kind_of_collection(std::string_view s);
std::string collection_name(EntityKind k);
void write_sequence(std::string* out, uint64_t sequence);

// One request: the parsed target, the caller's scope, the response.
class Api::Request {
 public:
  Request(Api* api, const HttpRequest& req, HttpResponse* res) : api_(api), req_(req), res_(res) {}

  RouteClass route = RouteClass::kOther;

  // Matches the target against the route table (api_routes.cc): 404 when no
  // route has its path, 405 (listing the methods that do) when none has its
  // method; then checks the key's scope and runs the route's handler.
  void run();

  // The route table: every route of docs/http-api.md.
  struct Match;
  struct Route {
    std::string_view method;
    // Segments separated by '/'; "{collection}" matches items, users or
    // creators, "{key}" any one segment; anything else itself.
    std::string_view pattern;
    std::optional<Scope> scope;  // nullopt: open to every caller (/health)
    // Whether the handler may wait for the disk (HttpServer runs it on a
    // worker thread); kIfWrites: when the statement writes (POST /v1/query).
    enum class Worker : uint8_t { kNo, kYes, kIfWrites } worker;
    RouteClass metrics;
    void (*handler)(Request& r, const Match& m);
  };
  struct Match {
    const Route* route = nullptr;
    EntityKind kind = EntityKind::kItem;  // {collection}
    std::string key;                      // {key}
  };
  static const std::vector<Route>& routes();
  // The route for `method` on `path`; nullptr when none matches (with
  // `path_matched` telling whether some route matched the path with
  // another method, and `allowed` listing those methods).
  static const Route* find_route(std::string_view method, const Target& target, Match* m,
                                 bool* path_matched, std::string* allowed, RouteClass* route_class);

 private:
  // ---- plumbing

  void fail(const Status& st) { fail(http_status(st), st); }
  void fail(unsigned status, const Status& st) {
    res_->status = status;
    res_->content_type = "application/json";
    res_->body = error_body(st);
  }
  void fail_code(unsigned status, std::string_view code, std::string_view message,
                 std::string_view field = {}) {
    res_->status = status;
    res_->content_type = "application/json";
    std::string& out = res_->body;
    out = "{\"error\":{\"code\":";
    append_json_string(&out, code);
    out += ",\"message\":";
    append_json_string(&out, message);
    if (!field.empty()) {
      out += ",\"field\":";
      append_json_string(&out, field);
    }
    out += "}}\n";
  }

  void not_found() {
    fail_code(404, "not_found",
              "no route for " + std::string(req_.method) + " " + target_.path +
                  " (docs/http-api.md lists the routes)");
  }

  std::string_view presented_key() const {
    if (!req_.api_key.empty()) return req_.api_key;
    std::string_view a = req_.authorization;
    if (a.size() > 7 && (a.substr(0, 7) == "Bearer " || a.substr(0, 7) == "bearer ")) {
      return a.substr(7);
    }
    return {};
  }

  bool authorize(Scope needed) {
    if (api_->options_.open_access) return true;
    std::string_view key = presented_key();
    if (key.empty()) {
      fail_code(401, "unauthenticated",
                "this server requires an API key: send `Authorization: Bearer <key>` or "
                "`X-API-Key: <key>`",
                "authorization");
      return false;
    }
    std::optional<Scope> scope = api_->keys_.authenticate(key);
    if (!scope) {
      fail_code(401, "unauthenticated", "the API key is not valid for this server",
                "authorization");
      return false;
    }
    if (*scope < needed) {
      fail_code(403, "permission_denied",
                "this request needs a key with the " + std::string(scope_name(needed)) +
                    " scope; the key given has the " + std::string(scope_name(*scope)) + " scope",
                "authorization");
      return false;
    }
    return true;
  }

  // Runs fn with the database under the shared lock; a non-OK status it
  // returns becomes the error response.
  template <typename Fn>
  void with_db(Fn fn) {
    std::shared_lock<std::shared_mutex> lk(api_->db_mu_);
    if (api_->db_ == nullptr) {
      return fail(503, Status::Unavailable(Subsystem::kServer,
                                           "the database is closed (the server is shutting down)"));
    }
    Status st = fn(*api_->db_);
    if (!st.ok()) fail(st);
  }

  // The body as one JSON value; on error the response is set and nullopt
  // returned.
  std::optional<JsonElement> parse_body(std::string_view what) {
    if (req_.body.empty()) {
      fail(bad_request("body", "the request needs a JSON body: " + std::string(what)));
      return std::nullopt;
    }
    JsonElement doc;
    auto err = thread_parser().parse(req_.body.data(), req_.body.size()).get(doc);
    if (err != simdjson::SUCCESS) {
      fail(bad_request("body", std::string("invalid JSON: ") + simdjson::error_message(err)));
      return std::nullopt;
    }
    return doc;
  }

  std::optional<std::string_view> param(std::string_view name) const {
    for (const auto& [k, v] : target_.params) {
      if (k == name) return std::string_view(v);
    }
    return std::nullopt;
  }

  // ?limit=N, 1..max (default `def`).
  bool limit_param(size_t def, size_t max, size_t* out) {
    *out = def;
    auto v = param("limit");
    if (!v) return true;
    char* end = nullptr;
    std::string text(*v);
    long long n = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n < 1 || static_cast<unsigned long long>(n) > max) {
      fail(Status::Invalid(Subsystem::kServer, "limit", text,
                           "must be a whole number between 1 and " + std::to_string(max)));
      return false;
    }
    *out = static_cast<size_t>(n);
    return true;
  }

  // The array `name` of a batch body, and its optional "mode". Other fields
  // are errors.
  bool batch_body(JsonElement doc, std::string_view name, array* items, BatchMode* mode) {
    object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
      fail(bad_request("body", "expected an object {\"" + std::string(name) +
                                   "\": [...], \"mode\": \"apply_valid\"}"));
      return false;
    }
    bool found = false;
    for (auto [key, value] : obj) {
      if (key == name) {
        if (value.get_array().get(*items) != simdjson::SUCCESS) {
          fail(bad_request(name, std::string(name) + ": expected an array"));
          return false;
        }
        found = true;
      } else if (key == "mode") {
        Status st = read_batch_mode(value, "mode", mode);
        if (!st.ok()) {
          fail(st);
          return false;
        }
      } else {
        fail(bad_request(
            key, std::string(key) + ": unknown field (known: " + std::string(name) + ", mode)"));
        return false;
      }
    }
    if (!found) {
      fail(bad_request(name, std::string(name) + ": is required"));
      return false;
    }
    if (items->size() > api_->options_.max_batch_entries) {
      fail(Status::ResourceExhausted(Subsystem::kServer,
                                     std::string(name) + ": " + std::to_string(items->size()) +
                                         " entries is more than one batch may carry (" +
                                         std::to_string(api_->options_.max_batch_entries) +
                                         "); use the bulk endpoint",
                                     std::string(name)));
      return false;
    }
    return true;
  }

  // Writes a batch outcome: 200 when every entry was applied, or some were
  // and the rest broke rules; 400 with the first error when none was applied
  // and every failure was the request's fault; and whenever an entry failed
  // on the server's side (a full disk, a failed WAL), that failure's 5xx —
  // whatever else was applied — so that a client retrying on 5xx retries
  // (docs/http-api.md: "Retries").
  void batch_response(const BatchOutcome& o, std::string_view position_name) {
    std::string body;
    write_batch_outcome(&body, o, position_name);
    // kAborted here marks an entry all_or_nothing skipped for another's fault.
    auto server_side = [](const Status& st) {
      return http_status(st) >= 500 && st.code() != StatusCode::kAborted;
    };
    const bool any_server_side = std::any_of(o.errors.begin(), o.errors.end(),
                                             [&](const auto& e) { return server_side(e.second); });
    if ((o.accepted == 0 && o.rejected > 0 && !o.errors.empty()) || any_server_side) {
      // A server-side failure first; then the first entry that broke a rule,
      // not one all_or_nothing skipped because of it (those are kAborted
      // "not applied").
      auto rank = [&](const std::pair<size_t, Status>& e) {
        return std::make_tuple(!server_side(e.second), e.second.code() == StatusCode::kAborted,
                               e.first);
      };
      const auto& [pos, st] =
          *std::min_element(o.errors.begin(), o.errors.end(),
                            [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
      std::string out = "{\"error\":";
      Status located(st.subsystem(), st.code(),
                     std::string(position_name) + " " + std::to_string(pos) + ": " + st.message(),
                     st.field());
      write_error_object(&out, located);
      out += ',';
      out.append(body, 1);  // the outcome's fields
      res_->status = server_side(st) ? http_status(st) : 400;
      res_->body = std::move(out);
      return;
    }
    res_->body = std::move(body);
  }

  // ---- routes

  // NDJSON bulk routes: one entry per line, read by `read`, applied in
  // chunks of kBulkChunk by `apply` (BatchMode::kApplyValid), counted by
  // `count` (accepted, rejected); a line that is not JSON or breaks a rule
  // is reported by its number and the others go on.
  template <typename T, typename Read, typename Apply, typename Count>
  void bulk(Read read, Apply apply, Count count) {
    with_db([&](Database& db) {
      std::vector<T> entries;
      std::vector<size_t> lines;
      BatchOutcome outcome;
      auto flush = [&] {
        if (entries.empty()) return;
        BatchIngestResult r = apply(db, entries);
        add_batch_result(&outcome, r, lines);
        entries.clear();
        lines.clear();
      };
      Status parsed = for_each_ndjson_line(req_.body, [&](size_t line, std::string_view text) {
        JsonElement v;
        T entry;
        Status st;
        if (auto err = thread_parser().parse(text.data(), text.size()).get(v);
            err != simdjson::SUCCESS) {
          st = bad_request("line", std::string("invalid JSON: ") + simdjson::error_message(err));
        } else {
          st = read(db, v, &entry);
        }
        if (!st.ok()) {
          ++outcome.rejected;
          outcome.errors.emplace_back(line, st);
        } else {
          entries.push_back(std::move(entry));
          lines.push_back(line);
          if (entries.size() >= kBulkChunk) flush();
        }
        return Status::Ok();
      });
      flush();
      count(outcome.accepted, outcome.rejected);
      batch_response(outcome, "line");
      return parsed;
    });
  }

  // ---- routes, by resource

  // api_admin.cc
  void health();
  double uptime() const;
  void metrics();
  void schema_get();
  void migrate(bool signal);
  void profiles_list();
  void profile_get(const std::string& name);
  void profile_put(const std::string& name);
  void present_get();
  void set_present();
  void checkpoint();
  // api_cohorts.cc
  void cohorts_list();
  void cohort_get(const std::string& name);
  void cohort_create();
  void cohort_drop(const std::string& name);
  void user_cohorts(const std::string& user);
  // api_events.cc
  void event_single();
  void events_batch();
  void events_bulk();
  // api_entities.cc
  void entity_one(EntityKind kind, const std::string& key);
  void entities_list(EntityKind kind);
  void entities_batch(EntityKind kind);
  void entities_bulk(EntityKind kind);
  void item_signals(const std::string& key);
  void write_key_list(const std::string& name, const std::vector<std::string>& keys);
  void followers(EntityKind kind, const std::string& key);
  void related(const std::string& user);
  void affinities(const std::string& user);
  // api_relationships.cc
  void relationship_single();
  void relationships_batch();
  // api_query.cc
  bool budget_from(double ms, QueryOptions* opts);
  static std::string number_text_short(double v);
  void query();

  Api* api_;
  const HttpRequest& req_;
  HttpResponse* res_;
  Target target_;
};

}  // namespace tidal::server
