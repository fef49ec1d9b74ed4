// signal_bench: the signal engine on workload W1 (../shared/WORKLOADS.md) and,
// in the same run, the same events and questions on Redis, the peer a team
// would otherwise use (issue 4, "Benchmark").
//
// tidalDB: durable ingest (fsync, 2 threads, batches of 500/1000/5000),
// memory per active (item, signal), top-20 latency for hot / top / rising,
// clean reopen after close, and reopen after a crash (WAL replay).
// Redis: redis-server on loopback (appendfsync everysec), one forward-decayed
// sorted set per signal (ZINCRBY with weight e^{λ(t−L)}) plus per-hour sorted
// sets per signal for windows, pipelined through hiredis from 2 connections.
//
//   signal_bench [--quick | --smoke] [folder]   (default folder: a fresh one under $TMPDIR or /tmp)
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/bench_report.h"
#include "support/w1_workload.h"
#include "tidal/database.h"

#ifdef TIDAL_HAVE_HIREDIS
#include <hiredis/hiredis.h>

#include "support/redis_peer.h"
#endif

namespace tidal::bench {
namespace {

constexpr const char* kBench = "signal_bench";
constexpr int kIngestThreads = 2;
constexpr size_t kBatchSizes[] = {500, 1000, 5000};
constexpr size_t kQueries = 1000;
constexpr size_t kWarmupQueries = 100;
constexpr size_t kTopN = 20;
constexpr uint64_t kSeed = 1;
// A Redis query kind stops early once it has taken this long (the 24-hour
// ZUNIONSTORE over 1M items is slow); the note says how many ran.
constexpr double kRedisQueryBudgetSeconds = 60;

constexpr double kTargetEventsPerSecond = 500e3;
constexpr double kTargetBytesPerState = 256;
constexpr double kTargetP99Us = 1000;
constexpr double kTargetReplayPerSecond = 1e6;
constexpr double kTargetRedisRatio = 3;

[[noreturn]] void die(const std::string& what) {
  bench_fail("signal_bench", what);
}

// ---------------------------------------------------------------------------
// The three questions, asked of both systems

struct QueryKind {
  const char* name;
  TrendingQuery query;
};

std::vector<QueryKind> query_kinds() {
  using std::chrono::hours;
  return {{"hot_view", {.kind = TrendingKind::kHot, .signal = "view", .limit = kTopN}},
          {"top_view_24h",
           {.kind = TrendingKind::kTop, .signal = "view", .window = hours(24), .limit = kTopN}},
          {"rising_view_1h",
           {.kind = TrendingKind::kRising, .signal = "view", .window = hours(1), .limit = kTopN}}};
}

// ---------------------------------------------------------------------------
// tidalDB

std::unique_ptr<Database> open_db(const std::string& path, const Schema& schema) {
  Result<std::unique_ptr<Database>> db = Database::open(path, schema, w1_load_options());
  if (!db.ok()) die("open " + path + ": " + db.status().to_string());
  return std::move(*db);
}

// Ingests `events` with kIngestThreads threads; returns seconds.
double tidal_ingest(Database& db, std::span<const SignalEvent> events, size_t batch) {
  return run_batches(events.size(), batch, kIngestThreads, [&](int, size_t begin, size_t end) {
    BatchIngestResult r = db.ingest(events.subspan(begin, end - begin), BatchMode::kApplyValid);
    if (r.rejected == 0) return;
    for (const Status& s : r.errors) {
      if (!s.ok()) die("ingest rejected " + std::to_string(r.rejected) + ": " + s.to_string());
    }
  });
}

std::vector<TrendingEntry> tidal_top(const Database& db, const TrendingQuery& q) {
  Result<std::vector<TrendingEntry>> r = db.trending(q);
  if (!r.ok()) die("trending: " + r.status().to_string());
  return std::move(*r);
}

std::vector<std::string> items_of(const std::vector<TrendingEntry>& entries) {
  std::vector<std::string> items;
  for (const TrendingEntry& e : entries) items.push_back(e.item);
  return items;
}

// Whether two top-k answers agree: the same score at every rank (within 1e-9
// relative: replay may sum in another order) and the same item wherever its
// score is not tied with a neighbour's (tie order follows internal ids, which
// follow the order two ingest threads happened to reach the WAL).
bool same_answer(const std::vector<TrendingEntry>& a, const std::vector<TrendingEntry>& b) {
  auto same = [](double x, double y) {
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y));
  };
  if (a.size() != b.size()) return false;
  for (size_t r = 0; r < a.size(); ++r) {
    if (!same(a[r].score, b[r].score)) return false;
    bool tied = (r > 0 && same(a[r].score, a[r - 1].score)) ||
                (r + 1 < a.size() && same(a[r].score, a[r + 1].score));
    if (!tied && a[r].item != b[r].item) return false;
  }
  return true;
}

