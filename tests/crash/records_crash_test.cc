// Every kind of write under kill -9, beside the entity writes of
// entities_crash_test.cc: a child process opens a Database with fsync
// durability and, from three threads, ingests events (each with an
// idempotency key), stores ranking profiles (CREATE PROFILE) and switches the
// database's present between historical and live, reporting each
// acknowledged write through a pipe; it checkpoints now and then. The parent
// kills it at a random moment, reopens the database and checks that every
// acknowledged write is there exactly once: each event counted once (a retry
// with its key is a duplicate), each profile stored, and the present the
// last acknowledged switch set (or the one in flight). The folder is reused,
// so each recovery starts from what the previous crash and recovery left.
//
// TIDAL_CRASH_ITERATIONS overrides the number of kills; TIDAL_CRASH_SEED the
// seed (scripts/crash-soak.sh runs thousands).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "support/crash_pipe.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

constexpr uint32_t kItems = 50;

enum class AckKind : uint32_t { kEvent, kProfile, kPresent, kCheckpoint };

// 24 bytes: each write(2) to the pipe is atomic.
struct Ack {
  AckKind kind;
  uint32_t item;    // kEvent
  uint64_t number;  // kEvent, kProfile: the write's number; kPresent: the switch's
  uint64_t mode;    // kPresent: 0 live, 1 historical
};

std::string event_key(uint64_t n) {
  return "event-" + std::to_string(n);
}

// The mode the n-th switch of the present sets: the parent knows the one in
// flight at the kill as well as the child does.
uint64_t mode_of(uint64_t n) {
  return (n * 0x9E3779B97F4A7C15ull) >> 63;  // 1: historical, 0: live
}

std::string profile_text(uint64_t n) {
  return std::to_string(n) + " * decay(like)";
}

// Runs in the forked child until killed. Numbers grow across iterations
// (`base`), so every write is new.
[[noreturn]] void run_child(const std::string& dir, int fd, uint64_t seed, uint64_t base) {
  std::unique_ptr<Database> opened =
      testing::open_child_database(dir, SchemaBuilder::with_default_signals().build().value());
  Database& db = *opened;
  auto fail = [](const Status& s) { testing::child_fail(s); };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // events, in small batches
    std::mt19937_64 rng(seed);
    for (uint64_t n = base;;) {
      std::vector<SignalEvent> batch;
      std::vector<uint32_t> items;
      size_t size = 1 + rng() % 8;
      for (size_t i = 0; i < size; ++i, ++n) {
        auto item = static_cast<uint32_t>(rng() % kItems);
        SignalEvent e{.item = "item_" + std::to_string(item), .user = "u1", .signal = "like"};
        e.idempotency_key = event_key(n);
        batch.push_back(std::move(e));
        items.push_back(item);
      }
      BatchIngestResult r = db.ingest(batch, BatchMode::kAllOrNothing);
      if (r.rejected > 0) fail(r.errors[0]);
      for (size_t i = 0; i < batch.size(); ++i) {
        testing::send_record(fd, Ack{AckKind::kEvent, items[i], n - batch.size() + i, 0});
      }
    }
  });
  threads.emplace_back([&] {  // profiles
    for (uint64_t n = base;; ++n) {
      Result<QueryResult> r =
          db.query("CREATE PROFILE p_" + std::to_string(n) + " AS " + profile_text(n));
      if (!r.ok()) fail(r.status());
      testing::send_record(fd, Ack{AckKind::kProfile, 0, n, 0});
    }
  });
  threads.emplace_back([&] {  // the present, and checkpoints
    std::mt19937_64 rng(seed + 1);
    for (uint64_t n = base;; ++n) {
      PresentMode mode = mode_of(n) == 1 ? PresentMode::kHistorical : PresentMode::kLive;
      Result<uint64_t> r = db.set_present(mode);
      if (!r.ok()) fail(r.status());
      testing::send_record(
          fd, Ack{AckKind::kPresent, 0, n, mode == PresentMode::kHistorical ? 1u : 0u});
      if (n % 2 == 1) {  // every other switch
        Status st = db.checkpoint();
        if (!st.ok()) fail(st);
        testing::send_record(fd, Ack{AckKind::kCheckpoint, 0, 0, 0});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
    }
  });
  for (;;) ::pause();
}

