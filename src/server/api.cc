#include "server/api.h"

#include <simdjson.h>

#include "server/api_request.h"

namespace tidal::server {

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

namespace {

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

}  // namespace

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
  // Every GET and HEAD route answers from memory.
  if (request.method == "GET" || request.method == "HEAD") return false;
  Result<Target> target = parse_target(request.target);
  if (!target.ok()) return false;  // answered at once with the reason
  Request::Match m;
  bool path_matched = false;
  std::string allowed;
  RouteClass route_class = RouteClass::kOther;
  const Request::Route* r =
      Request::find_route(request.method, *target, &m, &path_matched, &allowed, &route_class);
  if (r == nullptr) return false;  // 404 or 405, at once
  if (r->worker != Request::Route::Worker::kIfWrites)
    return r->worker == Request::Route::Worker::kYes;
  // Only a statement that writes (CREATE) waits on the WAL. A body that
  // does not parse is answered on the event loop, with the reason.
  JsonElement doc;
  if (request.body.empty() ||
      thread_parser().parse(request.body.data(), request.body.size()).get(doc) !=
          simdjson::SUCCESS) {
    return false;
  }
  // A feed that records what it served writes one WAL record.
  bool record_served = false;
  if (doc["record_served"].get_bool().get(record_served) == simdjson::SUCCESS && record_served) {
    return true;
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
