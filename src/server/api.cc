#include "server/api.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <optional>
#include <vector>

#include "core/duration.h"
#include "core/json_text.h"
#include "schema/value_text.h"
#include "server/wire.h"

namespace tidal::server {

namespace {

using simdjson::dom::array;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr size_t kBulkChunk = 8192;  // events per database call in a bulk request

// Each server thread keeps one parser: its buffers are reused request after request.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

unsigned http_status(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    // A feature this version does not have: the request asked for it.
    case StatusCode::kNotSupported: return 400;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kBusy: return 503;
    case StatusCode::kAborted: return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIoError:
    case StatusCode::kInternal: return 500;
    case StatusCode::kNoSpace: return 507;
    case StatusCode::kUnavailable:
    case StatusCode::kOutcomeUnknown: return 503;
  }
  return 500;
}

Status bad_request(std::string_view field, std::string message) {
  return Status(Subsystem::kServer, StatusCode::kInvalidArgument, std::move(message),
                std::string(field));
}

std::string percent_decode(std::string_view s, bool plus_is_space, bool* ok) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = i + 2 < s.size() ? hex(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        *ok = false;
        return out;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;  // after /v1/, decoded
  std::vector<std::pair<std::string, std::string>> params;
  std::string path;
};

Result<Target> parse_target(std::string_view target) {
  Target t;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  bool ok = true;
  t.path = std::string(path);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t end = query.find('&', pos);
      if (end == std::string_view::npos) end = query.size();
      std::string_view kv = query.substr(pos, end - pos);
      pos = end + 1;
      if (kv.empty()) continue;
      size_t eq = kv.find('=');
      std::string k = percent_decode(kv.substr(0, eq), true, &ok);
      std::string v =
          eq == std::string_view::npos ? "" : percent_decode(kv.substr(eq + 1), true, &ok);
      t.params.emplace_back(std::move(k), std::move(v));
    }
  }
  if (path.rfind("/v1/", 0) == 0) {
    std::string_view rest = path.substr(4);
    size_t pos = 0;
    while (pos <= rest.size()) {
      size_t end = rest.find('/', pos);
      if (end == std::string_view::npos) end = rest.size();
      t.segments.push_back(percent_decode(rest.substr(pos, end - pos), false, &ok));
      pos = end + 1;
    }
    if (!t.segments.empty() && t.segments.back().empty()) t.segments.pop_back();
  }
  if (!ok) return bad_request("url", "the URL has a malformed %-escape");
  // Keys, names and queries from the URL end up in JSON responses (and the
  // database): like JSON bodies, they must be UTF-8.
  bool utf8 = simdjson::validate_utf8(t.path);
  for (const std::string& s : t.segments) utf8 = utf8 && simdjson::validate_utf8(s);
  for (const auto& [k, v] : t.params) {
    utf8 = utf8 && simdjson::validate_utf8(k) && simdjson::validate_utf8(v);
  }
  if (!utf8) return bad_request("url", "the URL is not UTF-8 (after decoding its %-escapes)");
  return t;
}

std::optional<EntityKind> kind_of_collection(std::string_view s) {
  if (s == "items") return EntityKind::kItem;
  if (s == "users") return EntityKind::kUser;
  if (s == "creators") return EntityKind::kCreator;
  return std::nullopt;
}

std::string collection_name(EntityKind k) {
  return std::string(entity_kind_name(k)) + "s";
}

void write_sequence(std::string* out, uint64_t sequence) {
  *out += "{\"sequence\":" + std::to_string(sequence) + "}\n";
}