// The query kinds whose top-20 in `db` is not the same_answer() as
// `answers`, by name; the top entry of each is printed.
std::string differing_kinds(const Database& db,
                            const std::vector<std::vector<TrendingEntry>>& answers) {
  std::string out;
  const std::vector<QueryKind> kinds = query_kinds();
  for (size_t k = 0; k < kinds.size(); ++k) {
    std::vector<TrendingEntry> now = tidal_top(db, kinds[k].query);
    const std::vector<TrendingEntry>& was = answers[k];
    if (same_answer(was, now)) continue;
    out += (out.empty() ? "" : ", ") + std::string(kinds[k].name);
    auto first = [](const std::vector<TrendingEntry>& v) {
      return v.empty() ? std::string("(none)") : v[0].item + " " + std::to_string(v[0].score);
    };
    std::printf("  %s differs: before %s ... (%zu entries), after %s ... (%zu entries)\n",
                kinds[k].name, first(was).c_str(), was.size(), first(now).c_str(), now.size());
  }
  return out;
}

std::string same_answers_note(const std::string& differs) {
  return differs.empty() ? "same top-20 answers" : "DIFFERENT top-20 answers: " + differs;
}

// A child forked before any database or thread exists: it waits for a batch
// size on a pipe, ingests every event into `path` and _exit()s without
// closing, as a crash would leave the folder. It reports its ingest seconds.
class CrashChild {
 public:
  CrashChild(const std::string& path, const Schema& schema, std::span<const SignalEvent> events) {
    if (::pipe(go_) != 0 || ::pipe(done_) != 0) die("pipe");
    pid_ = ::fork();
    if (pid_ < 0) die("fork");
    if (pid_ == 0) {
      size_t batch = 0;
      if (::read(go_[0], &batch, sizeof batch) != sizeof batch || batch == 0) ::_exit(0);
      std::unique_ptr<Database> db = open_db(path, schema);
      double s = tidal_ingest(*db, events, batch);
      if (::write(done_[1], &s, sizeof s) != sizeof s) ::_exit(2);
      ::_exit(0);  // no close(), no checkpoint: the WAL is all there is
    }
  }

  // Runs the child's ingest and waits for it to die; returns its seconds.
  double run(size_t batch) {
    if (::write(go_[1], &batch, sizeof batch) != sizeof batch) die("pipe write");
    double s = 0;
    if (::read(done_[0], &s, sizeof s) != sizeof s) die("the crash child failed");
    wait();
    return s;
  }

  // Lets an unused child exit.
  ~CrashChild() {
    if (pid_ > 0) {
      size_t zero = 0;
      (void)!::write(go_[1], &zero, sizeof zero);
      wait();
    }
  }

 private:
  void wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the crash child failed");
  }

  int go_[2] = {-1, -1};
  int done_[2] = {-1, -1};
  pid_t pid_ = -1;
};

struct TidalResults {
  std::vector<std::pair<size_t, double>> sweep;  // batch size -> events/s
  size_t best_batch = 0;
  double events_per_s = 0;
  double ingest_load = 0;  // host_load() at the end of the main ingest
  DatabaseStats stats;
  std::vector<Latency> latency;                     // per query_kinds()
  std::vector<std::vector<TrendingEntry>> answers;  // per query_kinds(), at the end
  double close_s = 0;
  double reopen_s = 0;
  std::string reopen_differs;  // query kinds answered differently after a clean reopen
  std::string replay_differs;  // ... after the crash and replay
  double crash_ingest_events_per_s = 0;
  double replay_open_s = 0;
  uint64_t replayed = 0;
};

