// Cohorts under kill -9: a child process ingests batches of events from US
// users (signal like) and DE users (signal view) while another thread
// defines cohorts `country = 'US'` one after another — each backfilled from
// a cold tier that grows across iterations — and checkpoints now and then,
// reporting every acknowledged batch and definition through a pipe. The
// parent kills it at a random moment (often during a backfill), reopens the
// folder, waits for the backfills and checks, for every cohort:
//
//   - its like count over 7 days equals the global like count: every like is
//     a US user's, so every event counted once, whether it arrived before the
//     cohort was defined (the backfill) or after (live), before or after the
//     last checkpoint;
//   - its view count is 0 (no DE user is a member);
//   - the global like count holds every acknowledged like, and at most one
//     batch in flight beyond;
//   - every acknowledged definition is there.
//
// The folder is reused, so each recovery starts from what the previous crash
// and recovery left. TIDAL_CRASH_ITERATIONS overrides the number of kills;
// TIDAL_CRASH_SEED the seed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "support/crash_pipe.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

constexpr int kUsers = 40;
constexpr size_t kBatch = 500;

enum class AckKind : uint32_t { kLikes, kViews, kCohort, kCheckpoint };

struct Ack {
  AckKind kind;
  uint32_t unused = 0;
  uint64_t number = 0;  // kLikes, kViews: events in the batch; kCohort: its number
};

Schema cohort_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  return b.build().value();
}

std::string cohort_name(uint64_t n) {
  return "us_" + std::to_string(n);
}

[[noreturn]] void run_child(const std::string& dir, int fd, uint64_t seed, uint64_t base) {
  DatabaseOptions o = testing::crash_database_options();
  o.durability = Durability::kBatch;  // acknowledged once in the OS: survives kill -9
  auto opened = Database::open(dir, cohort_schema(), o);
  if (!opened.ok()) testing::child_fail(opened.status(), 3);
  Database& db = **opened;
  auto fail = [](const Status& s) { testing::child_fail(s); };
  for (int u = 0; u < kUsers; ++u) {
    Result<uint64_t> r = db.upsert(EntityWrite{
        EntityKind::kUser, "u" + std::to_string(u), {{"country", u % 2 == 0 ? "US" : "DE"}}});
    if (!r.ok()) fail(r.status());
  }
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // events
    std::mt19937_64 rng(seed);
    for (uint64_t n = base;; ++n) {
      const bool likes = n % 2 == 0;
      std::vector<SignalEvent> batch;
      for (size_t i = 0; i < kBatch; ++i) {
        const int u = static_cast<int>(rng() % (kUsers / 2)) * 2 + (likes ? 0 : 1);
        SignalEvent e{.item = "i" + std::to_string(rng() % 200),
                      .user = "u" + std::to_string(u),
                      .signal = likes ? "like" : "view"};
        e.idempotency_key = "e-" + std::to_string(n) + "-" + std::to_string(i);
        batch.push_back(std::move(e));
      }
      BatchIngestResult r = db.ingest(batch, BatchMode::kAllOrNothing);
      if (r.accepted != batch.size()) {
        fail(r.errors.empty() ? Status::Internal(Subsystem::kCore, "not accepted") : r.errors[0]);
      }
      testing::send_record(fd, Ack{likes ? AckKind::kLikes : AckKind::kViews, 0, batch.size()});
    }
  });
  threads.emplace_back([&] {  // definitions, checkpoints
    std::mt19937_64 rng(seed + 1);
    for (uint64_t n = base;; ++n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 60));
      Result<uint64_t> r = db.create_cohort(cohort_name(n), "country = 'US'");

      if (!r.ok()) fail(r.status());
      testing::send_record(fd, Ack{AckKind::kCohort, 0, n});
      if (rng() % 3 == 0) {
        Status st = db.checkpoint();

        if (!st.ok()) fail(st);
        testing::send_record(fd, Ack{AckKind::kCheckpoint, 0, 0});
      }
    }
  });
  for (;;) ::pause();
}

