// cohort_bench: cohorts on workload W3 over W1 (../shared/WORKLOADS.md) and,
// in the same run, the same cohort trending kept in Redis by an application
// (the cohorts issue, "Benchmark").
//
// 1. Ingest: in a fresh database for each of 0, 10, 50 and 200 of W3's
//    cohorts, W1's users are written, the cohorts defined, then W1's events
//    ingested (fsync, historical import, 2 threads, batches of 5,000);
//    events/s, the ratio to 0 cohorts, mean cohorts per user, cohort ledger
//    updates per event, memory per active (cohort, item, signal), and the
//    cost of membership upkeep when users are written again.
// 2. Top-20 latency FOR COHORT (TRENDING ... WINDOW 1h / 24h, RANK ... BY
//    hot(like), RANK ... BY cohort_trending(like, 1h): what the cohort likes
//    more than everyone) for random cohorts of each setting.
// 3. Define-and-backfill: in the database ingested without cohorts, one
//    cohort (then a second) is defined and timed until wait_for_backfills()
//    says it is done; its answers are compared with the same cohort's in the
//    database where it was defined before the events.
// 4. Redis: the application computes each user's cohorts from the user's
//    attributes and, per event, ZINCRBYs one sorted set per (cohort, signal,
//    clock hour) for each of them, pipelined through hiredis from 2
//    connections; top-20 by ZREVRANGE of the hour (1h) or ZUNIONSTORE of the
//    day's 24 hours (24h). For the 50-cohort setting.
//
// W3's cohorts, in order (a setting of N cohorts takes the first N):
// 10 singles `country = 'cc<r>'` (the 10 largest countries), 20 composites
// `age BETWEEN a AND b AND 'topic<i>' IN interests` (5-15 years), the
// families by_country (50) and by_age (buckets 13, 18, 25, 35, 50, 65: 6),
// and, to reach 200, 114 more composites drawn the same way. A family wholly
// inside a setting is one `CREATE COHORTS ... BY` when the build takes it
// (asked of a scratch database first; the answer is printed), else one
// CREATE COHORT per value; a family cut by the setting (50 takes 20
// countries) is always one CREATE COHORT per value.
//
//   cohort_bench [--quick | --smoke] [--events=N] [folder]
//     --events=N  the first N events of W1 (full: a scaled run, said in the output)
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
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

constexpr const char* kBench = "cohort_bench";
constexpr int kThreads = 2;
constexpr size_t kEventBatch = 5000;  // signal_bench's best on full W1
constexpr size_t kUserBatch = 1000;
constexpr size_t kRewriteUsers = 10'000;
constexpr size_t kRedisBatch = 500;  // events per round trip and connection
constexpr size_t kQueries = 1000;
constexpr size_t kWarmupQueries = 100;
constexpr size_t kTopN = 20;
constexpr uint64_t kSeed = 1;
constexpr size_t kSettings[] = {0, 10, 50, 200};
constexpr size_t kRedisCohorts = 50;
constexpr size_t kSingles = 10;
constexpr size_t kComposites = 20;
constexpr int kAgeBuckets[] = {13, 18, 25, 35, 50, 65};
constexpr int kMinAge = 13;
constexpr int kMaxAge = 80;
constexpr double kRedisQueryBudgetSeconds = 60;
constexpr auto kBackfillTimeout = std::chrono::minutes(10);

constexpr double kTargetRatio50 = 0.5;
constexpr double kTargetP99Us = 1000;
constexpr double kTargetBackfillSecondsPer10M = 10;
constexpr double kTargetBackfillReadPerSecond = 2e6;
constexpr double kTargetRedisRatio = 3;

[[noreturn]] void die(const std::string& what) {
  bench_fail(kBench, what);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// ---------------------------------------------------------------------------
// W3's cohorts: one description serves the TQL predicate and the
// application's own membership test, so both sides count the same users.

struct CohortSpec {
  std::string name;
  std::string group;  // "single", "composite", "country", "age bucket", "extra composite"
  int country = -1;   // rank; -1: any
  int age_lo = kMinAge;
  int age_hi = kMaxAge;  // inclusive
  int interest = -1;     // rank; -1: any
  // W3's families (CREATE COHORTS family BY ...): the family and the name the
  // database gives this cohort in it; empty for singles and composites.
  std::string family = {};
  std::string family_name = {};

  std::string predicate() const {
    std::vector<std::string> parts;
    if (country >= 0) parts.push_back("country = '" + W1Entities::country_name(country) + "'");
    if (age_lo > kMinAge && age_hi >= kMaxAge) {
      parts.push_back("age >= " + std::to_string(age_lo));
    } else if (age_lo > kMinAge || age_hi < kMaxAge) {
      parts.push_back("age BETWEEN " + std::to_string(age_lo) + " AND " + std::to_string(age_hi));
    }
    if (interest >= 0)
      parts.push_back("'" + W1Entities::interest_name(interest) + "' IN interests");
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : " AND ") + p;
    return out;
  }

  bool contains(const W1User& u) const {
    if (country >= 0 && u.country != country) return false;
    if (u.age < age_lo || u.age > age_hi) return false;
    return interest < 0 ||
           std::find(u.interests.begin(), u.interests.end(), interest) != u.interests.end();
  }
};