void write_schema(std::string* out, const Schema& schema) {
  *out += "{\"version\":" + std::to_string(schema.version()) + ",\"signals\":[";
  bool first = true;
  for (const SignalTypeDefinition& s : schema.signals()) {
    if (!first) *out += ',';
    first = false;
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
  *out += "],\"attributes\":{";
  for (EntityKind kind : kEntityKinds) {
    if (kind != EntityKind::kItem) *out += ',';
    append_json_string(out, entity_kind_name(kind));
    *out += ":[";
    bool first_attr = true;
    for (const AttributeDefinition& a : schema.attributes(kind)) {
      if (!first_attr) *out += ',';
      first_attr = false;
      *out += "{\"name\":";
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
    *out += ']';
  }
  *out += "}}\n";
}

}  // namespace

// One request: the parsed target, the caller's scope, the response.
class Api::Request {
 public:
  Request(Api* api, const HttpRequest& req, HttpResponse* res) : api_(api), req_(req), res_(res) {}

  RouteClass route = RouteClass::kOther;

  void run() {
    if (req_.target.empty() || req_.target[0] != '/') {
      return fail(bad_request("url", "the request target must be a path starting with /"));
    }
    Result<Target> t = parse_target(req_.target);
    if (!t.ok()) return fail(t.status());
    target_ = std::move(t).value();
    if (target_.path == "/health") {
      route = RouteClass::kHealth;
      if (!method_is({"GET", "HEAD"})) return;
      return health();
    }
    if (target_.path == "/metrics") {
      route = RouteClass::kMetrics;
      if (!method_is({"GET"}) || !authorize(Scope::kSearch)) return;
      return metrics();
    }
    if (target_.path.rfind("/v1/", 0) != 0 || target_.segments.empty()) return not_found();
    const std::vector<std::string>& s = target_.segments;
    const std::string& head = s[0];
    if (head == "events") {
      route = RouteClass::kEvents;
      if (s.size() == 1) return post(Scope::kWrite, [&] { event_single(); });
      if (s.size() == 2 && s[1] == "batch") return post(Scope::kWrite, [&] { events_batch(); });
      if (s.size() == 2 && s[1] == "bulk") return post(Scope::kWrite, [&] { events_bulk(); });
      return not_found();
    }
    if (auto kind = kind_of_collection(head)) {
      route = RouteClass::kEntities;
      return entities(*kind);
    }
    if (head == "relationships") {
      route = RouteClass::kRelationships;
      if (s.size() == 1) return post(Scope::kWrite, [&] { relationship_single(); });
      if (s.size() == 2 && s[1] == "batch") {
        return post(Scope::kWrite, [&] { relationships_batch(); });
      }
      return not_found();
    }
    if (head == "query" && s.size() == 1) {
      route = RouteClass::kQuery;
      if (!method_is({"GET", "POST"})) return;
      return query();
    }
    if (head == "schema") {
      route = RouteClass::kSchema;
      if (s.size() == 1) {
        if (!method_is({"GET"}) || !authorize(Scope::kSearch)) return;
        return with_db([&](Database& db) {
          write_schema(&res_->body, db.schema());
          return Status::Ok();
        });
      }
      if (s.size() == 2 && (s[1] == "signals" || s[1] == "attributes")) {
        return post(Scope::kAdmin, [&] { migrate(s[1] == "signals"); });
      }
      return not_found();
    }
    if (head == "profiles") {
      route = RouteClass::kProfiles;
      return profiles();
    }
    if (head == "present" && s.size() == 1) {
      route = RouteClass::kPresent;
      if (!method_is({"GET", "POST"})) return;
      if (req_.method == "GET") {
        if (!authorize(Scope::kSearch)) return;
        return with_db([&](Database& db) {
          write_present(&res_->body, db.present());
          res_->body += '\n';
          return Status::Ok();
        });
      }
      if (!authorize(Scope::kAdmin)) return;
      return set_present();
    }
    if (head == "checkpoint" && s.size() == 1) {
      route = RouteClass::kCheckpoint;
      return post(Scope::kAdmin, [&] { checkpoint(); });
    }
    return not_found();
  }

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

  bool method_is(std::initializer_list<std::string_view> allowed) {
    for (std::string_view m : allowed) {
      if (req_.method == m) return true;
    }
    std::string list;
    for (std::string_view m : allowed) list += (list.empty() ? "" : ", ") + std::string(m);
    fail_code(405, "method_not_allowed",
              std::string(req_.method) + " is not allowed on " + target_.path +
                  " (allowed: " + list + ")");
    return false;
  }

  template <typename Fn>
  void post(Scope scope, Fn fn) {
    if (!method_is({"POST"}) || !authorize(scope)) return;
    fn();
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

  // 200 {"status": "ok", ...} while writes and checkpoints succeed; 503
  // {"status": "degraded", "writable", "problems": [...]} otherwise (a full
  // disk, a stopped WAL, failing checkpoints) — reads still work then.
  void health() {
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

  void set_present() {
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

  double uptime() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - api_->started_).count();
  }

  void metrics() {
    with_db([&](Database& db) {
      res_->content_type = "text/plain; version=0.0.4; charset=utf-8";
      res_->body = api_->metrics_.render(db.stats(), db.health(), uptime());
      return Status::Ok();
    });
  }

  void event_single() {
    auto doc = parse_body("one event");
    if (!doc) return;
    SignalEvent e;
    if (Status st = read_event(*doc, "", &e); !st.ok()) return fail(st);
    with_db([&](Database& db) {
      Result<IngestResult> r = db.ingest(e);
      api_->metrics_.add_events(r.ok() ? 1 : 0, r.ok() ? 0 : 1);
      if (!r.ok()) return r.status();
      res_->body = "{\"sequence\":" + std::to_string(r->sequence) +
                   ",\"duplicate\":" + (r->duplicate ? "true" : "false") + "}\n";
      return Status::Ok();
    });
  }

  void events_batch() {
    auto doc = parse_body("{\"events\": [...]}");
    if (!doc) return;
    array items;
    BatchMode mode = BatchMode::kApplyValid;
    if (!batch_body(*doc, "events", &items, &mode)) return;
    std::vector<SignalEvent> events;
    std::vector<size_t> positions;
    events.reserve(items.size());
    BatchOutcome outcome;
    if (Status st = read_batch(items, "events", mode, read_event, &events, &positions, &outcome);
        !st.ok()) {
      return fail(st);
    }
    with_db([&](Database& db) {
      BatchIngestResult r = db.ingest(events, mode);
      add_batch_result(&outcome, r, positions);
      api_->metrics_.add_events(outcome.accepted, outcome.rejected);
      batch_response(outcome, "index");
      return Status::Ok();
    });
  }

  void events_bulk() {
    std::vector<SignalEvent> events;
    std::vector<size_t> lines;
    BatchOutcome outcome;
    with_db([&](Database& db) {
      auto flush = [&] {
        if (events.empty()) return;
        BatchIngestResult r = db.ingest(events, BatchMode::kApplyValid);
        add_batch_result(&outcome, r, lines);
        events.clear();
        lines.clear();
      };
      Status parsed = for_each_ndjson_line(req_.body, [&](size_t line, std::string_view text) {
        JsonElement v;
        SignalEvent e;
        Status st;
        if (auto err = thread_parser().parse(text.data(), text.size()).get(v);
            err != simdjson::SUCCESS) {
          st = bad_request("line", std::string("invalid JSON: ") + simdjson::error_message(err));
        } else {
          st = read_event(v, "", &e);
        }
        if (!st.ok()) {
          ++outcome.rejected;
          outcome.errors.emplace_back(line, st);
        } else {
          events.push_back(std::move(e));
          lines.push_back(line);
          if (events.size() >= kBulkChunk) flush();
        }
        return Status::Ok();
      });
      flush();
      api_->metrics_.add_events(outcome.accepted, outcome.rejected);
      batch_response(outcome, "line");
      return parsed;
    });
  }

  void entities(EntityKind kind) {
    const std::vector<std::string>& s = target_.segments;
    if (s.size() == 2 && s[1] == "batch" && req_.method == "POST") {
      if (!authorize(Scope::kWrite)) return;
      return entities_batch(kind);
    }
    if (s.size() == 2 && s[1] == "bulk" && req_.method == "POST") {
      if (!authorize(Scope::kWrite)) return;
      return entities_bulk(kind);
    }
    if (s.size() == 2) {
      if (!method_is({"GET", "PUT", "PATCH", "DELETE"})) return;
      bool read = req_.method == "GET";
      if (!authorize(read ? Scope::kSearch : Scope::kWrite)) return;
      return entity_one(kind, s[1]);
    }
    if (s.size() == 3) {
      if (!method_is({"GET"}) || !authorize(Scope::kSearch)) return;
      const std::string& what = s[2];
      if (kind == EntityKind::kItem && what == "signals") return item_signals(s[1]);
      if (kind != EntityKind::kItem && what == "followers") return followers(kind, s[1]);
      if (kind == EntityKind::kUser && what == "relationships") return related(s[1]);
      if (kind == EntityKind::kUser && what == "affinities") return affinities(s[1]);
    }
    return not_found();
  }

  void entity_one(EntityKind kind, const std::string& key) {
    if (req_.method == "GET") {
      return with_db([&](Database& db) {
        TIDAL_ASSIGN_OR_RETURN(Entity e, db.get(kind, key));
        write_entity(&res_->body, e);
        res_->body += '\n';
        return Status::Ok();
      });
    }
    if (req_.method == "DELETE") {
      return with_db([&](Database& db) {
        TIDAL_ASSIGN_OR_RETURN(uint64_t seq, db.remove(kind, key));
        write_sequence(&res_->body, seq);
        return Status::Ok();
      });
    }
    auto doc = parse_body("{\"attributes\": {...}}");
    if (!doc) return;
    with_db([&](Database& db) {
      EntityWrite w;
      TIDAL_RETURN_IF_ERROR(read_entity(*doc, "", db.schema(), kind, key, &w));
      Result<uint64_t> seq = req_.method == "PUT" ? db.upsert(w) : db.patch(w);
      api_->metrics_.add_entity_writes(seq.ok() ? 1 : 0, seq.ok() ? 0 : 1);
      if (!seq.ok()) return seq.status();
      write_sequence(&res_->body, *seq);
      return Status::Ok();
    });
  }

  void entities_batch(EntityKind kind) {
    auto doc = parse_body("{\"" + collection_name(kind) + "\": [...]}");
    if (!doc) return;
    array items;
    BatchMode mode = BatchMode::kApplyValid;
    std::string name = collection_name(kind);
    if (!batch_body(*doc, name, &items, &mode)) return;
    with_db([&](Database& db) {
      std::vector<EntityWrite> writes;
      std::vector<size_t> positions;
      BatchOutcome outcome;
      auto read = [&](JsonElement v, std::string_view field, EntityWrite* w) {
        return read_entity(v, field, db.schema(), kind, "", w);
      };
      TIDAL_RETURN_IF_ERROR(read_batch(items, name, mode, read, &writes, &positions, &outcome));
      BatchIngestResult r = db.upsert(writes, mode);
      add_batch_result(&outcome, r, positions);
      api_->metrics_.add_entity_writes(outcome.accepted, outcome.rejected);
      batch_response(outcome, "index");
      return Status::Ok();
    });
  }

  void entities_bulk(EntityKind kind) {
    with_db([&](Database& db) {
      std::vector<EntityWrite> writes;
      std::vector<size_t> lines;
      BatchOutcome outcome;
      auto flush = [&] {
        if (writes.empty()) return;
        BatchIngestResult r = db.upsert(writes, BatchMode::kApplyValid);
        add_batch_result(&outcome, r, lines);
        writes.clear();
        lines.clear();
      };
      Status parsed = for_each_ndjson_line(req_.body, [&](size_t line, std::string_view text) {
        JsonElement v;
        EntityWrite w;
        Status st;
        if (auto err = thread_parser().parse(text.data(), text.size()).get(v);
            err != simdjson::SUCCESS) {
          st = bad_request("line", std::string("invalid JSON: ") + simdjson::error_message(err));
        } else {
          st = read_entity(v, "", db.schema(), kind, "", &w);
        }
        if (!st.ok()) {
          ++outcome.rejected;
          outcome.errors.emplace_back(line, st);
        } else {
          writes.push_back(std::move(w));
          lines.push_back(line);
          if (writes.size() >= kBulkChunk) flush();
        }
        return Status::Ok();
      });
      flush();
      api_->metrics_.add_entity_writes(outcome.accepted, outcome.rejected);
      batch_response(outcome, "line");
      return parsed;
    });
  }

  void item_signals(const std::string& key) {
    with_db([&](Database& db) {
      TIDAL_ASSIGN_OR_RETURN(ItemSignals sig, db.item_signals(key));
      std::string& out = res_->body;
      out = "{\"item\":";
      append_json_string(&out, sig.item);
      out += ",\"registered\":";
      out += sig.registered ? "true" : "false";
      out += ",\"signals\":[";
      for (size_t i = 0; i < sig.signals.size(); ++i) {
        const SignalSnapshot& s = sig.signals[i];
        if (i > 0) out += ',';
        out += "{\"signal\":";
        append_json_string(&out, s.signal);
        out += ",\"decayed\":";
        append_json_number(&out, s.decayed);
        out += ",\"windows\":[";
        for (size_t j = 0; j < s.windows.size(); ++j) {
          const WindowSignal& w = s.windows[j];
          if (j > 0) out += ',';
          out += "{\"window\":";
          append_json_string(&out, format_duration(w.window));
          out += ",\"count\":" + std::to_string(w.count) + ",\"sum\":";
          append_json_number(&out, w.sum);
          out += ",\"previous_count\":" + std::to_string(w.previous_count) + ",\"velocity\":";
          append_json_number(&out, w.velocity);
          out += '}';
        }
        out += "]}";
      }
      out += "]}\n";
      return Status::Ok();
    });
  }

  void write_key_list(const std::string& name, const std::vector<std::string>& keys) {
    std::string& out = res_->body;
    out = "{";
    append_json_string(&out, name);
    out += ":[";
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(&out, keys[i]);
    }
    out += "]}\n";
  }

  void followers(EntityKind kind, const std::string& key) {
    size_t limit;
    if (!limit_param(1000, 100000, &limit)) return;
    with_db([&](Database& db) {
      TIDAL_ASSIGN_OR_RETURN(std::vector<std::string> users, db.followers(kind, key, limit));
      write_key_list("followers", users);
      return Status::Ok();
    });
  }

  void related(const std::string& user) {
    size_t limit;
    if (!limit_param(1000, 100000, &limit)) return;
    std::string relation_text(param("relation").value_or("follow"));
    std::string kind_text(param("target_kind").value_or("creator"));
    Result<Relation> relation = parse_relation(relation_text, "relation");
    if (!relation.ok()) return fail(relation.status());
    Result<EntityKind> kind = parse_entity_kind(kind_text, "target_kind");
    if (!kind.ok()) return fail(kind.status());
    with_db([&](Database& db) {
      TIDAL_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                             db.related(user, *relation, *kind, limit));
      write_key_list("targets", keys);
      return Status::Ok();
    });
  }

  void affinities(const std::string& user) {
    size_t limit;
    if (!limit_param(20, 10000, &limit)) return;
    with_db([&](Database& db) {
      TIDAL_ASSIGN_OR_RETURN(std::vector<AffinityEntry> entries, db.top_affinities(user, limit));
      std::string& out = res_->body;
      out = "{\"affinities\":[";
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += ',';
        out += "{\"creator\":";
        append_json_string(&out, entries[i].creator);
        out += ",\"weight\":";
        append_json_number(&out, entries[i].weight);
        out += '}';
      }
      out += "]}\n";
      return Status::Ok();
    });
  }

  void relationship_single() {
    auto doc = parse_body("one relationship");
    if (!doc) return;
    RelationshipWrite w;
    if (Status st = read_relationship(*doc, "", &w); !st.ok()) return fail(st);
    with_db([&](Database& db) {
      Result<uint64_t> seq = db.relate(w);
      api_->metrics_.add_entity_writes(seq.ok() ? 1 : 0, seq.ok() ? 0 : 1);
      if (!seq.ok()) return seq.status();
      write_sequence(&res_->body, *seq);
      return Status::Ok();
    });
  }

  void relationships_batch() {
    auto doc = parse_body("{\"relationships\": [...]}");
    if (!doc) return;
    array items;
    BatchMode mode = BatchMode::kApplyValid;
    if (!batch_body(*doc, "relationships", &items, &mode)) return;
    std::vector<RelationshipWrite> writes;
    std::vector<size_t> positions;
    BatchOutcome outcome;
    if (Status st = read_batch(items, "relationships", mode, read_relationship, &writes, &positions,
                               &outcome);
        !st.ok()) {
      return fail(st);
    }
    with_db([&](Database& db) {
      BatchIngestResult r = db.relate(writes, mode);
      add_batch_result(&outcome, r, positions);
      api_->metrics_.add_entity_writes(outcome.accepted, outcome.rejected);
      batch_response(outcome, "index");
      return Status::Ok();
    });
  }

  bool budget_from(double ms, QueryOptions* opts) {
    if (!(ms >= 1 && ms <= 600000)) {
      fail(Status::Invalid(Subsystem::kServer, "time_budget_ms", number_text_short(ms),
                           "must be between 1 and 600000"));
      return false;
    }
    opts->time_budget = Duration(static_cast<int64_t>(ms * 1000));
    return true;
  }

  static std::string number_text_short(double v) {
    std::string s;
    append_json_number(&s, v);
    return s;
  }

  void query() {
    std::string tql;
    std::string json_form;
    bool with_plan = false;
    QueryOptions opts;
    // A key is checked before the body is read; CREATE needs admin (below).
    if (!authorize(Scope::kSearch)) return;
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
        } else {
          return fail(bad_request(key, std::string(key) + ": unknown field (known: tql, query, "
                                                          "time_budget_ms, plan)"));
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

  void profiles() {
    const std::vector<std::string>& s = target_.segments;
    if (s.size() == 1) {
      if (!method_is({"GET"}) || !authorize(Scope::kSearch)) return;
      return with_db([&](Database& db) {
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
    if (s.size() != 2) return not_found();
    const std::string& name = s[1];
    if (!method_is({"GET", "PUT"})) return;
    if (req_.method == "GET") {
      if (!authorize(Scope::kSearch)) return;
      return with_db([&](Database& db) {
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
    if (!authorize(Scope::kAdmin)) return;
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
      TIDAL_ASSIGN_OR_RETURN(QueryResult r,
                             db.query("CREATE PROFILE " + name + " AS " + expression));
      std::string& out = res_->body;
      out = "{\"name\":";
      append_json_string(&out, name);
      out += ",\"message\":";
      append_json_string(&out, r.message);
      out += "}\n";
      return Status::Ok();
    });
  }

  void checkpoint() {
    with_db([&](Database& db) {
      TIDAL_RETURN_IF_ERROR(db.checkpoint());
      res_->body =
          "{\"checkpoint_sequence\":" + std::to_string(db.stats().checkpoint_sequence) + "}\n";
      return Status::Ok();
    });
  }

  void migrate(bool signal);
  // After the database was closed and could not be opened with the new
  // schema: opens it with its stored one, then answers with `why`.

  Api* api_;
  const HttpRequest& req_;
  HttpResponse* res_;
  Target target_;
};

namespace {

Status read_duration(JsonElement v, std::string_view field, Duration* out) {
  std::string_view text;
  if (v.get_string().get(text) != simdjson::SUCCESS) {
    return bad_request(field, std::string(field) + ": expected a duration string such as \"6h\"");
  }
  TIDAL_ASSIGN_OR_RETURN(*out, parse_duration(text, field, Subsystem::kServer));
  return Status::Ok();
}

Status read_flag(JsonElement v, std::string_view field, bool* out) {
  if (v.get_bool().get(*out) != simdjson::SUCCESS) {
    return bad_request(field, std::string(field) + ": expected a bool");
  }
  return Status::Ok();
}

Status read_text(JsonElement v, std::string_view field, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    return bad_request(field, std::string(field) + ": expected a string");
  }
  *out = std::string(s);
  return Status::Ok();
}

Status read_double(JsonElement v, std::string_view field, double* out) {
  if (v.get_double().get(*out) != simdjson::SUCCESS) {
    return bad_request(field, std::string(field) + ": expected a number");
  }
  return Status::Ok();
}

// {"name", "half_life", "windows"?, "velocity"?, "polarity"?, "value_kind"?,
//  "learning_rate"?, "affinity_delta"?}
Status read_signal_spec(JsonElement doc, SignalTypeSpec* spec) {
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return bad_request("body", "expected a signal type object");
  }
  for (auto [key, value] : obj) {
    if (key == "name") {
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &spec->name));
    } else if (key == "half_life") {
      TIDAL_RETURN_IF_ERROR(read_duration(value, key, &spec->half_life));
    } else if (key == "windows") {
      array arr;
      if (value.get_array().get(arr) != simdjson::SUCCESS) {
        return bad_request(key, "windows: expected an array of durations");
      }
      size_t i = 0;
      for (JsonElement w : arr) {
        Duration d;
        TIDAL_RETURN_IF_ERROR(read_duration(w, "windows[" + std::to_string(i++) + "]", &d));
        spec->windows.push_back(d);
      }
    } else if (key == "velocity") {
      TIDAL_RETURN_IF_ERROR(read_flag(value, key, &spec->velocity));
    } else if (key == "polarity") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &text));
      TIDAL_ASSIGN_OR_RETURN(spec->polarity, parse_polarity(text, key));
    } else if (key == "value_kind") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &text));
      TIDAL_ASSIGN_OR_RETURN(spec->value_kind, parse_value_kind(text, key));
    } else if (key == "learning_rate") {
      TIDAL_RETURN_IF_ERROR(read_double(value, key, &spec->learning_rate));
    } else if (key == "affinity_delta") {
      TIDAL_RETURN_IF_ERROR(read_double(value, key, &spec->affinity_delta));
    } else {
      return bad_request(key, std::string(key) +
                                  ": unknown field (known: name, half_life, windows, velocity, "
                                  "polarity, value_kind, learning_rate, affinity_delta)");
    }
  }
  return Status::Ok();
}

