#include "cli_backend.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli_folder.h"
#include "cli_results.h"
#include "cli_usage.h"
#include "core/json_text.h"
#include "query/ast.h"
#include "query/printer.h"
#include "server/schema_document.h"
#include "server/wire.h"

namespace tidal::cli {

namespace {

using simdjson::dom::element;

// ---- A database opened here -------------------------------------------------

class LocalBackend final : public Backend {
 public:
  LocalBackend(std::string dir, std::unique_ptr<Database> db)
      : dir_(std::move(dir)), db_(std::move(db)) {}

  std::string where() const override { return dir_; }
  Result<QueryResult> query(const std::string& tql, const QueryOptions& options) override {
    return db_->query(tql, options);
  }
  Result<Schema> schema() override { return db_->schema(); }
  std::vector<std::vector<std::string>> cells(EntityKind kind, const std::vector<std::string>& keys,
                                              const std::vector<std::string>& attributes) override {
    std::vector<std::vector<std::string>> out;
    for (const std::string& key : keys) {
      Result<Entity> e = db_->get(kind, key);
      std::vector<std::string> row;
      for (const std::string& name : attributes) {
        row.push_back(attribute_cell(e.ok() ? e->find(name) : nullptr));
      }
      out.push_back(std::move(row));
    }
    return out;
  }
  Result<std::vector<std::vector<std::string>>> stats() override {
    DatabaseStats st = db_->stats();
    auto n = [](uint64_t v) { return std::to_string(v); };
    return std::vector<std::vector<std::string>>{
        {"events applied", n(st.events_applied)},
        {"duplicates", n(st.duplicates)},
        {"items known", n(st.items)},
        {"live items", n(st.live_items)},
        {"live users", n(st.live_users)},
        {"live creators", n(st.live_creators)},
        {"entity bytes", n(st.entity_bytes)},
        {"active states", n(st.active_states)},
        {"warm bytes", n(st.warm_bytes)},
        {"hot bytes", n(st.hot_bytes)},
        {"users with feed state", n(st.users_with_state)},
        {"user state bytes", n(st.user_state_bytes)},
        {"last sequence", n(st.last_sequence)},
        {"checkpoint sequence", n(st.checkpoint_sequence)}};
  }
  bool wait_for_backfills() override { return cli::wait_for_backfills(*db_); }
  bool close() override { return close_database(*db_); }

 private:
  std::string dir_;
  std::unique_ptr<Database> db_;
};

// ---- A server ---------------------------------------------------------------

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A JSON value as a table cell, the way attribute_cell shows the typed value.
std::string json_cell(element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::STRING: return std::string(v.get_string().value());
    case simdjson::dom::element_type::INT64: return std::to_string(v.get_int64().value());
    case simdjson::dom::element_type::UINT64: return std::to_string(v.get_uint64().value());
    case simdjson::dom::element_type::DOUBLE: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.4g", v.get_double().value());
      return buf;
    }
    case simdjson::dom::element_type::BOOL: return v.get_bool().value() ? "true" : "false";
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array arr = v.get_array().value();
      std::string out;
      size_t n = 0;
      bool numbers = false;
      for (element e : arr) {
        ++n;
        if (e.is_string()) {
          out += (out.empty() ? "" : ", ") + std::string(e.get_string().value());
        } else {
          numbers = true;
        }
      }
      return numbers ? "[" + std::to_string(n) + " numbers]" : out;
    }
    default: return "-";
  }
}

double json_score(element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    if (s == "NaN") return std::nan("");
    return s.front() == '-' ? -INFINITY : INFINITY;
  }
  double d = 0;
  return v.get_double().get(d) == simdjson::SUCCESS ? d : std::nan("");
}