TidalResults run_tidal(const std::string& base, const Schema& schema,
                       std::span<const SignalEvent> events, CrashChild& child) {
  TidalResults out;
  // Batch sizes are compared on a prefix (all of --quick), each in a fresh
  // folder; the full stream is then ingested with the best.
  std::span<const SignalEvent> prefix = events.first(std::min<size_t>(events.size(), 1'000'000));
  for (size_t batch : kBatchSizes) {
    std::string dir = base + "/sweep-" + std::to_string(batch);
    {
      std::unique_ptr<Database> db = open_db(dir, schema);
      double s = tidal_ingest(*db, prefix, batch);
      out.sweep.emplace_back(batch, static_cast<double>(prefix.size()) / s);
      std::printf("  batch %zu: %.0f events/s over %zu events\n", batch, out.sweep.back().second,
                  prefix.size());
    }
    std::filesystem::remove_all(dir);
  }
  out.best_batch = std::max_element(out.sweep.begin(), out.sweep.end(), [](auto& a, auto& b) {
                     return a.second < b.second;
                   })->first;

  const std::string dir = base + "/tidal";
  const std::vector<QueryKind> kinds = query_kinds();
  {
    std::unique_ptr<Database> db = open_db(dir, schema);
    double s = tidal_ingest(*db, events, out.best_batch);
    out.events_per_s = static_cast<double>(events.size()) / s;
    out.ingest_load = host_load();
    std::printf("  main ingest: %.1f s, %.0f events/s (batch %zu)\n", s, out.events_per_s,
                out.best_batch);
    out.stats = db->stats();
    for (const QueryKind& k : kinds) {
      out.latency.push_back(
          time_queries([&] { (void)tidal_top(*db, k.query); }, kQueries, kWarmupQueries));
      out.answers.push_back(tidal_top(*db, k.query));
    }
    double t0 = now_seconds();
    Status st = db->close();
    out.close_s = now_seconds() - t0;
    if (!st.ok()) die("close: " + st.to_string());
  }
  {
    double t0 = now_seconds();
    std::unique_ptr<Database> db = open_db(dir, schema);
    out.reopen_s = now_seconds() - t0;
    out.reopen_differs = differing_kinds(*db, out.answers);
  }
  std::filesystem::remove_all(dir);

  const std::string crashed = base + "/crashed";
  double child_s = child.run(out.best_batch);
  out.crash_ingest_events_per_s = static_cast<double>(events.size()) / child_s;
  {
    double t0 = now_seconds();
    std::unique_ptr<Database> db = open_db(crashed, schema);
    out.replay_open_s = now_seconds() - t0;
    DatabaseStats st = db->stats();
    out.replayed = st.events_applied;
    out.replay_differs = differing_kinds(*db, out.answers);
    if (st.checkpoint_sequence != 0) die("the crashed database had a checkpoint");
    if (st.events_applied != events.size()) {
      die("replay applied " + std::to_string(st.events_applied) + " of " +
          std::to_string(events.size()) + " events");
    }
  }
  std::filesystem::remove_all(crashed);
  return out;
}

// ---------------------------------------------------------------------------
// Redis

struct RedisResults {
  bool ran = false;
  std::string skip_reason;
  double events_per_s = 0;
  double ingest_load = 0;
  double used_memory = 0;
  std::vector<Latency> latency;                   // per query_kinds()
  std::vector<std::vector<std::string>> answers;  // per query_kinds()
};

#ifdef TIDAL_HAVE_HIREDIS

using redis_peer::kRedisServer;
using redis_peer::RedisConnection;
using redis_peer::RedisReply;
using redis_peer::RedisServer;

constexpr int64_t kHourUs = 3'600'000'000;

