// http_bench: tidalDB over HTTP on loopback, driven by wrk, beside the same
// work through the embedded API in the same run (issue "HTTP server":
// "HTTP batch ingest >= 50% of the embedded rate; a trending top-20 query
// >= 20k QPS at p99 <= 5 ms on 2 cores").
//
// State: a fresh database (fsync, the default durability; no background
// checkpoints, so none lands inside one side's measurement) with W1's items
// and users (W1Entities) and W1 signal history whose last simulated day ends
// now (so trending windows are full and new events are "now").
//
// Ingest: a pool of batches of 1,000 events (Zipf(1.1) items, W1's signal
// mix, no timestamp: the database's present). Embedded: T threads call
// Database::ingest(span) for a fixed time, before and after the HTTP runs
// (the mean is the figure: the disk's sync rate drifts). HTTP: the in-process server
// (server::Api + server::HttpServer, 127.0.0.1, open access) over the same
// database; wrk with T connections POSTs the same batches as JSON to
// /v1/events/batch and as NDJSON to /v1/events/bulk. Each thread or wrk
// thread cycles through its own share of the pool, so no batch is sent twice
// at the same microsecond (events without an idempotency key are
// deduplicated by content, timestamp included). Every run checks
// Database::stats(): the applied count must match what was sent and no event
// may be a duplicate; otherwise the bench fails.
//
// Queries: RANK items BY hot and TRENDING items BY view WINDOW 24h, LIMIT 20,
// through Database::query on one thread (p50, p99, QPS), through Api::handle
// in-process (the handler without the transport) and through GET /v1/query
// with wrk (2 threads, 8/16/32 connections; --quick: 16). Peers with the same
// wrk settings: GET /health, and GET /v1/none — the router's 404, which
// touches no database: the transport's ceiling.
//
//   http_bench [--quick | --smoke] [--server-threads N] [--skip-ingest] [folder]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/api.h"
#include "server/http_server.h"
#include "support/bench_report.h"
#include "support/w1_workload.h"
#include "tidal/database.h"