std::vector<CohortSpec> w3_cohorts(size_t total) {
  std::vector<CohortSpec> out;
  for (size_t r = 0; r < kSingles; ++r) {
    out.push_back({.name = "country_" + W1Entities::country_name(r),
                   .group = "single",
                   .country = static_cast<int>(r)});
  }
  std::mt19937_64 rng(kSeed ^ 0x636f686f7274ull);  // "cohort"
  auto composite = [&](const char* group) {
    const int years = 5 + static_cast<int>(rng() % 11);
    const int lo = kMinAge + static_cast<int>(rng() % (kMaxAge - kMinAge + 2 - years));
    const int interest = static_cast<int>(rng() % W1Entities::kInterests);
    const size_t k = out.size();
    out.push_back({.name = "mix" + std::to_string(k) + "_age" + std::to_string(lo) + "to" +
                           std::to_string(lo + years - 1) + "_" +
                           W1Entities::interest_name(interest),
                   .group = group,
                   .age_lo = lo,
                   .age_hi = lo + years - 1,
                   .interest = interest});
  };
  for (size_t i = 0; i < kComposites; ++i) composite("composite");
  for (size_t r = 0; r < W1Entities::kCountries; ++r) {
    out.push_back({.name = "by_country_" + W1Entities::country_name(r),
                   .group = "country",
                   .country = static_cast<int>(r),
                   .family = "by_country",
                   .family_name = "by_country:" + W1Entities::country_name(r)});
  }
  for (size_t b = 0; b < std::size(kAgeBuckets); ++b) {
    const int lo = kAgeBuckets[b];
    const int hi = b + 1 < std::size(kAgeBuckets) ? kAgeBuckets[b + 1] - 1 : kMaxAge;
    const bool last = hi >= kMaxAge;
    out.push_back({.name = "by_age_" + std::to_string(lo) + "_" +
                           (last ? std::string("up") : std::to_string(hi)),
                   .group = "age bucket",
                   .age_lo = lo,
                   .age_hi = hi,
                   .family = "by_age",
                   .family_name = "by_age:" + std::to_string(lo) +
                                  (last ? std::string("+") : "-" + std::to_string(hi + 1))});
  }
  while (out.size() < total) composite("extra composite");
  out.resize(std::min(out.size(), total));
  return out;
}

// The statement defining a whole family of W3 (CREATE COHORTS).
std::string family_statement(const std::string& family) {
  if (family == "by_country") return "CREATE COHORTS by_country BY country";
  std::string bounds;
  for (int b : kAgeBuckets) bounds += (bounds.empty() ? "" : ", ") + std::to_string(b);
  return "CREATE COHORTS by_age BY age BUCKETS (" + bounds + ")";
}

// One past the last cohort of the family cohort `c` belongs to.
size_t family_end(const std::vector<CohortSpec>& all, size_t c) {
  size_t end = c;
  while (end < all.size() && all[end].family == all[c].family) ++end;
  return end;
}

// What the application knows: each user's cohorts (indexes into the spec
// list, ascending) and how many events each user has.
struct Audience {
  std::vector<std::vector<uint8_t>> cohorts_of;  // by user number
  std::vector<uint64_t> events_of;               // by user number
  std::vector<uint64_t> members;                 // by cohort index

  // How many of the first n cohorts user u is in.
  size_t count(size_t u, size_t n) const {
    const std::vector<uint8_t>& c = cohorts_of[u];
    return static_cast<size_t>(std::lower_bound(c.begin(), c.end(), n) - c.begin());
  }
  uint64_t updates(size_t n) const {
    uint64_t sum = 0;
    for (size_t u = 0; u < cohorts_of.size(); ++u) sum += events_of[u] * count(u, n);
    return sum;
  }
};

uint32_t user_number(const std::string& key) {
  uint32_t n = 0;
  std::from_chars(key.data() + 1, key.data() + key.size(), n);  // "u<n>"
  return n;
}

Audience audience_of(const std::vector<W1User>& users, const std::vector<CohortSpec>& specs,
                     std::span<const SignalEvent> events) {
  static_assert(std::size(kSettings) > 0 && kSettings[std::size(kSettings) - 1] <= 255);
  Audience a;
  a.cohorts_of.resize(users.size());
  a.events_of.assign(users.size(), 0);
  a.members.assign(specs.size(), 0);
  for (size_t u = 0; u < users.size(); ++u) {
    for (size_t c = 0; c < specs.size(); ++c) {
      if (!specs[c].contains(users[u])) continue;
      a.cohorts_of[u].push_back(static_cast<uint8_t>(c));
      ++a.members[c];
    }
  }
  for (const SignalEvent& e : events) ++a.events_of[user_number(e.user)];
  return a;
}

// ---------------------------------------------------------------------------
// The questions

struct QueryKind {
  const char* name;
  const char* signal;
  int window_hours;   // 0: hot() (decayed), no window
  bool over = false;  // cohort_trending: the cohort against everyone (no Redis peer)
};

constexpr QueryKind kKinds[] = {
    {"trending_like_1h", "like", 1},
    {"trending_like_24h", "like", 24},
    {"rank_hot_like", "like", 0},
    {"cohort_trending_like_1h", "like", 1, true},
};

// A family's cohort ("by_country:cc3") is named by a string in TQL.
std::string cohort_ref(const std::string& name) {
  return name.find(':') == std::string::npos ? name : "'" + name + "'";
}

