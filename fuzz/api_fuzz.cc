// libFuzzer target for the HTTP API (server::Api, docs/http-api.md): every
// input is one request, handled by Api::handle against a live database.
//
// Input format:
//   byte 0   who asks. Bits 0-1: 0 and 1 ask the open-access Api, 2 and 3
//            the Api with keys. Bits 2-4 pick the credentials (keyed Api
//            only): 0 none, 1 the search key, 2 the write key, 3 the admin
//            key, 4 a key that is not configured, 5 "Bearer " with no key,
//            6 a Basic credential, 7 the admin key as "bearer <key>".
//            Bit 5: send the key in X-API-Key instead of Authorization.
//   byte 1   the route: kRoutes[byte % size] (a method and a path).
//   then     up to the first '\n': appended to the route's path (an entity
//            key, a profile name, a query string, ...). For the raw route it
//            is "METHOD TARGET" and makes the whole request line.
//   rest     the body.
// fuzz/corpus/api/ holds valid requests of every kind; fuzz/api.dict the
// JSON tokens, field names and TQL words.
//
// Invariants (abort with a message when broken):
//   - the status is below 500: with a healthy disk and durability kNone no
//     request can make the server fail;
//   - every body except /metrics' text is JSON (simdjson parses it), an object;
//   - every 4xx body has "error" with "code" and "message" strings.
//
// Left out: POST /v1/schema/signals and /v1/schema/attributes. A migration
// closes the database and opens it again (tens of milliseconds): they would
// slow every input down, so requests for them are skipped.
//
// The databases grow with every accepted write; every kInputsPerDatabase
// inputs both are thrown away and opened fresh. A crash that depends on the
// state earlier inputs left may therefore need the inputs before it to
// reproduce (libFuzzer's -runs over the corpus in order).
//
// Run with scripts/fuzz.sh api [seconds].
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "server/api.h"
#include "server/auth.h"
#include "tidal/clock.h"
#include "tidal/database.h"
#include "tidal/schema.h"