// {"kind", "name", "type", "filterable"?, "sortable"?, "vector_dim"?, "metric"?,
//  "stemmer"?, "stop_words"?, "boost"?, "k1"?, "b"?}
Status read_attribute_spec(JsonElement doc, EntityKind* kind, AttributeSpec* spec) {
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return bad_request("body", "expected an attribute object");
  }
  bool has_kind = false;
  for (auto [key, value] : obj) {
    if (key == "kind") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &text));
      TIDAL_ASSIGN_OR_RETURN(*kind, parse_entity_kind(text, key));
      has_kind = true;
    } else if (key == "name") {
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &spec->name));
    } else if (key == "type") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &text));
      TIDAL_ASSIGN_OR_RETURN(spec->type, parse_attribute_type(text, key));
    } else if (key == "filterable") {
      TIDAL_RETURN_IF_ERROR(read_flag(value, key, &spec->filterable));
    } else if (key == "sortable") {
      TIDAL_RETURN_IF_ERROR(read_flag(value, key, &spec->sortable));
    } else if (key == "vector_dim") {
      int64_t dim;
      if (value.get_int64().get(dim) != simdjson::SUCCESS || dim < 0 || dim > 1'000'000) {
        return bad_request(key, "vector_dim: expected a whole number");
      }
      spec->vector_dim = static_cast<uint32_t>(dim);
    } else if (key == "metric") {
      std::string text;
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &text));
      TIDAL_ASSIGN_OR_RETURN(VectorMetric m, parse_vector_metric(text, key));
      spec->metric = m;
    } else if (key == "stemmer") {
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &spec->text.stemmer));
    } else if (key == "stop_words") {
      TIDAL_RETURN_IF_ERROR(read_text(value, key, &spec->text.stop_words));
    } else if (key == "boost") {
      TIDAL_RETURN_IF_ERROR(read_double(value, key, &spec->text.boost));
    } else if (key == "k1") {
      TIDAL_RETURN_IF_ERROR(read_double(value, key, &spec->text.k1));
    } else if (key == "b") {
      TIDAL_RETURN_IF_ERROR(read_double(value, key, &spec->text.b));
    } else {
      return bad_request(key, std::string(key) +
                                  ": unknown field (known: kind, name, type, filterable, "
                                  "sortable, vector_dim, metric, stemmer, stop_words, boost, k1, "
                                  "b)");
    }
  }
  if (!has_kind) return bad_request("kind", "kind: is required (item, user or creator)");
  return Status::Ok();
}

}  // namespace