TEST(RecordsCrashTest, EveryAcknowledgedWriteSurvivesSigkillExactlyOnce) {
  const uint64_t iterations = testing::env_or("TIDAL_CRASH_ITERATIONS", 15);
  const uint64_t seed = testing::env_or("TIDAL_CRASH_SEED", 20261207);
  std::printf("records crash test: %llu iterations, seed %llu\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed));
  testing::TempDir dir;
  Schema schema = SchemaBuilder::with_default_signals().build().value();
  std::mt19937_64 rng(seed);
  std::map<uint32_t, uint64_t> likes;   // acknowledged events per item
  std::map<uint64_t, uint32_t> events;  // number -> item, acknowledged since the last check
  std::vector<uint64_t> profiles;
  uint64_t acks = 0, checkpoints = 0, switches = 0, in_flight_events = 0;

  for (uint64_t it = 0; it < iterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    const uint64_t base = (it + 1) * 1'000'000;
    std::optional<uint64_t> last_present;  // the number of the last acknowledged switch
    uint64_t last_mode = 0;
    auto on_ack = [&](const char* rec) {
      Ack a;
      std::memcpy(&a, rec, sizeof(a));
      ++acks;
      switch (a.kind) {
        case AckKind::kEvent:
          ++likes[a.item];
          events[a.number] = a.item;
          break;
        case AckKind::kProfile: profiles.push_back(a.number); break;
        case AckKind::kPresent:
          last_present = a.number;
          last_mode = a.mode;
          ++switches;
          break;
        case AckKind::kCheckpoint: ++checkpoints; break;
      }
    };
    auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 350);
    std::string problem = testing::run_until_killed(
        sizeof(Ack), [&](int fd) { run_child(dir.str(), fd, seed + it, base); }, on_ack, kill_at);
    ASSERT_EQ(problem, "");
    in_flight_events += 8;  // at most one batch was in flight at the kill

    auto opened = Database::open(dir.str(), schema, testing::crash_database_options());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    Database& db = **opened;
    // Events: each acknowledged one counted, at most the batch in flight more.
    uint64_t acked = 0, counted = 0;
    for (uint32_t item = 0; item < kItems; ++item) {
      Result<ItemSignals> s = db.item_signals("item_" + std::to_string(item));
      uint64_t n = 0;
      if (s.ok()) {
        for (const SignalSnapshot& snap : s->signals) {
          if (snap.signal == "like") n = snap.windows.back().count;  // the 7d window
        }
      }
      ASSERT_GE(n, likes[item]) << "item_" << item << " lost an acknowledged event";
      acked += likes[item];
      counted += n;
    }
    ASSERT_LE(counted, acked + in_flight_events);
    // A retry of an acknowledged event is a duplicate: kept once, applied once.
    for (const auto& [n, item] : events) {
      SignalEvent e{.item = "item_" + std::to_string(item), .user = "u1", .signal = "like"};
      e.idempotency_key = event_key(n);
      Result<IngestResult> r = db.ingest(e);
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      ASSERT_TRUE(r->duplicate) << event_key(n) << " was acknowledged but is not in the database";
    }
    events.clear();
    // Profiles.
    std::map<std::string, std::string> stored;
    for (const ProfileDefinition& p : db.profiles()) stored[p.name] = p.expression;
    for (uint64_t n : profiles) {
      auto found = stored.find("p_" + std::to_string(n));
      ASSERT_NE(found, stored.end()) << "profile p_" << n << " was lost";
    }
    // The present: the last acknowledged switch, or the one in flight after it.
    if (last_present) {
      Present p = db.present();
      uint64_t mode = p.mode == PresentMode::kHistorical ? 1 : 0;
      ASSERT_TRUE(mode == last_mode || mode == mode_of(*last_present + 1))
          << "the present is " << mode << " after switch " << *last_present << " set " << last_mode;
    }
    // The next child's events get live timestamps: leave the database live.
    ASSERT_TRUE(db.set_present(PresentMode::kLive).ok());
    ASSERT_TRUE(db.close().ok());
  }
  std::printf(
      "records crash test: %llu writes acknowledged (%llu switches of the present, %llu "
      "checkpoints) across %llu kills\n",
      static_cast<unsigned long long>(acks), static_cast<unsigned long long>(switches),
      static_cast<unsigned long long>(checkpoints), static_cast<unsigned long long>(iterations));
  EXPECT_GT(acks, iterations);
}

}  // namespace
}  // namespace tidal