namespace tidal::bench {
namespace {

constexpr const char* kBench = "http_bench";
constexpr uint64_t kSeed = 1;
constexpr size_t kBatchEvents = 1000;  // events per ingest batch / request
constexpr int kLoadThreads = 2;
constexpr size_t kLoadBatch = 5000;
constexpr size_t kChunk = 200'000;  // history events generated at a time
constexpr int kQueryWrkThreads = 2;

constexpr double kTargetIngestRatio = 0.5;
constexpr double kTargetQps = 20'000;
constexpr double kTargetP99Ms = 5;

// W1's signal mix (w1_workload.cc), in the order of the default signal types.
constexpr const char* kSignals[] = {"view", "like", "skip", "share", "completion", "dwell_time"};
constexpr double kSignalShare[] = {0.60, 0.12, 0.15, 0.03, 0.07, 0.03};

[[noreturn]] void die(const std::string& what) {
  bench_fail("http_bench", what);
}

struct RunConfig {
  W1Config w1;         // the history: items, users, events, days
  size_t batches = 0;  // distinct ingest batches (a multiple of every thread count)
  int seconds = 0;     // per ingest or query run
  double embedded_query_s = 0;
  std::vector<int> connections;     // query runs
  std::vector<int> ingest_threads;  // ingest runs
};

RunConfig run_config(const BenchArgs& args) {
  RunConfig c;
  c.w1 = W1Config::quick(kSeed);
  c.w1.users = 10'000;
  c.w1.creators = 2'000;
  c.ingest_threads = {2, 4};
  if (args.smoke) {
    c.w1 = W1Config::smoke(kSeed);
    c.batches = 16;
    // A user per pooled event: two threads' events can then never be equal
    // (same item, user and signal at the same microsecond count as one), which
    // a loaded machine otherwise hits with few users.
    c.w1.users = c.batches * kBatchEvents;
    c.seconds = 1;
    c.embedded_query_s = 0.05;
    c.connections = {4};
    c.ingest_threads = {2};
  } else if (args.quick) {
    c.w1.items = 10'000;
    c.w1.events = 300'000;
    c.w1.days = 1;
    c.batches = 64;
    c.seconds = 3;
    c.embedded_query_s = 0.5;
    c.connections = {16};
  } else {
    c.w1.items = 100'000;
    c.w1.events = 2'000'000;
    c.w1.days = 2;
    c.batches = 256;
    c.seconds = 15;
    c.embedded_query_s = 3;
    c.connections = {8, 16, 32};
  }
  // The history ends a minute ago, inside the accepted past skew.
  const int64_t now_min = to_micros(SystemClock::instance()->now()) / 60'000'000;
  c.w1.start = from_micros((now_min - 1 - int64_t{c.w1.days} * 24 * 60) * 60'000'000);
  return c;
}

DatabaseOptions db_options() {
  DatabaseOptions o;  // fsync, the clock's present
  o.background_checkpoints = false;
  return o;
}

// ---------------------------------------------------------------------------
// State

std::unique_ptr<Database> build_state(const std::string& dir, const RunConfig& rc) {
  Result<std::unique_ptr<Database>> opened =
      Database::open(dir, W1Entities::schema(), db_options());
  if (!opened.ok()) die("open " + dir + ": " + opened.status().to_string());
  std::unique_ptr<Database> db = std::move(*opened);
  W1Entities entities(rc.w1);
  std::vector<EntityWrite> writes;
  for (size_t n = 0; n < rc.w1.items; ++n) writes.push_back(W1Entities::write(entities.item(n)));
  for (size_t n = 0; n < rc.w1.users; ++n) writes.push_back(W1Entities::write(entities.user(n)));
  double upsert_s = upsert_all(*db, writes, 4000, kLoadThreads, kBench);
  W1Generator gen(rc.w1);
  std::vector<SignalEvent> events;
  double ingest_s = 0;
  while (gen.next(&events, kChunk) > 0) {
    ingest_s += ingest_all(*db, events, kLoadBatch, kLoadThreads, kBench);
  }
  std::printf(
      "  state: %zu items + %zu users upserted in %.1f s; %llu history events over %d "
      "days ingested in %.1f s; load %.2f\n",
      rc.w1.items, rc.w1.users, upsert_s, static_cast<unsigned long long>(rc.w1.events), rc.w1.days,
      ingest_s, host_load());
  return db;
}

// ---------------------------------------------------------------------------
// The ingest pool: one batch as events and as both request bodies

struct Batch {
  std::vector<SignalEvent> events;
  std::string json;    // {"events":[...]}
  std::string ndjson;  // one event per line
};

// Events without timestamps (the database's present) and without
// idempotency keys; within a batch every user differs, so no two events of
// a batch have the same content.
std::vector<Batch> make_batches(const RunConfig& rc) {
  std::mt19937_64 rng(kSeed + 7);
  ZipfSampler items(rc.w1.items, rc.w1.item_zipf);
  std::discrete_distribution<size_t> signal(std::begin(kSignalShare), std::end(kSignalShare));
  std::lognormal_distribution<double> dwell(3.0, 1.0);
  std::vector<Batch> out(rc.batches);
  for (size_t b = 0; b < out.size(); ++b) {
    Batch& batch = out[b];
    batch.json = "{\"events\":[";
    for (size_t j = 0; j < kBatchEvents; ++j) {
      SignalEvent e;
      e.item = "i" + std::to_string(items(rng));
      e.user = "u" + std::to_string((b * kBatchEvents + j) % rc.w1.users);
      e.signal = kSignals[signal(rng)];
      std::string line = "{\"item\":\"" + e.item + "\",\"user\":\"" + e.user + "\",\"signal\":\"" +
                         e.signal + "\"";
      if (e.signal == "dwell_time") {
        e.value = std::round(dwell(rng) * 10) / 10;
        char buf[32];
        std::snprintf(buf, sizeof buf, ",\"value\":%.1f", e.value);
        line += buf;
      }
      line += "}";
      batch.json += (j == 0 ? "" : ",") + line;
      batch.ndjson += line + "\n";
      batch.events.push_back(std::move(e));
    }
    batch.json += "]}";
  }
  return out;
}

// What the database counted, to check a run against what was sent.
struct Counts {
  uint64_t applied = 0;
  uint64_t duplicates = 0;
};

Counts counts(const Database& db) {
  DatabaseStats s = db.stats();
  return {s.events_applied, s.duplicates};
}

// Embedded: `threads` threads ingest their share of the batches (thread t
// takes batches t, t + threads, ...) round-robin until `seconds` passed.
double embedded_ingest(Database& db, const std::vector<Batch>& batches, int threads, int seconds) {
  const Counts before = counts(db);
  std::atomic<uint64_t> accepted{0};
  const double start = now_seconds();
  const double deadline = start + seconds;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t k = static_cast<size_t>(t); now_seconds() < deadline; k += threads) {
        const Batch& b = batches[k % batches.size()];
        BatchIngestResult r = db.ingest(b.events, BatchMode::kApplyValid);
        if (r.rejected > 0) die("embedded ingest rejected " + std::to_string(r.rejected));
        accepted += r.accepted;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const double elapsed = now_seconds() - start;
  const Counts after = counts(db);
  // Two threads may stamp the same microsecond on batches that share a
  // (user, item, signal): the database answers the second one a duplicate,
  // as docs/signals.md promises. So applied + duplicates must equal what
  // was accepted, and duplicates must stay that rare.
  const uint64_t dups = after.duplicates - before.duplicates;
  if (after.applied - before.applied + dups != accepted || dups * 10000 > accepted) {
    die("embedded ingest: " + std::to_string(accepted.load()) +
        " accepted, but the database "
        "applied " +
        std::to_string(after.applied - before.applied) + " and counted " +
        std::to_string(after.duplicates - before.duplicates) + " duplicates");
  }
  return static_cast<double>(accepted) / elapsed;
}

// ---------------------------------------------------------------------------
// wrk

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Prints one machine-readable line when wrk is done: the figures come from
// wrk's own summary, not from its human output.
constexpr const char* kWrkDone = R"lua(
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %d %d %d %d %d %d %d %.1f %.1f %.1f\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
)lua";

// A wrk script POSTing the batches' bodies to `path`: wrk thread t sends the
// bodies t, t + threads, ... in turn (setup() numbers the threads), each
// request pre-formatted once in init().
std::string ingest_script(const std::vector<Batch>& batches, bool ndjson, int threads) {
  std::string s = "local path = \"" + std::string(ndjson ? "/v1/events/bulk" : "/v1/events/batch") +
                  "\"\nlocal content_type = \"" +
                  (ndjson ? "application/x-ndjson" : "application/json") + "\"\n";
  s += "local threads = " + std::to_string(threads) + "\nbodies = {\n";
  for (const Batch& b : batches) s += "[==[" + (ndjson ? b.ndjson : b.json) + "]==],\n";
  s += R"lua(}
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  reqs = {}
  for i = 1, #bodies do
    if (i - 1) % threads == tid then
      reqs[#reqs + 1] = wrk.format("POST", path, {["Content-Type"] = content_type}, bodies[i])
    end
  end
  bodies = nil
  k = 0
end
function request()
  k = k % #reqs + 1
  return reqs[k]
end
)lua";
  return s + kWrkDone;
}

struct WrkResult {
  uint64_t requests = 0;
  double seconds = 0;
  uint64_t non_2xx = 0;
  uint64_t socket_errors = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0;
  double qps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
};

WrkResult run_wrk(const std::string& script, const std::string& url, int threads, int connections,
                  bool expect_2xx, int seconds) {
  const std::string cmd = "wrk -t" + std::to_string(threads) + " -c" + std::to_string(connections) +
                          " -d" + std::to_string(seconds) + "s --timeout 10s --latency -s " +
                          script + " '" + url + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) die("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = ::pclose(p);
  WrkResult r;
  const size_t at = out.find("WRK_RESULT ");
  unsigned long long req = 0, dur = 0, status = 0, conn = 0, rd = 0, wr = 0, to = 0;
  double p50 = 0, p90 = 0, p99 = 0;
  if (rc != 0 || at == std::string::npos ||
      std::sscanf(out.c_str() + at, "WRK_RESULT %llu %llu %llu %llu %llu %llu %llu %lf %lf %lf",
                  &req, &dur, &status, &conn, &rd, &wr, &to, &p50, &p90, &p99) != 10) {
    die("wrk failed (" + cmd + "):\n" + out);
  }
  r.requests = req;
  r.seconds = static_cast<double>(dur) * 1e-6;
  r.non_2xx = status;
  r.socket_errors = conn + rd + wr + to;
  r.p50_ms = p50 / 1000;
  r.p90_ms = p90 / 1000;
  r.p99_ms = p99 / 1000;
  if ((expect_2xx ? r.non_2xx > 0 : r.non_2xx != r.requests) || r.socket_errors > 0 ||
      r.requests == 0) {
    die("wrk saw " + std::to_string(r.non_2xx) + " non-2xx responses and " +
        std::to_string(r.socket_errors) + " socket errors in " + std::to_string(r.requests) +
        " requests (" + cmd + "):\n" + out);
  }
  return r;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) die("cannot write " + path);
}