namespace {

using tidal::server::Api;
using tidal::server::HttpRequest;
using tidal::server::HttpResponse;

constexpr uint64_t kInputsPerDatabase = 20'000;
// The database's clock: 2026-11-24T12:00:00Z, so that the seed events'
// timestamps stay within the accepted skew whenever the fuzzer runs.
constexpr int64_t kNowMicros = 1'795'521'600'000'000;

constexpr std::string_view kSearchKey = "tdl_fuzz_search_key";
constexpr std::string_view kWriteKey = "tdl_fuzz_write_key";
constexpr std::string_view kAdminKey = "tdl_fuzz_admin_key";

struct Route {
  std::string_view method;
  std::string_view path;  // the input's suffix line is appended
};

// Every route of api.cc but the two migrations. An empty method: the suffix
// line is the request line.
constexpr Route kRoutes[] = {
    {"POST", "/v1/events"},               // 0
    {"POST", "/v1/events/batch"},         // 1
    {"POST", "/v1/events/bulk"},          // 2
    {"PUT", "/v1/items/"},                // 3  the suffix is the key
    {"PUT", "/v1/users/"},                // 4
    {"PUT", "/v1/creators/"},             // 5
    {"PATCH", "/v1/items/"},              // 6
    {"PATCH", "/v1/users/"},              // 7
    {"PATCH", "/v1/creators/"},           // 8
    {"GET", "/v1/items/"},                // 9  also <key>/signals
    {"GET", "/v1/users/"},                // 10 also <key>/relationships, <key>/affinities
    {"GET", "/v1/creators/"},             // 11 also <key>/followers
    {"DELETE", "/v1/items/"},             // 12
    {"DELETE", "/v1/users/"},             // 13
    {"DELETE", "/v1/creators/"},          // 14
    {"POST", "/v1/items/batch"},          // 15
    {"POST", "/v1/users/batch"},          // 16
    {"POST", "/v1/creators/batch"},       // 17
    {"POST", "/v1/items/bulk"},           // 18
    {"POST", "/v1/users/bulk"},           // 19
    {"POST", "/v1/creators/bulk"},        // 20
    {"POST", "/v1/relationships"},        // 21
    {"POST", "/v1/relationships/batch"},  // 22
    {"GET", "/v1/query?q="},              // 23 the suffix is the (%-encoded) query string
    {"POST", "/v1/query"},                // 24
    {"GET", "/v1/schema"},                // 25
    {"GET", "/v1/profiles"},              // 26 also /<name>
    {"PUT", "/v1/profiles/"},             // 27
    {"POST", "/v1/checkpoint"},           // 28
    {"GET", "/health"},                   // 29
    {"GET", "/metrics"},                  // 30
    {"", ""},                             // 31 raw: the suffix is "METHOD TARGET"
    {"GET", "/v1/present"},               // 32
    {"POST", "/v1/present"},              // 33
};
constexpr size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

[[noreturn]] void fail(const char* what, const HttpRequest& req, const HttpResponse& res) {
  // fwrite: the request and response may hold NUL bytes.
  std::string text = "api_fuzz: " + std::string(what) + "\nrequest: " + std::string(req.method) +
                     " " + std::string(req.target) + "\nbody: " + std::string(req.body) +
                     "\nstatus: " + std::to_string(res.status) + "\nresponse: " + res.body + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::abort();
}

tidal::Schema fuzz_schema() {
  using tidal::AttributeSpec;
  using tidal::AttributeType;
  using tidal::EntityKind;
  tidal::SchemaBuilder b = tidal::SchemaBuilder::with_default_signals();
  b.add_attribute(
      EntityKind::kItem,
      {.name = "category", .type = AttributeType::kKeyword, .filterable = true, .sortable = true});
  b.add_attribute(EntityKind::kItem, {.name = "title",
                                      .type = AttributeType::kText,
                                      .text = {.stemmer = "english", .stop_words = "english"}});
  b.add_attribute(
      EntityKind::kItem,
      {.name = "duration", .type = AttributeType::kInt, .filterable = true, .sortable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "quality", .type = AttributeType::kFloat, .sortable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "nsfw", .type = AttributeType::kBool, .filterable = true});
  b.add_attribute(EntityKind::kItem, {.name = "published",
                                      .type = AttributeType::kTimestamp,
                                      .filterable = true,
                                      .sortable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "tags", .type = AttributeType::kTags, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "embedding", .type = AttributeType::kVector, .vector_dim = 4});
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kUser, {.name = "age", .type = AttributeType::kInt});
  b.add_attribute(EntityKind::kUser,
                  {.name = "embedding", .type = AttributeType::kVector, .vector_dim = 4});
  b.add_attribute(EntityKind::kCreator,
                  {.name = "verified", .type = AttributeType::kBool, .filterable = true});
  b.add_attribute(EntityKind::kCreator, {.name = "bio", .type = AttributeType::kText});
  auto schema = b.build();
  if (!schema.ok()) {
    std::fprintf(stderr, "api_fuzz: schema: %s\n", schema.status().to_string().c_str());
    std::abort();
  }
  return std::move(schema).value();
}

// One Api over a database in its own temporary folder.
class FuzzedApi {
 public:
  FuzzedApi(const tidal::Schema& schema, const tidal::Clock* clock, bool open_access) {
    char dir_template[] = "/tmp/tidal_api_fuzz_XXXXXX";
    if (mkdtemp(dir_template) == nullptr) {
      std::perror("api_fuzz: mkdtemp");
      std::abort();
    }
    dir_ = dir_template;
    tidal::server::ApiOptions options;
    tidal::DatabaseOptions db_options;
    db_options.durability = tidal::Durability::kNone;
    db_options.background_checkpoints = false;
    db_options.strict_items = false;
    db_options.clock = clock;
    options.open_access = open_access;
    auto db = tidal::Database::open(dir_, schema, db_options);
    if (!db.ok()) {
      std::fprintf(stderr, "api_fuzz: open %s: %s\n", dir_.c_str(),
                   db.status().to_string().c_str());
      std::abort();
    }
    tidal::server::KeyStore keys;
    if (!open_access) {
      keys.add_key(tidal::server::Scope::kSearch, kSearchKey);
      keys.add_key(tidal::server::Scope::kWrite, kWriteKey);
      keys.add_key(tidal::server::Scope::kAdmin, kAdminKey);
    }
    api_ = std::make_unique<Api>(std::move(db).value(), std::move(options), std::move(keys));
  }
  ~FuzzedApi() {
    (void)api_->close();
    api_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Api& api() { return *api_; }

 private:
  std::string dir_;
  std::unique_ptr<Api> api_;
};

struct State {
  tidal::Schema schema = fuzz_schema();
  tidal::ManualClock clock{tidal::from_micros(kNowMicros)};
  std::unique_ptr<FuzzedApi> open;
  std::unique_ptr<FuzzedApi> keyed;
  uint64_t inputs = 0;