std::string tql(const QueryKind& k, const std::string& name, size_t limit = kTopN) {
  const std::string cohort = cohort_ref(name);
  if (k.window_hours == 0) {
    return "RANK items FOR COHORT " + cohort + " BY hot(" + k.signal + ") LIMIT " +
           std::to_string(limit);
  }
  if (k.over) {
    return "RANK items FOR COHORT " + cohort + " BY cohort_trending(" + k.signal + ", " +
           std::to_string(k.window_hours) + "h) LIMIT " + std::to_string(limit);
  }
  return "TRENDING items FOR COHORT " + cohort + " BY " + k.signal + " WINDOW " +
         std::to_string(k.window_hours) + "h LIMIT " + std::to_string(limit);
}

// Answers kept for comparison hold one row more than a top-20, so that a
// tie at rank 20 with the next item is seen as one.
constexpr size_t kCompareLimit = kTopN + 1;

using Answer = std::vector<QueryRow>;

Answer ask(Database& db, const std::string& statement) {
  Result<QueryResult> r = db.query(statement);
  if (!r.ok()) die(statement + ": " + r.status().to_string());
  return std::move(r->rows);
}

// Where two top-20s (asked with kCompareLimit rows) first disagree, or ""
// when they agree: the same score at every rank (within 1e-9 relative: the
// two databases summed in different orders) and the same item wherever its
// score is not tied with a neighbour's, the 21st row included (tie order
// follows internal ids, which follow the order two ingest threads reached
// the WAL).
std::string first_difference(const Answer& a, const Answer& b) {
  auto same = [](double x, double y) {
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y));
  };
  auto row = [](const Answer& x, size_t r) {
    return r < x.size() ? x[r].key + " " + fmt("%.9g", x[r].score) : std::string("(none)");
  };
  const size_t n = std::min(std::max(a.size(), b.size()), kTopN);
  for (size_t r = 0; r < n; ++r) {
    const std::string at = "rank " + std::to_string(r + 1) + ": " + row(a, r) + " vs " + row(b, r);
    if (r >= a.size() || r >= b.size() || !same(a[r].score, b[r].score)) return at;
    bool tied = (r > 0 && same(a[r].score, a[r - 1].score)) ||
                (r + 1 < a.size() && same(a[r].score, a[r + 1].score));
    if (!tied && a[r].key != b[r].key) return at;
  }
  return "";
}

// The random cohorts the timed queries go to, the same for both systems.
std::vector<size_t> random_cohorts(size_t n, size_t count) {
  std::mt19937_64 rng(kSeed);
  std::vector<size_t> out(count);
  for (size_t& c : out) c = rng() % n;
  return out;
}

struct CohortLatency {
  Latency first;   // the first query to each cohort (builds its trending index)
  Latency steady;  // kQueries to random cohorts after kWarmupQueries
};

// Asks each cohort once (timed: the first query after the ingest builds
// the cohort's index for it), then times kQueries top-20s after
// kWarmupQueries, each to the next cohort of random_cohorts(); `run(cohort
// index)` asks one.
CohortLatency time_cohort_queries(size_t cohorts, const std::function<void(size_t)>& run,
                                  double budget_s = 1e9) {
  CohortLatency out;
  std::vector<double> us;
  for (size_t c = 0; c < cohorts; ++c) {
    const double t0 = now_seconds();
    run(c);
    us.push_back((now_seconds() - t0) * 1e6);
  }
  out.first = {percentile(us, 50), percentile(us, 99), us.size()};
  const std::vector<size_t> order = random_cohorts(cohorts, kQueries + kWarmupQueries);
  size_t next = 0;
  out.steady =
      time_queries([&] { run(order[next++ % order.size()]); }, kQueries, kWarmupQueries, budget_s);
  return out;
}

// ---------------------------------------------------------------------------
// tidalDB

std::unique_ptr<Database> open_db(const std::string& path, const Schema& schema) {
  Result<std::unique_ptr<Database>> db = Database::open(path, schema, w1_load_options());
  if (!db.ok()) die("open " + path + ": " + db.status().to_string());
  return std::move(*db);
}

// Whether this build takes W3's families as `CREATE COHORTS name BY
// attribute [BUCKETS (...)]`, asked of a scratch database; prints what it
// said.
bool probe_families(const std::string& dir, const Schema& schema) {
  bool ok = true;
  {
    std::unique_ptr<Database> db = open_db(dir, schema);
    for (const char* family : {"by_country", "by_age"}) {
      const std::string statement = family_statement(family);
      Result<QueryResult> r = db->query(statement);
      std::printf("%s: %s\n", statement.c_str(),
                  r.ok() ? ("accepted: " + r->message).c_str()
                         : ("rejected: " + r.status().to_string()).c_str());
      ok = ok && r.ok();
    }
  }
  std::filesystem::remove_all(dir);
  return ok;
}