void Api::Request::migrate(bool signal) {
  auto doc = parse_body(signal ? "a signal type" : "an attribute");
  if (!doc) return;
  SignalTypeSpec signal_spec;
  AttributeSpec attribute_spec;
  EntityKind kind = EntityKind::kItem;
  Status st = signal ? read_signal_spec(*doc, &signal_spec)
                     : read_attribute_spec(*doc, &kind, &attribute_spec);
  if (!st.ok()) return fail(st);

  // A schema change through the WAL: other requests go on while it applies.
  with_db([&](Database& db) -> Status {
    Result<Schema> extended =
        signal ? db.add_signal_type(signal_spec) : db.add_attribute(kind, attribute_spec);
    if (!extended.ok()) return extended.status();
    write_schema(&res_->body, *extended);
    return Status::Ok();
  });
}

Api::Api(std::unique_ptr<Database> db, ApiOptions options, KeyStore keys)
    : options_(std::move(options)),
      keys_(std::move(keys)),
      started_(std::chrono::steady_clock::now()),
      db_(std::move(db)) {}

Api::~Api() {
  (void)close();
}

void Api::handle(const HttpRequest& request, HttpResponse* response) {
  auto t0 = std::chrono::steady_clock::now();
  metrics_.in_flight(1);
  Request r(this, request, response);
  r.run();
  metrics_.in_flight(-1);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics_.record_request(r.route, response->status, secs);
}