// ---------------------------------------------------------------------------
// HTTP runs

struct Server {
  Database* db = nullptr;  // owned by api
  std::unique_ptr<server::Api> api;
  std::unique_ptr<server::HttpServer> http;
  std::string base_url;
};

// An HTTP ingest run: wrk with `connections` connections and as many
// threads. events/s = requests/s x 1,000, checked against Database::stats():
// every request wrk completed was applied in full (requests in flight when
// wrk stopped may add at most one batch per connection), duplicates rare.
WrkResult http_ingest(Server& s, const std::string& script, const std::string& path,
                      int connections, int seconds) {
  const Counts before = counts(*s.db);
  WrkResult r = run_wrk(script, s.base_url + path, connections, connections, true, seconds);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let requests in flight land
  const Counts after = counts(*s.db);
  // Same-microsecond duplicates across connections count as landed (see
  // embedded_ingest) but must stay rare.
  const uint64_t dups = after.duplicates - before.duplicates;
  const uint64_t applied = after.applied - before.applied + dups;
  const uint64_t sent = r.requests * kBatchEvents;
  if (dups * 10000 > sent || applied < sent ||
      applied > sent + static_cast<uint64_t>(connections) * kBatchEvents ||
      applied % kBatchEvents != 0) {
    die(path + ": wrk completed " + std::to_string(r.requests) + " requests (" +
        std::to_string(sent) + " events) but the database applied " + std::to_string(applied) +
        " events and counted " + std::to_string(after.duplicates - before.duplicates) +
        " duplicates");
  }
  return r;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// One request through Api::handle (no transport): the route must answer
// 200, and a query 20 rows, before wrk times it.
void preflight(server::Api& api, const std::string& target, size_t rows) {
  server::HttpRequest req;
  req.method = "GET";
  req.target = target;
  server::HttpResponse res;
  api.handle(req, &res);
  size_t keys = 0;
  for (size_t at = res.body.find("\"key\":"); at != std::string::npos;
       at = res.body.find("\"key\":", at + 1)) {
    ++keys;
  }
  if (res.status != 200 || keys != rows) {
    die("GET " + target + ": status " + std::to_string(res.status) + ", " + std::to_string(keys) +
        " rows (expected " + std::to_string(rows) + "): " + res.body);
  }
}

struct QueryKind {
  std::string name;  // metric prefix
  std::string tql;
};

std::vector<QueryKind> query_kinds() {
  return {{"query_hot", "RANK items BY hot LIMIT 20"},
          {"query_trending", "TRENDING items BY view WINDOW 24h LIMIT 20"}};
}

// ---------------------------------------------------------------------------

struct Options {
  BenchArgs args;
  size_t server_threads = 8;
  bool skip_ingest = false;
};

void run(const std::string& base, const Options& opt) {
  const RunConfig rc = run_config(opt.args);
  BenchReport report(kBench);
  struct TargetRow {
    std::string figure, value, target;
    bool met;
  };
  std::vector<TargetRow> targets;
  auto fmt = [](const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return std::string(buf);
  };

  std::unique_ptr<Database> owned = build_state(base + "/db", rc);
  Server s;
  s.db = owned.get();
  report.add("items", static_cast<double>(rc.w1.items), "items", "W1Entities, 8 attributes");
  report.add("history_events", static_cast<double>(rc.w1.events), "events",
             std::to_string(rc.w1.days) + " days of W1 ending now, Zipf(1.1) items");
  report.add("host_load_start", host_load(), "load", "1-min load average after the load");
  server::ApiOptions api_options;
  api_options.open_access = true;
  s.api = std::make_unique<server::Api>(std::move(owned), api_options, server::KeyStore{});
  server::HttpServerOptions http_options;
  http_options.port = 0;
  http_options.threads = opt.server_threads;
  Result<std::unique_ptr<server::HttpServer>> started = server::start_http(*s.api, http_options);
  if (!started.ok()) die("server: " + started.status().to_string());
  s.http = std::move(*started);
  s.base_url = "http://127.0.0.1:" + std::to_string(s.http->port());
  std::printf("  server on %s, %zu event loops, %zu write workers\n", s.base_url.c_str(),
              static_cast<size_t>(std::max(1u, std::thread::hardware_concurrency())),
              opt.server_threads);
  const std::string done_script = base + "/done.lua";
  write_file(done_script, kWrkDone);

  if (!opt.skip_ingest) {
    const std::vector<Batch> batches = make_batches(rc);
    for (int t : rc.ingest_threads) {
      const std::string n = std::to_string(t);
      const std::string batch_script = base + "/batch" + n + ".lua";
      const std::string bulk_script = base + "/bulk" + n + ".lua";
      write_file(batch_script, ingest_script(batches, false, t));
      write_file(bulk_script, ingest_script(batches, true, t));
      // Embedded before and after the HTTP runs (their mean is the figure):
      // the disk's sync rate drifts from minute to minute on a shared host.
      const double embedded_before = embedded_ingest(*s.db, batches, t, rc.seconds);
      const WrkResult batch = http_ingest(s, batch_script, "/v1/events/batch", t, rc.seconds);
      const WrkResult bulk = http_ingest(s, bulk_script, "/v1/events/bulk", t, rc.seconds);
      const double embedded_after = embedded_ingest(*s.db, batches, t, rc.seconds);
      const double embedded = (embedded_before + embedded_after) / 2;
      const double batch_eps = batch.qps() * kBatchEvents;
      const double bulk_eps = bulk.qps() * kBatchEvents;
      std::printf(
          "  ingest, %d threads/connections: embedded %.0f then %.0f events/s, batch %.0f (p50 "
          "%.1f ms, p99 %.1f ms), bulk %.0f (p99 %.1f ms), load %.2f\n",
          t, embedded_before, embedded_after, batch_eps, batch.p50_ms, batch.p99_ms, bulk_eps,
          bulk.p99_ms, host_load());
      report.add("embedded_ingest_events_per_s_t" + n, embedded, "events/s",
                 "Database::ingest, " + n + " threads, batches of 1,000, fsync; mean of " +
                     fmt("%.0f", embedded_before) + " (before HTTP) and " +
                     fmt("%.0f", embedded_after) + " (after)");
      report.add("http_ingest_events_per_s_c" + n, batch_eps, "events/s",
                 "POST /v1/events/batch (JSON), wrk " + n + " connections");
      report.add("http_ingest_p50_ms_c" + n, batch.p50_ms, "ms", "per 1,000-event request");
      report.add("http_ingest_p99_ms_c" + n, batch.p99_ms, "ms", "per 1,000-event request");
      report.add("http_bulk_events_per_s_c" + n, bulk_eps, "events/s",
                 "POST /v1/events/bulk (NDJSON), wrk " + n + " connections");
      const double ratio = batch_eps / embedded;
      const bool ok = ratio >= kTargetIngestRatio;
      report.add("ratio_http_ingest_c" + n, ratio, "x", "batch / embedded; " + meets(ok, ">= 0.5"));
      report.add("ratio_http_bulk_c" + n, bulk_eps / embedded, "x", "bulk / embedded");
      targets.push_back(
          {"HTTP batch ingest / embedded, " + n + " conns", fmt("%.2f", ratio), ">= 0.50", ok});
    }
    report.add("host_load_ingest", host_load(), "load", "after the ingest runs");
  }

  const int qs = rc.seconds;
  for (const QueryKind& k : query_kinds()) {
    const std::string target = "/v1/query?q=" + url_encode(k.tql);
    preflight(*s.api, target, 20);
    const double t0 = now_seconds();
    Latency lat = time_queries(
        [&] {
          Result<QueryResult> r = s.db->query(k.tql);
          if (!r.ok() || r->rows.size() != 20) die(k.tql + ": " + r.status().to_string());
        },
        1'000'000, 1000, rc.embedded_query_s);
    const double qps = static_cast<double>(lat.queries) / (now_seconds() - t0);
    std::printf("  %s embedded: p50 %.1f us, p99 %.1f us, %.0f q/s (one thread)\n", k.tql.c_str(),
                lat.p50_us, lat.p99_us, qps);
    report.add(k.name + "_embedded_p50_us", lat.p50_us, "us", k.tql + ", Database::query");
    report.add(k.name + "_embedded_p99_us", lat.p99_us, "us");
    report.add(k.name + "_embedded_qps", qps, "q/s", "one thread");
  }
  preflight(*s.api, "/health", 0);
  // Api::handle in-process, one thread: what each route costs without the
  // transport (GET /v1/none is the router's 404, touching no database).
  for (const auto& [name, target] : std::vector<std::pair<std::string, std::string>>{
           {"health", "/health"},
           {"notfound", "/v1/none"},
           {query_kinds()[0].name, "/v1/query?q=" + url_encode(query_kinds()[0].tql)},
           {query_kinds()[1].name, "/v1/query?q=" + url_encode(query_kinds()[1].tql)}}) {
    server::HttpRequest req;
    req.method = "GET";
    req.target = target;
    Latency lat = time_queries(
        [&] {
          server::HttpResponse res;
          s.api->handle(req, &res);
        },
        1'000'000, 100, rc.embedded_query_s);
    std::printf("  Api::handle GET %s: p50 %.1f us, p99 %.1f us\n", target.c_str(), lat.p50_us,
                lat.p99_us);
    report.add("api_handle_" + name + "_p50_us", lat.p50_us, "us",
               "Api::handle(GET " + (target.size() > 24 ? target.substr(0, 24) + "..." : target) +
                   ") in-process, one thread");
  }
  for (int c : rc.connections) {
    const std::string n = std::to_string(c);
    const WrkResult health =
        run_wrk(done_script, s.base_url + "/health", kQueryWrkThreads, c, true, qs);
    std::printf("  GET /health c%d: %.0f q/s, p50 %.2f ms, p99 %.2f ms, load %.2f\n", c,
                health.qps(), health.p50_ms, health.p99_ms, host_load());
    report.add("health_qps_c" + n, health.qps(), "q/s", "GET /health, wrk 2 threads");
    report.add("health_p99_ms_c" + n, health.p99_ms, "ms");
    const WrkResult none =
        run_wrk(done_script, s.base_url + "/v1/none", kQueryWrkThreads, c, false, qs);
    std::printf("  GET /v1/none (404) c%d: %.0f q/s, p50 %.2f ms, p99 %.2f ms, load %.2f\n", c,
                none.qps(), none.p50_ms, none.p99_ms, host_load());
    report.add("notfound_qps_c" + n, none.qps(), "q/s",
               "GET /v1/none: the router's 404, no database; the transport's ceiling");
    for (const QueryKind& k : query_kinds()) {
      const WrkResult q = run_wrk(done_script, s.base_url + "/v1/query?q=" + url_encode(k.tql),
                                  kQueryWrkThreads, c, true, qs);
      std::printf("  %s c%d: %.0f q/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, load %.2f\n",
                  k.tql.c_str(), c, q.qps(), q.p50_ms, q.p90_ms, q.p99_ms, host_load());
      const bool ok = q.qps() >= kTargetQps && q.p99_ms <= kTargetP99Ms;
      report.add(k.name + "_qps_c" + n, q.qps(), "q/s",
                 "GET /v1/query, wrk 2 threads, " + n + " connections");
      report.add(k.name + "_p50_ms_c" + n, q.p50_ms, "ms");
      report.add(k.name + "_p90_ms_c" + n, q.p90_ms, "ms");
      report.add(k.name + "_p99_ms_c" + n, q.p99_ms, "ms", meets(ok, ">= 20k q/s at p99 <= 5 ms"));
      report.add("ratio_" + k.name + "_health_c" + n, q.qps() / health.qps(), "x",
                 "query QPS / health QPS");
      report.add("ratio_" + k.name + "_notfound_c" + n, q.qps() / none.qps(), "x",
                 "query QPS / 404 QPS (the transport's ceiling)");
      targets.push_back({k.name + ", " + n + " conns",
                         fmt("%.0f q/s", q.qps()) + ", p99 " + fmt("%.2f ms", q.p99_ms),
                         ">= 20k q/s, p99 <= 5 ms", ok});
    }
  }
  report.add("host_load_end", host_load(), "load", "1-min load average (2 cores, shared host)");
  report.add("server_threads", static_cast<double>(opt.server_threads), "threads",
             "HttpServerOptions::threads");

  s.http->stop();
  Status closed = s.api->close();
  if (!closed.ok()) die("close: " + closed.to_string());

  std::printf("\n%-40s  %-26s  %-26s  %s\n", "figure", "value", "target", "met?");
  std::printf("%s\n", std::string(104, '-').c_str());
  for (const TargetRow& t : targets) {
    std::printf("%-40s  %-26s  %-26s  %s\n", t.figure.c_str(), t.value.c_str(), t.target.c_str(),
                t.met ? "yes" : "NO");
  }
  report.print();
}

int run_main(int argc, char** argv) {
  BenchArgs args = parse_bench_args(
      argc, argv,
      "http_bench [--quick | --smoke] [--server-threads N] [--skip-ingest] [folder]\n"
      "  tidalDB over HTTP on loopback (wrk) beside the embedded API.\n"
      "  --quick: 10k items, 3 s runs (well under a minute); default: 100k items, 15 s runs.\n"
      "  --smoke: 1k items, 1 s runs, one connection count (for make test).\n"
      "  --server-threads N: the server's write workers, HttpServerOptions::threads (default 8);\n"
      "    reads run on one event loop per core.\n"
      "  --skip-ingest: only the query runs.");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Options opt;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.rest.size(); ++i) {
    if (args.rest[i] == "--server-threads" && i + 1 < args.rest.size()) {
      opt.server_threads = std::strtoul(args.rest[++i].c_str(), nullptr, 10);
      if (opt.server_threads == 0) die("--server-threads: expected a number >= 1");
    } else if (args.rest[i] == "--skip-ingest") {
      opt.skip_ingest = true;
    } else {
      rest.push_back(args.rest[i]);
    }
  }
  args.rest = rest;
  opt.args = args;
  if (!on_path("wrk")) {
    std::fprintf(stderr,
                 "http_bench: wrk is not on PATH (Debian: apt-get install wrk; "
                 "scripts/install-deps.sh installs it)\n");
    return 1;
  }
  const std::string base = bench_folder(args, "http-bench");
  std::printf("http_bench%s: folder %s, load %.2f, %u cores\n", args.mode_flag(), base.c_str(),
              host_load(), std::thread::hardware_concurrency());
  run(base, opt);
  std::filesystem::remove_all(base);
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run_main(argc, argv);
}