// The result object of POST /v1/query (server::write_query_result) read back.
Result<QueryResult> read_query_result(const std::string& body, const std::string& url) {
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    return Status::IoError(Subsystem::kServer,
                           "the server at " + url + " answered a query with something not JSON");
  }
  QueryResult r;
  simdjson::dom::array rows;
  if (doc["rows"].get_array().get(rows) == simdjson::SUCCESS) {
    for (element row : rows) {
      r.rows.push_back(QueryRow{.key = std::string(row["key"].get_string().value_unsafe()),
                                .score = json_score(row["score"].value_unsafe())});
    }
  }
  std::string_view text;
  if (doc["cursor"].get_string().get(text) == simdjson::SUCCESS) r.cursor = text;
  if (doc["message"].get_string().get(text) == simdjson::SUCCESS) r.message = text;
  uint64_t count = 0;
  if (doc["count"].get_uint64().get(count) == simdjson::SUCCESS) r.count = count;
  double took = 0;
  if (doc["took_ms"].get_double().get(took) == simdjson::SUCCESS) r.total_micros = took * 1000;
  simdjson::dom::array plan;
  if (doc["plan"].get_array().get(plan) == simdjson::SUCCESS) {
    for (element p : plan) {
      PlanStage st;
      st.name = std::string(p["stage"].get_string().value_unsafe());
      st.detail = std::string(p["detail"].get_string().value_unsafe());
      st.rows_in = p["rows_in"].get_uint64().value_unsafe();
      st.rows_out = p["rows_out"].get_uint64().value_unsafe();
      st.micros = p["micros"].get_double().value_unsafe();
      r.plan.push_back(std::move(st));
    }
  }
  r.explain = doc["explain"].error() == simdjson::SUCCESS;
  return r;
}

class RemoteBackend final : public Backend {
 public:
  explicit RemoteBackend(std::unique_ptr<HttpClient> http) : http_(std::move(http)) {}

  std::string where() const override { return http_->url(); }

  Result<QueryResult> query(const std::string& tql, const QueryOptions& options) override {
    std::string body = "{\"tql\":";
    append_json_string(&body, tql);
    body +=
        ",\"time_budget_ms\":" +
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(options.time_budget).count()) +
        "}";
    TIDAL_ASSIGN_OR_RETURN(HttpAnswer a, http_->request("POST", "/v1/query", body));
    if (a.status != 200) return http_->error_of(a);
    return read_query_result(a.body, http_->url());
  }

  Result<Schema> schema() override { return server_schema(*http_); }

  std::vector<std::vector<std::string>> cells(EntityKind kind, const std::vector<std::string>& keys,
                                              const std::vector<std::string>& attributes) override {
    // One listing call for the whole page: GET /v1/{kind}?where=key IN (...).
    std::map<std::string, std::vector<std::string>> by_key;
    if (!keys.empty()) {
      std::string where = "key IN (";
      for (size_t i = 0; i < keys.size(); ++i) {
        where += (i > 0 ? ", " : "") + query::quote_tql(keys[i]);
      }
      where += ")";
      const std::string target = "/v1/" + std::string(query::target_name(kind)) +
                                 "?limit=" + std::to_string(keys.size()) +
                                 "&where=" + url_encode(where);
      Result<HttpAnswer> a = http_->request("GET", target);
      simdjson::dom::parser parser;
      element doc;
      simdjson::dom::array list;
      if (a.ok() && a->status == 200 && parser.parse(a->body).get(doc) == simdjson::SUCCESS &&
          doc[std::string(query::target_name(kind))].get_array().get(list) == simdjson::SUCCESS) {
        for (element e : list) {
          std::vector<std::string> row;
          for (const std::string& name : attributes) {
            element v;
            row.push_back(e["attributes"][name].get(v) == simdjson::SUCCESS ? json_cell(v) : "-");
          }
          by_key[std::string(e["key"].get_string().value_unsafe())] = std::move(row);
        }
      }
    }
    std::vector<std::vector<std::string>> out;
    for (const std::string& key : keys) {
      auto it = by_key.find(key);
      out.push_back(it != by_key.end() ? it->second
                                       : std::vector<std::string>(attributes.size(), "-"));
    }
    return out;
  }

  Result<std::vector<std::vector<std::string>>> stats() override { return server_health(*http_); }

  bool wait_for_backfills() override {
    std::fprintf(stderr,
                 "the server counts the cohort's members' earlier events in the background "
                 "(GET /v1/cohorts shows its progress)\n");
    return true;
  }
  bool close() override { return true; }

 private:
  std::unique_ptr<HttpClient> http_;
};

}  // namespace