  void reopen() {
    open.reset();
    keyed.reset();
    open = std::make_unique<FuzzedApi>(schema, &clock, true);
    keyed = std::make_unique<FuzzedApi>(schema, &clock, false);
  }
};

State* state = nullptr;

void close_state() {
  delete state;
  state = nullptr;
}

// The path with %-escapes decoded, as the router sees its segments.
std::string decoded_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      out +=
          static_cast<char>(std::strtol(std::string(path.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

void check(const HttpRequest& req, const HttpResponse& res) {
  if (res.status < 100 || res.status >= 500) fail("status is not 1xx-4xx", req, res);
  if (res.content_type.rfind("text/plain", 0) == 0) {
    if (res.status != 200) fail("an error response that is not JSON", req, res);
    return;  // /metrics: Prometheus text
  }
  if (res.content_type != "application/json") fail("unexpected content type", req, res);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(res.body).get(doc) != simdjson::SUCCESS) {
    fail("the response body is not JSON", req, res);
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    fail("the response body is not an object", req, res);
  }
  if (res.status >= 400) {
    std::string_view code, message;
    if (obj["error"]["code"].get_string().get(code) != simdjson::SUCCESS || code.empty()) {
      fail("an error response without error.code", req, res);
    }
    if (obj["error"]["message"].get_string().get(message) != simdjson::SUCCESS || message.empty()) {
      fail("an error response without error.message", req, res);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  state = new State;
  state->reopen();
  std::atexit(close_state);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t who = data[0];
  const Route& route = kRoutes[data[1] % kRouteCount];
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t nl = rest.find('\n');
  std::string_view suffix = rest.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);

  std::string method, target;
  if (route.method.empty()) {
    size_t sp = suffix.find(' ');
    if (sp == std::string_view::npos) return 0;
    method = std::string(suffix.substr(0, sp));
    target = std::string(suffix.substr(sp + 1));
    // The HTTP parser lets through only methods made of token characters.
    for (char c : method) {
      if (c <= ' ' || c >= 0x7f ||
          std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos) {
        return 0;
      }
    }
  } else {
    method = std::string(route.method);
    target = std::string(route.path) + std::string(suffix);
  }
  if (method == "POST" && decoded_path(target).find("/schema/") != std::string::npos) {
    return 0;  // a migration: see the top of the file
  }

  if (++state->inputs % kInputsPerDatabase == 0) state->reopen();
  const bool keyed = (who & 0x3) >= 2;
  const unsigned credentials = (who >> 2) & 0x7;
  const bool x_api_key = (who >> 5) & 1;
  std::string key;
  switch (credentials) {
    case 1: key = kSearchKey; break;
    case 2: key = kWriteKey; break;
    case 3: key = kAdminKey; break;
    case 4: key = "tdl_not_a_configured_key"; break;
    default: break;
  }
  std::string authorization;
  if (credentials == 5) authorization = "Bearer ";
  if (credentials == 6) authorization = "Basic dXNlcjpwYXNz";
  if (credentials == 7) authorization = "bearer " + std::string(kAdminKey);
  if (!key.empty() && !x_api_key) authorization = "Bearer " + key;

  HttpRequest req;
  req.method = method;
  req.target = target;
  req.body = body;
  req.content_type = "application/json";
  req.authorization = authorization;
  if (!key.empty() && x_api_key) req.api_key = key;
  HttpResponse res;
  // The server asks this of every request before handling it (it parses a
  // POST /v1/query body): it must not crash either.
  (void)Api::may_block(req);
  (keyed ? state->keyed : state->open)->api().handle(req, &res);
  check(req, res);
  return 0;
}