std::string hour_key(const std::string& signal, int64_t hour) {
  return "h:" + signal + ":" + std::to_string(hour);
}

// The same work as the ledger: per signal a forward-decayed sorted set
// (ZINCRBY d:<signal> w·e^{λ(t−L)} item, L the first simulated moment) and a
// sorted set per signal and hour (ZINCRBY h:<signal>:<hour> w item), w being
// 1 for count signals and the value for sum signals.
void redis_ingest_batch(RedisConnection& c, const Schema& schema, int64_t landmark_us,
                        std::span<const SignalEvent> batch) {
  std::vector<std::string> strings;  // keys and scores must outlive the appends
  strings.reserve(batch.size() * 4);
  for (const SignalEvent& e : batch) {
    const SignalTypeDefinition* def = schema.find_signal(e.signal);
    double w = def->value_kind == ValueKind::kSum ? e.value : 1.0;
    double age_s = static_cast<double>(to_micros(e.timestamp) - landmark_us) * 1e-6;
    char score[32];
    int n =
        std::snprintf(score, sizeof score, "%.17g", w * std::exp(def->lambda_per_second * age_s));
    strings.emplace_back("d:" + e.signal);
    strings.emplace_back(score, static_cast<size_t>(n));
    n = std::snprintf(score, sizeof score, "%.17g", w);
    strings.emplace_back(hour_key(e.signal, to_micros(e.timestamp) / kHourUs));
    strings.emplace_back(score, static_cast<size_t>(n));
  }
  const size_t lens_zincrby = 7;
  for (size_t i = 0; i < batch.size(); ++i) {
    for (int k = 0; k < 2; ++k) {
      const std::string& key = strings[i * 4 + k * 2];
      const std::string& score = strings[i * 4 + k * 2 + 1];
      const char* argv[] = {"ZINCRBY", key.data(), score.data(), batch[i].item.data()};
      const size_t lens[] = {lens_zincrby, key.size(), score.size(), batch[i].item.size()};
      c.append(4, argv, lens);
    }
  }
  for (size_t i = 0; i < batch.size() * 2; ++i) (void)c.reply();
}

std::vector<std::string> members_of(const RedisReply& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    out.emplace_back(r->element[i]->str, r->element[i]->len);
  }
  return out;
}

RedisResults run_redis(const std::string& base, const Schema& schema,
                       std::span<const SignalEvent> events, int64_t landmark_us, size_t batch) {
  RedisResults out;
  if (!std::filesystem::exists(kRedisServer)) {
    out.skip_reason = std::string(kRedisServer) + " is missing (apt-get install redis-server)";
    return out;
  }
  RedisServer server(base + "/redis");
  double s = 0;
  {
    std::vector<std::unique_ptr<RedisConnection>> conns;
    for (int t = 0; t < kIngestThreads; ++t) {
      conns.push_back(std::make_unique<RedisConnection>(server.port()));
    }
    s = run_batches(events.size(), batch, kIngestThreads, [&](int t, size_t begin, size_t end) {
      redis_ingest_batch(*conns[static_cast<size_t>(t)], schema, landmark_us,
                         events.subspan(begin, end - begin));
    });
  }
  out.events_per_s = static_cast<double>(events.size()) / s;
  out.ingest_load = host_load();
  std::printf("  redis ingest: %.1f s, %.0f events/s (%zu events = %zu commands per round trip)\n",
              s, out.events_per_s, batch, batch * 2);

  RedisConnection c(server.port());
  RedisReply info = c.command({"INFO", "memory"});
  std::string text(info->str, info->len);
  size_t at = text.find("used_memory:");
  if (at != std::string::npos) out.used_memory = std::strtod(text.c_str() + at + 12, nullptr);

  // "Now" is the newest event, as in the database's historical-import mode.
  int64_t now_hour = to_micros(events.back().timestamp) / kHourUs;
  std::vector<std::vector<std::string>> commands;
  for (const QueryKind& k : query_kinds()) {
    std::vector<std::string> argv;
    std::string tmp = "tmp:" + std::string(k.name);
    switch (k.query.kind) {
      case TrendingKind::kHot: break;
      case TrendingKind::kTop: {
        int64_t hours = k.query.window.count() / kHourUs;
        argv = {"ZUNIONSTORE", tmp, std::to_string(hours)};
        for (int64_t h = now_hour - hours + 1; h <= now_hour; ++h) {
          argv.push_back(hour_key(k.query.signal, h));
        }
        break;
      }
      case TrendingKind::kRising:
        argv = {"ZUNIONSTORE",
                tmp,
                "2",
                hour_key(k.query.signal, now_hour),
                hour_key(k.query.signal, now_hour - 1),
                "WEIGHTS",
                "1",
                "-1"};
        break;
    }
    std::string key = k.query.kind == TrendingKind::kHot ? "d:" + k.query.signal : tmp;
    std::vector<std::string> range = {"ZREVRANGE", key, "0", std::to_string(kTopN - 1),
                                      "WITHSCORES"};
    // One round trip: the union (if any) and the range, pipelined.
    auto ask = [&, argv, range]() {
      if (!argv.empty()) c.append(argv);
      c.append(range);
      if (!argv.empty()) (void)c.reply();
      return members_of(c.reply());
    };
    out.latency.push_back(
        time_queries([&] { (void)ask(); }, kQueries, kWarmupQueries, kRedisQueryBudgetSeconds));
    out.answers.push_back(ask());
  }
  server.stop();
  out.ran = true;
  return out;
}