bool Api::may_block(const HttpRequest& request) {
  if (request.method == "GET" || request.method == "HEAD") return false;
  std::string_view path = request.target.substr(0, request.target.find('?'));
  if (request.method == "POST" && path == "/v1/query") {
    // Only a statement that writes (CREATE) waits on the WAL. A body that
    // does not parse is answered on the event loop, with the reason.
    JsonElement doc;
    if (request.body.empty() ||
        thread_parser().parse(request.body.data(), request.body.size()).get(doc) !=
            simdjson::SUCCESS) {
      return false;
    }
    Result<PreparedStatement> statement = [&]() -> Result<PreparedStatement> {
      std::string_view tql;
      JsonElement q;
      if (doc["tql"].get_string().get(tql) == simdjson::SUCCESS) return Database::prepare(tql);
      if (doc["query"].get(q) == simdjson::SUCCESS) {
        return Database::prepare_json(simdjson::minify(q));
      }
      return Status::Invalid(Subsystem::kServer, "body", "", "holds no statement");
    }();
    return statement.ok() && statement->writes();
  }
  return true;
}

Result<std::unique_ptr<HttpServer>> start_http(Api& api, const HttpServerOptions& options) {
  return HttpServer::start(
      options, [&api](const HttpRequest& req, HttpResponse* res) { api.handle(req, res); },
      &Api::may_block);
}

Status Api::close() {
  std::unique_lock<std::shared_mutex> lk(db_mu_);
  if (db_ == nullptr) return Status::Ok();
  Status st = db_->close();
  db_.reset();
  return st;
}

}  // namespace tidal::server