uint64_t total(Database& db, const std::string& tql) {
  Result<QueryResult> r = db.query(tql);
  EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
  uint64_t sum = 0;
  if (r.ok()) {
    for (const QueryRow& row : r->rows) sum += static_cast<uint64_t>(row.score);
  }
  return sum;
}

TEST(CohortCrashTest, EveryEventCountsOnceInEveryCohortAfterSigkill) {
  const uint64_t iterations = testing::env_or("TIDAL_CRASH_ITERATIONS", 8);
  const uint64_t seed = testing::env_or("TIDAL_CRASH_SEED", 20261207);
  std::printf("cohort crash test: %llu iterations, seed %llu\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed));
  testing::TempDir dir;
  std::mt19937_64 rng(seed);
  uint64_t acked_likes = 0, acked_views = 0, checkpoints = 0, backfilling_at_open = 0;
  std::set<std::string> acked_cohorts;
  for (uint64_t it = 0; it < iterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    const uint64_t base = (it + 1) * 1'000'000;
    auto on_ack = [&](const char* rec) {
      Ack a;
      std::memcpy(&a, rec, sizeof(a));
      switch (a.kind) {
        case AckKind::kLikes: acked_likes += a.number; break;
        case AckKind::kViews: acked_views += a.number; break;
        case AckKind::kCohort: acked_cohorts.insert(cohort_name(a.number)); break;
        case AckKind::kCheckpoint: ++checkpoints; break;
      }
    };
    auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(200 + rng() % 1500);
    std::string problem = testing::run_until_killed(
        sizeof(Ack), [&](int fd) { run_child(dir.str(), fd, seed + it, base); }, on_ack, kill_at);
    ASSERT_EQ(problem, "");

    auto opened = Database::open(dir.str(), cohort_schema(), testing::crash_database_options());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    Database& db = **opened;
    for (const CohortInfo& c : db.cohorts()) backfilling_at_open += c.backfilling;
    Status st = db.wait_for_backfills(std::chrono::minutes(2));
    ASSERT_TRUE(st.ok()) << st.to_string();

    const uint64_t likes = total(db, "TRENDING items BY like WINDOW 7d LIMIT 10000");
    const uint64_t views = total(db, "TRENDING items BY view WINDOW 7d LIMIT 10000");
    ASSERT_GE(likes, acked_likes) << "an acknowledged like was lost";
    ASSERT_LE(likes, acked_likes + kBatch) << "more likes than were sent";
    ASSERT_GE(views, acked_views) << "an acknowledged view was lost";
    acked_likes = likes;  // the batch in flight may have made it: count it from here on
    acked_views = views;
    std::set<std::string> names;
    for (const CohortInfo& c : db.cohorts()) {
      names.insert(c.name);
      EXPECT_EQ(c.members, static_cast<uint64_t>(kUsers / 2)) << c.name;
      EXPECT_EQ(total(db, "TRENDING items FOR COHORT " + c.name + " BY like WINDOW 7d LIMIT 10000"),
                likes)
          << c.name << " did not count every like exactly once";
      EXPECT_EQ(total(db, "TRENDING items FOR COHORT " + c.name + " BY view WINDOW 7d LIMIT 10000"),
                0u)
          << c.name;
    }
    for (const std::string& name : acked_cohorts) {
      ASSERT_TRUE(names.count(name)) << "the acknowledged cohort " << name << " was lost";
    }
    acked_cohorts = names;
    ASSERT_TRUE(db.close().ok());
  }
  std::printf(
      "cohort crash test: %llu likes, %llu views, %zu cohorts acknowledged (%llu checkpoints, "
      "%llu cohorts still backfilling when reopened) across %llu kills\n",
      static_cast<unsigned long long>(acked_likes), static_cast<unsigned long long>(acked_views),
      acked_cohorts.size(), static_cast<unsigned long long>(checkpoints),
      static_cast<unsigned long long>(backfilling_at_open),
      static_cast<unsigned long long>(iterations));
  EXPECT_GT(acked_cohorts.size(), iterations);
}

}  // namespace
}  // namespace tidal