#endif  // TIDAL_HAVE_HIREDIS

size_t overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::set<std::string> sa(a.begin(), a.end());
  size_t n = 0;
  for (const std::string& s : b) n += sa.count(s);
  return n;
}

// ---------------------------------------------------------------------------

int run(int argc, char** argv) {
  BenchArgs args = parse_bench_args(argc, argv, "signal_bench [--quick | --smoke] [folder]");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up while a long run goes on
  std::string base;
  if (!args.rest.empty()) {
    base = args.rest[0] + "/signal-bench";
    std::filesystem::remove_all(base);
    std::filesystem::create_directories(base);
  } else {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/tidal-signal-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) die("mkdtemp");
    base = tmpl;
  }
  Result<Schema> schema = SchemaBuilder::with_default_signals().build();
  if (!schema.ok()) die(schema.status().to_string());

  W1Config config =
      args.sized(W1Config::full(kSeed), W1Config::quick(kSeed), W1Config::smoke(kSeed));
  std::printf("signal_bench: W1%s, %zu items, %llu events over %d days, folder %s\n",
              args.mode_flag(), config.items, static_cast<unsigned long long>(config.events),
              config.days, base.c_str());
  double t0 = now_seconds();
  W1Generator gen(config);
  std::vector<SignalEvent> events;
  events.reserve(config.events);
  std::vector<SignalEvent> chunk;
  while (gen.next(&chunk, 1 << 16) > 0) {
    std::move(chunk.begin(), chunk.end(), std::back_inserter(events));
  }
  std::printf("  generated %zu events in %.1f s\n", events.size(), now_seconds() - t0);
  std::fflush(stdout);

  // Forked now, while the process has one thread and no database open.
  TidalResults tidal;
  {
    CrashChild child(base + "/crashed", *schema, events);
    tidal = run_tidal(base, *schema, events, child);
  }
  RedisResults redis;
#ifdef TIDAL_HAVE_HIREDIS
  if (args.smoke) {
    redis.skip_reason = "--smoke runs no peer servers";
  } else {
    redis = run_redis(base, *schema, events, to_micros(config.start), 500);
  }
#else
  redis.skip_reason = "built without hiredis (libhiredis-dev)";