std::optional<ServerTarget> server_target(const Args& args, bool* bad) {
  std::optional<std::string> url = flag_value(args, "--url", bad);
  std::optional<std::string> key = flag_value(args, "--key", bad);
  if (*bad) return std::nullopt;
  if (!url) {
    const char* env = std::getenv("TIDAL_URL");
    if (env != nullptr && *env != '\0' && !args.has("--data")) url = env;
  }
  if (!url) {
    if (key) {
      std::fprintf(stderr, "tidal: --key needs --url (the server to send it to)\n");
      *bad = true;
    }
    return std::nullopt;
  }
  if (args.has("--data")) {
    std::fprintf(stderr, "tidal: give --data DIR or --url URL, not both\n");
    *bad = true;
    return std::nullopt;
  }
  if (!key) {
    const char* env = std::getenv("TIDAL_KEY");
    if (env != nullptr) key = env;
  }
  return ServerTarget{.url = *url, .key = key.value_or("")};
}

std::unique_ptr<HttpClient> connect_server(const ServerTarget& target) {
  Result<std::unique_ptr<HttpClient>> http = HttpClient::create(target.url, target.key);
  if (!http.ok()) {
    std::fprintf(stderr, "tidal: %s\n", http.status().message().c_str());
    return nullptr;
  }
  // An authenticated read: the server is up and takes the key.
  Result<HttpAnswer> a = (*http)->request("GET", "/v1/schema");
  Status st = !a.ok() ? a.status() : a->status == 200 ? Status::Ok() : (*http)->error_of(*a);
  if (!st.ok()) {
    std::fprintf(stderr, "tidal: %s\n", st.message().c_str());
    return nullptr;
  }
  return std::move(http).value();
}

Result<Schema> server_schema(HttpClient& http) {
  TIDAL_ASSIGN_OR_RETURN(HttpAnswer a, http.request("GET", "/v1/schema"));
  if (a.status != 200) return http.error_of(a);
  return server::schema_from_document(a.body);
}

Result<std::vector<std::vector<std::string>>> server_health(HttpClient& http,
                                                            std::string* present) {
  TIDAL_ASSIGN_OR_RETURN(HttpAnswer a, http.request("GET", "/health"));
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(a.body).get(doc) != simdjson::SUCCESS) return http.error_of(a);
  std::vector<std::vector<std::string>> out;
  for (const char* name : {"status", "writable", "version", "last_sequence", "checkpoint_sequence",
                           "uptime_seconds"}) {
    element v;
    if (doc[name].get(v) == simdjson::SUCCESS) out.push_back({name, json_cell(v)});
  }
  element p;
  if (doc["present"]["mode"].get(p) == simdjson::SUCCESS) out.push_back({"present", json_cell(p)});
  if (present != nullptr && doc["present"].get(p) == simdjson::SUCCESS) {
    *present = simdjson::minify(p);
  }
  return out;
}

std::unique_ptr<Backend> open_backend(const Args& args, bool* usage) {
  std::optional<ServerTarget> target = server_target(args, usage);
  if (*usage) return nullptr;
  if (target) {
    std::unique_ptr<HttpClient> http = connect_server(*target);
    if (!http) return nullptr;
    return std::make_unique<RemoteBackend>(std::move(http));
  }
  std::optional<std::string> dir = data_dir(args);
  if (!dir) {
    *usage = true;
    return nullptr;
  }
  std::unique_ptr<Database> db = open_database(*dir, DatabaseOptions{});
  if (!db) return nullptr;
  return std::make_unique<LocalBackend>(*dir, std::move(db));
}

}  // namespace tidal::cli