// Polls until no cohort is backfilling (wait_for_backfills with a zero
// timeout, every millisecond: its own wait sleeps 100 ms between looks);
// returns the seconds from `since`.
double wait_backfills(Database& db, double since) {
  const double deadline = now_seconds() + std::chrono::duration<double>(kBackfillTimeout).count();
  while (true) {
    Status st = db.wait_for_backfills(std::chrono::milliseconds(0));
    if (st.ok()) return now_seconds() - since;
    if (st.code() != StatusCode::kUnavailable || now_seconds() > deadline) {
      die("wait_for_backfills: " + st.to_string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

struct BackfillResult {
  std::string cohort;
  uint64_t members = 0;
  double seconds = 0;  // create_cohort() until no backfill is left
  uint64_t events_read = 0;
  uint64_t events_counted = 0;
  double first_answer_us = 0;   // the first TRENDING after it
  std::vector<Answer> answers;  // per kKinds
};

BackfillResult define_and_backfill(Database& db, const CohortSpec& spec) {
  BackfillResult out;
  out.cohort = spec.name;
  const double t0 = now_seconds();
  Result<uint64_t> seq = db.create_cohort(spec.name, spec.predicate());
  if (!seq.ok()) die("create_cohort " + spec.name + ": " + seq.status().to_string());
  out.seconds = wait_backfills(db, t0);
  const double t1 = now_seconds();
  (void)ask(db, tql(kKinds[0], spec.name));
  out.first_answer_us = (now_seconds() - t1) * 1e6;
  for (const QueryKind& k : kKinds)
    out.answers.push_back(ask(db, tql(k, spec.name, kCompareLimit)));
  Result<CohortInfo> info = db.cohort(spec.name);
  if (!info.ok()) die("cohort " + spec.name + ": " + info.status().to_string());
  out.members = info->members;
  out.events_read = info->backfill_events_read;
  out.events_counted = info->backfill_events_counted;
  std::printf("  backfill of %s (%llu members): %.2f s, %llu events read, %llu counted\n",
              spec.name.c_str(), static_cast<unsigned long long>(out.members), out.seconds,
              static_cast<unsigned long long>(out.events_read),
              static_cast<unsigned long long>(out.events_counted));
  return out;
}

struct SettingResult {
  size_t cohorts = 0;
  std::vector<std::string> families;  // the CREATE COHORTS statements used
  double upsert_s = 0;
  double define_s = 0;   // CREATE COHORT of every cohort, until no backfill is left
  double rewrite_s = 0;  // kRewriteUsers users written again after the ingest
  double ingest_s = 0;
  double events_per_s = 0;
  double ingest_load = 0;
  DatabaseStats stats;
  uint64_t members = 0;                 // the sum of every cohort's members, by the database
  std::vector<std::string> mismatches;  // cohorts whose members differ from the application's
  std::vector<CohortLatency> latency;   // per kKinds; empty without cohorts
  std::map<std::string, std::vector<Answer>> answers;  // per kKinds, for the cohorts asked
  std::vector<BackfillResult> backfills;               // the 0-cohort setting only
  double close_s = 0;
};

// The cohorts whose answers the backfill is checked against: the largest
// single cohort and the first composite.
std::vector<size_t> backfill_cohorts(const std::vector<CohortSpec>& specs) {
  std::vector<size_t> out = {0};
  if (specs.size() > kSingles) out.push_back(kSingles);
  return out;
}

SettingResult run_setting(const std::string& dir, const Schema& schema,
                          const std::vector<CohortSpec>& all, const Audience& audience,
                          std::span<const EntityWrite> users, std::span<const SignalEvent> events,
                          size_t n, bool families) {
  SettingResult out;
  out.cohorts = n;
  std::printf("%zu cohorts:\n", n);
  std::unique_ptr<Database> db = open_db(dir, schema);
  out.upsert_s = upsert_all(*db, users, kUserBatch, kThreads, kBench);
  // Defined over the users written: each definition evaluates its predicate
  // on the user indexes, and its backfill finds no events yet. A family
  // wholly inside the first n is one CREATE COHORTS when the build has it.
  std::vector<std::string> names(n);  // the database's name of each cohort
  double t0 = now_seconds();
  for (size_t c = 0; c < n;) {
    const size_t end = all[c].family.empty() ? n + 1 : family_end(all, c);
    if (families && end <= n) {
      out.families.push_back(family_statement(all[c].family));
      (void)ask(*db, out.families.back());
      for (; c < end; ++c) names[c] = all[c].family_name;
      continue;
    }
    (void)ask(*db, "CREATE COHORT " + all[c].name + " WHERE " + all[c].predicate());
    names[c] = all[c].name;
    ++c;
  }
  out.define_s = wait_backfills(*db, t0);
  std::printf("  %zu users written in %.2f s, %zu cohorts defined in %.2f s\n", users.size(),
              out.upsert_s, n, out.define_s);
  out.ingest_s = ingest_all(*db, events, kEventBatch, kThreads, kBench);
  out.events_per_s = static_cast<double>(events.size()) / out.ingest_s;
  out.ingest_load = host_load();
  out.stats = db->stats();
  std::printf("  ingest: %.1f s, %.0f events/s, %llu cohort updates, %.1f MiB of cohort state\n",
              out.ingest_s, out.events_per_s,
              static_cast<unsigned long long>(out.stats.cohort_updates),
              static_cast<double>(out.stats.cohort_bytes) / (1 << 20));
  // The cohorts asked below: those the database has (a family makes a
  // cohort only for the values some user has).
  std::vector<size_t> asked;
  for (const CohortInfo& info : db->cohorts()) {
    out.members += info.members;
    const size_t c =
        static_cast<size_t>(std::find(names.begin(), names.end(), info.name) - names.begin());
    if (c < n) asked.push_back(c);
    if (c == n || audience.members[c] != info.members) {
      out.mismatches.push_back(info.name + " (" + std::to_string(info.members) + " members, " +
                               (c == n ? std::string("not defined by the bench")
                                       : std::to_string(audience.members[c]) + " expected") +
                               ")");
    }
  }
  // Writing users again (the same attributes) evaluates every cohort's
  // predicate for each: the cost of membership upkeep per user write.
  out.rewrite_s = upsert_all(*db, users.first(std::min(users.size(), kRewriteUsers)), kUserBatch,
                             kThreads, kBench);
  std::sort(asked.begin(), asked.end());
  for (size_t c = 0, a = 0; c < n; ++c) {
    if (a < asked.size() && asked[a] == c) {
      ++a;
    } else if (audience.members[c] > 0) {
      out.mismatches.push_back(names[c] + " (missing, " + std::to_string(audience.members[c]) +
                               " members expected)");
    }
  }
  if (n > 0) {
    std::vector<std::vector<std::string>> statements(std::size(kKinds));
    for (size_t k = 0; k < std::size(kKinds); ++k) {
      for (size_t c : asked) statements[k].push_back(tql(kKinds[k], names[c]));
      out.latency.push_back(
          time_cohort_queries(asked.size(), [&](size_t c) { (void)ask(*db, statements[k][c]); }));
      const CohortLatency& l = out.latency.back();
      std::printf(
          "  %s: first query per cohort p50 %.1f us, p99 %.1f us; then p50 %.1f us, "
          "p99 %.1f us\n",
          kKinds[k].name, l.first.p50_us, l.first.p99_us, l.steady.p50_us, l.steady.p99_us);
      if (n == kRedisCohorts) {
        Result<QueryResult> plan = db->query("EXPLAIN " + statements[k][0]);
        if (!plan.ok()) die("EXPLAIN " + statements[k][0] + ": " + plan.status().to_string());
        std::printf("    EXPLAIN %s\n", statements[k][0].c_str());
        std::string text = plan->explain_text();
        for (size_t at = 0; at < text.size();) {
          size_t end = text.find('\n', at);
          if (end == std::string::npos) end = text.size();
          std::printf("      %s\n", text.substr(at, end - at).c_str());
          at = end + 1;
        }
      }
    }
    for (size_t c : backfill_cohorts(all)) {
      if (c >= n) continue;
      for (const QueryKind& k : kKinds) {
        out.answers[all[c].name].push_back(ask(*db, tql(k, all[c].name, kCompareLimit)));
      }
    }
  } else {
    for (size_t c : backfill_cohorts(all))
      out.backfills.push_back(define_and_backfill(*db, all[c]));
  }
  t0 = now_seconds();
  Status st = db->close();
  out.close_s = now_seconds() - t0;
  if (!st.ok()) die("close: " + st.to_string());
  db.reset();
  std::filesystem::remove_all(dir);
  return out;
}

// ---------------------------------------------------------------------------
// Redis

struct RedisResults {
  bool ran = false;
  std::string skip_reason;
  size_t cohorts = 0;
  double events_per_s = 0;
  uint64_t commands = 0;
  double ingest_load = 0;
  double used_memory = 0;
  std::vector<CohortLatency> latency;             // per windowed kKinds
  std::vector<std::vector<std::string>> answers;  // per windowed kKinds, for cohort 0
};

#ifdef TIDAL_HAVE_HIREDIS

using redis_peer::kRedisServer;
using redis_peer::RedisConnection;
using redis_peer::RedisReply;
using redis_peer::RedisServer;

constexpr int64_t kHourUs = 3'600'000'000;

std::string hour_key(size_t cohort, const std::string& signal, int64_t hour) {
  return "c" + std::to_string(cohort) + ":" + signal + ":" + std::to_string(hour);
}

// The application's work for one batch: for each event, its user's cohorts
// (the first `n`), and per cohort ZINCRBY c<cohort>:<signal>:<hour> w item,
// w being 1 for count signals and the value for sum signals. Returns the
// number of commands.
size_t redis_ingest_batch(RedisConnection& c, const Schema& schema, const Audience& audience,
                          size_t n, std::span<const SignalEvent> batch) {
  std::vector<std::string> strings;  // keys and scores must outlive the appends
  std::vector<const std::string*> items;
  strings.reserve(batch.size() * 4);
  for (const SignalEvent& e : batch) {
    const std::vector<uint8_t>& mine = audience.cohorts_of[user_number(e.user)];
    const SignalTypeDefinition* def = schema.find_signal(e.signal);
    char score[32];
    int len = std::snprintf(score, sizeof score, "%.17g",
                            def->value_kind == ValueKind::kSum ? e.value : 1.0);
    const int64_t hour = to_micros(e.timestamp) / kHourUs;
    for (uint8_t cohort : mine) {
      if (cohort >= n) break;
      strings.push_back(hour_key(cohort, e.signal, hour));
      strings.emplace_back(score, static_cast<size_t>(len));
      items.push_back(&e.item);
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& key = strings[i * 2];
    const std::string& score = strings[i * 2 + 1];
    const char* argv[] = {"ZINCRBY", key.data(), score.data(), items[i]->data()};
    const size_t lens[] = {7, key.size(), score.size(), items[i]->size()};
    c.append(4, argv, lens);
  }
  for (size_t i = 0; i < items.size(); ++i) (void)c.reply();
  return items.size();
}

std::vector<std::string> members_of(const RedisReply& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    out.emplace_back(r->element[i]->str, r->element[i]->len);
  }
  return out;
}

RedisResults run_redis(const std::string& base, const Schema& schema, const Audience& audience,
                       size_t n, std::span<const SignalEvent> events) {
  RedisResults out;
  out.cohorts = n;
  if (!std::filesystem::exists(kRedisServer)) {
    out.skip_reason = std::string(kRedisServer) + " is missing (apt-get install redis-server)";
    return out;
  }
  std::printf("redis, %zu cohorts:\n", n);
  RedisServer server(base + "/redis");
  std::atomic<uint64_t> commands{0};
  double s = 0;
  {
    std::vector<std::unique_ptr<RedisConnection>> conns;
    for (int t = 0; t < kThreads; ++t)
      conns.push_back(std::make_unique<RedisConnection>(server.port()));
    s = run_batches(events.size(), kRedisBatch, kThreads, [&](int t, size_t begin, size_t end) {
      commands += redis_ingest_batch(*conns[static_cast<size_t>(t)], schema, audience, n,
                                     events.subspan(begin, end - begin));
    });
  }
  out.commands = commands.load();
  out.events_per_s = static_cast<double>(events.size()) / s;
  out.ingest_load = host_load();
  std::printf("  ingest: %.1f s, %.0f events/s (%llu ZINCRBY)\n", s, out.events_per_s,
              static_cast<unsigned long long>(out.commands));

  RedisConnection c(server.port());
  RedisReply info = c.command({"INFO", "memory"});
  std::string text(info->str, info->len);
  size_t at = text.find("used_memory:");
  if (at != std::string::npos) out.used_memory = std::strtod(text.c_str() + at + 12, nullptr);

  // "Now" is the newest event, as in the database's historical-import mode.
  const int64_t now_hour = to_micros(events.back().timestamp) / kHourUs;
  for (const QueryKind& k : kKinds) {
    // No decayed sets (the application keeps hours only), and no global
    // counts to compare a cohort with.
    if (k.window_hours == 0 || k.over) continue;
    // One round trip per question: the union of the window's hours (24h)
    // and the range, pipelined; 1h is the current hour's set alone.
    auto top = [&](size_t cohort) {
      std::string key = hour_key(cohort, k.signal, now_hour);
      if (k.window_hours > 1) {
        std::vector<std::string> argv = {"ZUNIONSTORE", "tmp", std::to_string(k.window_hours)};
        for (int64_t h = now_hour - k.window_hours + 1; h <= now_hour; ++h) {
          argv.push_back(hour_key(cohort, k.signal, h));
        }
        c.append(argv);
        key = "tmp";
      }
      c.append({"ZREVRANGE", key, "0", std::to_string(kTopN - 1), "WITHSCORES"});
      if (k.window_hours > 1) (void)c.reply();
      return members_of(c.reply());
    };
    out.latency.push_back(time_cohort_queries(
        n, [&](size_t cohort) { (void)top(cohort); }, kRedisQueryBudgetSeconds));
    out.answers.push_back(top(0));
    std::printf("  %s: p50 %.1f us, p99 %.1f us\n", k.name, out.latency.back().steady.p50_us,
                out.latency.back().steady.p99_us);
  }
  server.stop();
  out.ran = true;
  return out;
}

#endif  // TIDAL_HAVE_HIREDIS

size_t overlap(const Answer& a, const std::vector<std::string>& b) {
  std::set<std::string> sa;
  for (size_t r = 0; r < std::min(a.size(), kTopN); ++r) sa.insert(a[r].key);
  size_t n = 0;
  for (const std::string& s : b) n += sa.count(s);
  return n;
}

// ---------------------------------------------------------------------------

void print_cohorts(const std::vector<CohortSpec>& specs, const Audience& audience, size_t users) {
  std::printf("W3 cohorts (%zu), members by the application's own test of the attributes:\n",
              specs.size());
  std::printf("  %-16s %6s %12s %12s  %s\n", "group", "count", "min size", "max size",
              "first predicate");
  for (size_t c = 0; c < specs.size();) {
    size_t end = c;
    uint64_t lo = UINT64_MAX, hi = 0;
    while (end < specs.size() && specs[end].group == specs[c].group) {
      lo = std::min(lo, audience.members[end]);
      hi = std::max(hi, audience.members[end]);
      ++end;
    }
    auto pct = [&](uint64_t m) {
      return 100.0 * static_cast<double>(m) / static_cast<double>(users);
    };
    std::printf("  %-16s %6zu %11.2f%% %11.2f%%  %s\n", specs[c].group.c_str(), end - c, pct(lo),
                pct(hi), specs[c].predicate().c_str());
    c = end;
  }
}

int run(int argc, char** argv) {
  BenchArgs args =
      parse_bench_args(argc, argv, "cohort_bench [--quick | --smoke] [--events=N] [folder]");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up while a long run goes on
  W1Config config =
      args.sized(W1Config::full(kSeed), W1Config::quick(kSeed), W1Config::smoke(kSeed));
  const uint64_t w1_events = config.events;
  const size_t limit = take_count_flag(&args.rest, "--events=", 0, kBench);
  const std::string base = bench_folder(args, "cohort-bench");
  const Schema schema = W1Entities::schema();

  std::printf(
      "cohort_bench: W3 over W1%s, %zu items, %zu users, %llu events over %d days%s, "
      "folder %s\n",
      args.mode_flag(), config.items, config.users, static_cast<unsigned long long>(config.events),
      config.days,
      limit > 0 ? (", the first " + std::to_string(limit) + " used (scaled run)").c_str() : "",
      base.c_str());
  double t0 = now_seconds();
  W1Generator gen(config);
  std::vector<SignalEvent> events;
  events.reserve(limit > 0 ? std::min<uint64_t>(limit, config.events) : config.events);
  std::vector<SignalEvent> chunk;
  while (gen.next(&chunk, 1 << 16) > 0) {
    for (SignalEvent& e : chunk) {
      if (limit > 0 && events.size() >= limit) break;
      events.push_back(std::move(e));
    }
    if (limit > 0 && events.size() >= limit) break;
  }
  W1Entities entities(config);
  std::vector<W1User> users;
  std::vector<EntityWrite> user_writes;
  for (size_t u = 0; u < config.users; ++u) {
    users.push_back(entities.user(u));
    user_writes.push_back(W1Entities::write(users.back()));
  }
  const size_t most = kSettings[std::size(kSettings) - 1];
  const std::vector<CohortSpec> specs = w3_cohorts(most);
  const Audience audience = audience_of(users, specs, events);
  std::printf("generated %zu events and %zu users in %.1f s\n", events.size(), users.size(),
              now_seconds() - t0);
  print_cohorts(specs, audience, users.size());
  const bool families = probe_families(base + "/probe", schema);

  std::vector<SettingResult> settings;
  for (size_t n : kSettings) {
    settings.push_back(run_setting(base + "/tidal-" + std::to_string(n), schema, specs, audience,
                                   user_writes, events, n, families));
  }
  RedisResults redis;
#ifdef TIDAL_HAVE_HIREDIS
  if (args.smoke) {
    redis.skip_reason = "--smoke runs no peer servers";
  } else {
    redis = run_redis(base, schema, audience, kRedisCohorts, events);
  }
#else
  redis.skip_reason = "built without hiredis (libhiredis-dev)";
#endif
  if (!redis.ran) std::printf("SKIP redis peer: %s\n", redis.skip_reason.c_str());
  std::filesystem::remove_all(base);

  // -------------------------------------------------------------------------
  BenchReport report(kBench);
  const double n_events = static_cast<double>(events.size());
  report.add("events", n_events, "events",
             std::string("W1") + args.mode_flag() + ", seed " + std::to_string(kSeed) +
                 (limit > 0 ? ", first " + std::to_string(events.size()) + " of " +
                                  std::to_string(w1_events) + " (scaled)"
                            : ""));
  report.add("users", static_cast<double>(users.size()), "users",
             "W1 users, written before events");
  const SettingResult& zero = settings.front();
  report.add("user_upsert", static_cast<double>(users.size()) / zero.upsert_s, "users/s",
             "the first write of every user, no cohort defined yet, 2 threads");
  const SettingResult* at50 = nullptr;
  for (const SettingResult& s : settings) {
    const std::string n = "c" + std::to_string(s.cohorts);
    if (s.cohorts == kRedisCohorts) at50 = &s;
    const double ratio = s.events_per_s / zero.events_per_s;
    std::string defined = "";
    for (const std::string& f : s.families) defined += "; " + f;
    report.add("tidal_ingest_" + n, s.events_per_s, "events/s",
               "fsync, 2 threads, batches of 5,000; load " + fmt("%.1f", s.ingest_load) + defined);
    if (s.cohorts > 0) {
      report.add("ratio_ingest_" + n + "_over_c0", ratio, "x",
                 s.cohorts == kRedisCohorts ? meets(ratio >= kTargetRatio50, ">= 0.5") : "");
    }
    const double rewrites = static_cast<double>(std::min(users.size(), kRewriteUsers));
    report.add("user_rewrite_" + n, rewrites / s.rewrite_s, "users/s",
               fmt("%.0f", rewrites) + " users written again after the ingest, 2 threads" +
                   (s.cohorts > 0 ? "; each evaluates every cohort's predicate" : ""));
    if (s.cohorts == 0) continue;
    report.add("cohorts_" + n, static_cast<double>(s.stats.cohorts), "cohorts",
               s.families.empty() ? "each by CREATE COHORT"
                                  : std::to_string(s.families.size()) +
                                        " families by CREATE COHORTS, the rest by CREATE COHORT");
    report.add("cohort_define_" + n, s.define_s, "s",
               "CREATE COHORT of each over the written users, until no backfill is left");
    const double users_live = static_cast<double>(std::max<uint64_t>(s.stats.live_users, 1));
    report.add("mean_cohorts_per_user_" + n, static_cast<double>(s.members) / users_live, "cohorts",
               s.mismatches.empty()
                   ? "members as the application counts them"
                   : "MEMBERS DIFFER from the application's in " +
                         std::to_string(s.mismatches.size()) + " cohorts, e.g. " + s.mismatches[0]);
    const uint64_t expected = audience.updates(s.cohorts);
    report.add("cohort_updates_per_event_" + n,
               static_cast<double>(s.stats.cohort_updates) /
                   static_cast<double>(std::max<uint64_t>(s.stats.events_applied, 1)),
               "updates",
               s.stats.cohort_updates == expected
                   ? "as the application expects"
                   : "DIFFERS: the application expects " + std::to_string(expected));
    report.add("cohort_active_states_" + n, static_cast<double>(s.stats.cohort_active_states),
               "states", "(cohort, item, signal) with windowed state");
    report.add(
        "cohort_bytes_" + n, static_cast<double>(s.stats.cohort_bytes) / (1 << 20), "MiB",
        "stats().cohort_bytes; global ledger " +
            fmt("%.0f", static_cast<double>(s.stats.warm_bytes + s.stats.hot_bytes) / (1 << 20)) +
            " MiB");
    report.add("cohort_bytes_per_state_" + n,
               static_cast<double>(s.stats.cohort_bytes) /
                   static_cast<double>(std::max<uint64_t>(s.stats.cohort_active_states, 1)),
               "B", "cohort_bytes / cohort_active_states");
    for (size_t k = 0; k < std::size(kKinds); ++k) {
      const std::string q = std::string(kKinds[k].name) + "_" + n;
      const CohortLatency& l = s.latency[k];
      report.add("tidal_" + q + "_p50", l.steady.p50_us, "us");
      report.add("tidal_" + q + "_p99", l.steady.p99_us, "us",
                 meets(l.steady.p99_us <= kTargetP99Us, "p99 <= 1 ms") + ", " +
                     std::to_string(l.steady.queries) + " queries, random cohorts, after " +
                     "each cohort was asked once");
      report.add("tidal_" + q + "_first_p50", l.first.p50_us, "us",
                 "the first query to each cohort after the ingest");
      report.add("tidal_" + q + "_first_p99", l.first.p99_us, "us",
                 "... p99 over the " + std::to_string(l.first.queries) + " cohorts");
    }
    report.add("tidal_close_" + n, s.close_s, "s", "close(): checkpoint of all state");
  }
  report.add("tidal_close_c0", zero.close_s, "s",
             "close(): checkpoint, the backfilled cohorts included");
  for (const BackfillResult& b : zero.backfills) {
    const std::string n = "backfill_" + b.cohort;
    const double per_10m = b.seconds * 10e6 / n_events;
    const double rate = static_cast<double>(b.events_read) / b.seconds;
    report.add(n + "_s", b.seconds, "s",
               meets(per_10m <= kTargetBackfillSecondsPer10M, "<= 10 s per 10M events") + " (" +
                   fmt("%.1f", per_10m) + " s per 10M; " + std::to_string(b.members) +
                   " members; define until wait_for_backfills is OK)");
    report.add(n + "_read_rate", rate, "events/s",
               meets(rate >= kTargetBackfillReadPerSecond, ">= 2M/s") + " (" +
                   std::to_string(b.events_read) + " cold-tier events read, " +
                   std::to_string(b.events_counted) + " counted)");
    report.add(n + "_first_answer", b.first_answer_us, "us", "the first TRENDING after it");
    std::string note = "no setting defined it before the events";
    double same = 0;
    if (at50 != nullptr && at50->answers.count(b.cohort) > 0) {
      const std::vector<Answer>& ref = at50->answers.at(b.cohort);
      std::string differs;
      for (size_t k = 0; k < std::size(kKinds); ++k) {
        const std::string d = first_difference(b.answers[k], ref[k]);
        if (d.empty()) continue;
        differs += (differs.empty() ? "" : "; ") + std::string(kKinds[k].name) + " " + d;
      }
      same = differs.empty() ? 1 : 0;
      note = differs.empty()
                 ? "same top-20s as the cohort defined before the events (" +
                       std::to_string(std::size(kKinds)) + " queries)"
                 : "DIFFERENT top-20s (backfilled vs defined before the events): " + differs;
    }
    report.add(n + "_correct", same, "bool", note);
  }
  if (redis.ran && at50 != nullptr) {
    report.add(
        "redis_ingest_c50", redis.events_per_s, "events/s",
        std::to_string(redis.commands) + " ZINCRBY, 2 connections, " + std::to_string(kRedisBatch) +
            " events per round trip, appendfsync everysec; load " + fmt("%.1f", redis.ingest_load));
    report.add("redis_used_memory_c50", redis.used_memory / (1 << 20), "MiB",
               "INFO used_memory (hour sets of every cohort and signal)");
    const double ratio = at50->events_per_s / redis.events_per_s;
    report.add("ratio_ingest_tidal_over_redis_c50", ratio, "x",
               meets(ratio >= kTargetRedisRatio, ">= 3x"));
    size_t r = 0;
    for (size_t k = 0; k < std::size(kKinds); ++k) {
      if (kKinds[k].window_hours == 0 || kKinds[k].over) continue;
      const std::string q = std::string(kKinds[k].name) + "_c50";
      const Latency& l = redis.latency[r].steady;
      report.add("redis_" + q + "_p50", l.p50_us, "us");
      report.add("redis_" + q + "_p99", l.p99_us, "us",
                 std::to_string(l.queries) + " queries, random cohorts");
      const double ratio_p99 = l.p99_us / std::max(at50->latency[k].steady.p99_us, 1e-3);
      report.add("ratio_" + q + "_p99_redis_over_tidal", ratio_p99, "x",
                 meets(ratio_p99 > 1, "> 1 (tidal faster)"));
      const std::string first = specs[0].name;
      if (at50->answers.count(first) > 0) {
        report.add("top20_overlap_" + q,
                   static_cast<double>(overlap(at50->answers.at(first)[k], redis.answers[r])),
                   "items",
                   first + ": same items in both top-20s (windows: sliding vs clock hours)");
      }
      ++r;
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