#endif
  if (!redis.ran) std::printf("SKIP redis peer: %s\n", redis.skip_reason.c_str());
  std::filesystem::remove_all(base);

  // -------------------------------------------------------------------------
  BenchReport report(kBench);
  report.add("events", static_cast<double>(events.size()), "events",
             std::string("W1") + args.mode_flag() + ", seed " + std::to_string(kSeed));
  for (auto [batch, rate] : tidal.sweep) {
    report.add("tidal_ingest_batch_" + std::to_string(batch), rate, "events/s",
               "fsync, 2 threads, first " +
                   std::to_string(std::min<size_t>(events.size(), 1'000'000)) + " events");
  }
  report.add("tidal_ingest", tidal.events_per_s, "events/s",
             meets(tidal.events_per_s >= kTargetEventsPerSecond, ">= 500k/s") + " (batch " +
                 std::to_string(tidal.best_batch) + ")");
  report.add("host_load_tidal_ingest", tidal.ingest_load, "load",
             "1-min load average after the ingest (2 cores; other jobs share the host)");
  report.add("tidal_ingest_repeat", tidal.crash_ingest_events_per_s, "events/s",
             "the crash child's ingest of the same stream");
  const DatabaseStats& st = tidal.stats;
  double states = static_cast<double>(std::max<uint64_t>(st.active_states, 1));
  double hot_warm = static_cast<double>(st.warm_bytes + st.hot_bytes) / states;
  double warm = static_cast<double>(st.warm_bytes) / states;
  report.add("tidal_active_states", static_cast<double>(st.active_states), "states",
             "(item, signal) pairs with windowed state; " + std::to_string(st.items) + " items");
  report.add("tidal_bytes_per_state_hot_warm", hot_warm, "B",
             meets(hot_warm <= kTargetBytesPerState, "<= 256 B"));
  report.add("tidal_bytes_per_state_warm", warm, "B", "warm_bytes / active_states");
  const std::vector<QueryKind> kinds = query_kinds();
  for (size_t k = 0; k < kinds.size(); ++k) {
    std::string n = kinds[k].name;
    report.add("tidal_" + n + "_p50", tidal.latency[k].p50_us, "us");
    report.add("tidal_" + n + "_p99", tidal.latency[k].p99_us, "us",
               meets(tidal.latency[k].p99_us <= kTargetP99Us, "p99 <= 1 ms"));
  }
  report.add("tidal_close", tidal.close_s, "s", "close(): checkpoint of all state");
  report.add("tidal_reopen_after_close", tidal.reopen_s, "s",
             same_answers_note(tidal.reopen_differs));
  report.add("tidal_reopen_after_crash", tidal.replay_open_s, "s",
             std::to_string(tidal.replayed) + " WAL records replayed; " +
                 same_answers_note(tidal.replay_differs));
  double replay_rate = static_cast<double>(tidal.replayed) / tidal.replay_open_s;
  report.add("tidal_replay", replay_rate, "rec/s",
             meets(replay_rate >= kTargetReplayPerSecond, ">= 1M rec/s") + " (whole open)");
  if (redis.ran) {
    report.add("redis_ingest", redis.events_per_s, "events/s",
               "2 connections, 1000 commands per round trip, appendfsync everysec");
    report.add("host_load_redis_ingest", redis.ingest_load, "load", "1-min load average after it");
    report.add("redis_used_memory", redis.used_memory / (1 << 20), "MiB", "INFO used_memory");
    double ratio = tidal.events_per_s / redis.events_per_s;
    report.add("ratio_ingest_tidal_over_redis", ratio, "x",
               meets(ratio >= kTargetRedisRatio, ">= 3x"));
    for (size_t k = 0; k < kinds.size(); ++k) {
      std::string n = kinds[k].name;
      report.add("redis_" + n + "_p50", redis.latency[k].p50_us, "us");
      report.add("redis_" + n + "_p99", redis.latency[k].p99_us, "us",
                 std::to_string(redis.latency[k].queries) + " queries");
      double r = redis.latency[k].p99_us / std::max(tidal.latency[k].p99_us, 1e-3);
      report.add("ratio_" + n + "_p99_redis_over_tidal", r, "x",
                 meets(r > 1, "> 1 (tidal faster)"));
      report.add("top20_overlap_" + n,
                 static_cast<double>(overlap(items_of(tidal.answers[k]), redis.answers[k])),
                 "items", "same items in both top-20s (windows: sliding vs clock hours)");
    }
  }
  report.print();
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run(argc, argv);
}
