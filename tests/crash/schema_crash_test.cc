// Schema changes under kill -9: a child process opens the database with the
// schema stored in its folder and, from three threads, adds attributes and
// signal types (Database::add_attribute, add_signal_type), writes items that
// use the newest attribute it has added, and ingests events of the newest
// signal type it has added, reporting each acknowledged write through a pipe;
// it checkpoints now and then. The parent kills it at a random moment, reads
// the stored schema, reopens the database with it and checks:
//
//   - the schema is the old or the new one, never a mix: its added
//     attributes and signal types are exactly the first ones the child
//     meant to add, in order, each acknowledged one among them (at most the
//     one in flight beyond);
//   - every item written under an acknowledged attribute is there with its
//     value, and every acknowledged event of an added signal type is
//     counted.
//
// The folder is reused, so each recovery starts from what the previous crash
// and recovery left. TIDAL_CRASH_ITERATIONS overrides the number of kills;
// TIDAL_CRASH_SEED the seed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/crash_pipe.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

enum class AckKind : uint32_t { kAttribute, kSignal, kItem, kEvent, kCheckpoint };

// 24 bytes: each write(2) to the pipe is atomic.
struct Ack {
  AckKind kind;
  uint32_t unused = 0;
  uint64_t number = 0;  // the change's number; kItem, kEvent: the write's
  uint64_t change = 0;  // kItem: its attribute's number; kEvent: its signal's
};

// The n-th change adds an attribute, or (every third) a signal type.
bool adds_signal(uint64_t n) {
  return n % 3 == 2;
}
std::string attribute_name(uint64_t n) {
  return "a_" + std::to_string(n);
}
std::string signal_name(uint64_t n) {
  return "s_" + std::to_string(n);
}
std::string item_key(uint64_t n) {
  return "item_" + std::to_string(n);
}

Schema base_schema() {
  return SchemaBuilder::with_default_signals().build().value();
}

// Runs in the forked child until killed. Numbers grow across iterations
// (`base`), so every change and write is new.
[[noreturn]] void run_child(const std::string& dir, int fd, uint64_t seed, uint64_t base) {
  Result<Schema> stored = Database::stored_schema(dir);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) {
    testing::child_fail(stored.status());
  }
  std::unique_ptr<Database> opened =
      testing::open_child_database(dir, stored.ok() ? *stored : base_schema());
  Database& db = *opened;
  auto fail = [](const Status& s) { testing::child_fail(s); };
  // The newest acknowledged attribute and signal type (UINT64_MAX: none yet
  // in this child).
  std::atomic<uint64_t> attribute{UINT64_MAX}, signal{UINT64_MAX};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // schema changes, and checkpoints
    std::mt19937_64 rng(seed);
    for (uint64_t n = base;; ++n) {
      Result<Schema> r = adds_signal(n)
                             ? db.add_signal_type({.name = signal_name(n),
                                                   .half_life = std::chrono::hours(1),
                                                   .windows = {std::chrono::hours(24)}})
                             : db.add_attribute(EntityKind::kItem, {.name = attribute_name(n),
                                                                    .type = AttributeType::kKeyword,
                                                                    .filterable = true});
      if (!r.ok()) fail(r.status());
      testing::send_record(fd,
                           Ack{adds_signal(n) ? AckKind::kSignal : AckKind::kAttribute, 0, n, 0});
      (adds_signal(n) ? signal : attribute).store(n);
      if (n % 4 == 3) {
        Status st = db.checkpoint();
        if (!st.ok()) fail(st);
        testing::send_record(fd, Ack{AckKind::kCheckpoint, 0, 0, 0});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 20));
    }
  });
  threads.emplace_back([&] {  // items under the newest attribute
    for (uint64_t n = base;; ++n) {
      const uint64_t a = attribute.load();
      if (a == UINT64_MAX) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        --n;
        continue;
      }
      Result<uint64_t> r = db.upsert(EntityWrite{
          EntityKind::kItem, item_key(n), {{attribute_name(a), "v" + std::to_string(n)}}});
      if (!r.ok()) fail(r.status());
      testing::send_record(fd, Ack{AckKind::kItem, 0, n, a});
    }
  });
  threads.emplace_back([&] {  // events of the newest signal type
    for (uint64_t n = base;; ++n) {
      const uint64_t s = signal.load();
      if (s == UINT64_MAX) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        --n;
        continue;
      }
      SignalEvent e{.item = "target", .user = "u", .signal = signal_name(s)};
      e.idempotency_key = "event-" + std::to_string(n);
      Result<IngestResult> r = db.ingest(e);
      if (!r.ok()) fail(r.status());
      testing::send_record(fd, Ack{AckKind::kEvent, 0, n, s});
    }
  });
  for (;;) ::pause();
}

TEST(SchemaCrashTest, ASchemaIsOldOrNewAfterSigkillAndDataUnderItSurvives) {
  const uint64_t iterations = testing::env_or("TIDAL_CRASH_ITERATIONS", 10);
  const uint64_t seed = testing::env_or("TIDAL_CRASH_SEED", 20261207);
  std::printf("schema crash test: %llu iterations, seed %llu\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed));
  testing::TempDir dir;
  std::mt19937_64 rng(seed);
  // Every change the children meant to make, in order, across iterations.
  std::vector<uint64_t> planned;
  std::map<uint64_t, uint64_t> items;   // item number -> attribute number, acknowledged
  std::map<uint64_t, uint64_t> events;  // signal number -> acknowledged events
  uint64_t changes = 0, writes = 0, checkpoints = 0;

  for (uint64_t it = 0; it < iterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    const uint64_t base = (it + 1) * 1'000'000;
    std::optional<uint64_t> last_change;
    auto on_ack = [&](const char* rec) {
      Ack a;
      std::memcpy(&a, rec, sizeof(a));
      switch (a.kind) {
        case AckKind::kAttribute:
        case AckKind::kSignal:
          last_change = a.number;
          ++changes;
          break;
        case AckKind::kItem:
          items[a.number] = a.change;
          ++writes;
          break;
        case AckKind::kEvent:
          ++events[a.change];
          ++writes;
          break;
        case AckKind::kCheckpoint: ++checkpoints; break;
      }
    };
    auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 350);
    std::string problem = testing::run_until_killed(
        sizeof(Ack), [&](int fd) { run_child(dir.str(), fd, seed + it, base); }, on_ack, kill_at);
    ASSERT_EQ(problem, "");

    Result<Schema> stored = Database::stored_schema(dir.str());
    ASSERT_TRUE(stored.ok()) << stored.status().to_string();
    auto opened = Database::open(dir.str(), *stored, testing::crash_database_options());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    Database& db = **opened;
    const Schema schema = db.schema();

    // The changes in force: attributes and signal types beyond the base, in
    // the order they were added.
    std::vector<uint64_t> in_force;
    std::map<uint64_t, std::string> by_id;  // attribute id -> name
    for (const AttributeDefinition& a : schema.attributes(EntityKind::kItem)) {
      if (a.name.rfind("a_", 0) == 0) by_id[a.id] = a.name;
    }
    std::vector<std::pair<uint64_t, bool>> order;  // (number, is signal)
    for (const auto& [id, name] : by_id) order.emplace_back(std::stoull(name.substr(2)), false);
    for (const SignalTypeDefinition& s : schema.signals()) {
      if (s.name.rfind("s_", 0) == 0) order.emplace_back(std::stoull(s.name.substr(2)), true);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [n, is_signal] : order) {
      ASSERT_EQ(is_signal, adds_signal(n)) << n;
      in_force.push_back(n);
    }
    // Planned so far: every earlier iteration's changes in force, then this
    // child's from `base` on. In force must be a prefix of that, holding
    // every acknowledged change and at most the one in flight beyond.
    std::vector<uint64_t> expected(planned);
    const uint64_t through = last_change ? *last_change + 1 : base;
    for (uint64_t n = base; n <= through; ++n) expected.push_back(n);
    ASSERT_LE(in_force.size(), expected.size());
    for (size_t i = 0; i < in_force.size(); ++i) {
      ASSERT_EQ(in_force[i], expected[i]) << "the schema in force is not a prefix of the changes";
    }
    const size_t acked_count = planned.size() + (last_change ? *last_change - base + 1 : 0);
    ASSERT_GE(in_force.size(), acked_count) << "an acknowledged schema change was lost";
    EXPECT_EQ(schema.version(), 1 + in_force.size());
    planned = in_force;

    // Data written under acknowledged changes.
    for (const auto& [n, a] : items) {
      Result<Entity> e = db.get(EntityKind::kItem, item_key(n));
      ASSERT_TRUE(e.ok()) << item_key(n) << ": " << e.status().to_string();
      const auto* v = e->find(attribute_name(a));
      ASSERT_NE(v, nullptr) << item_key(n) << " lost " << attribute_name(a);
      ASSERT_EQ(std::get<std::string>(*v), "v" + std::to_string(n));
    }
    Result<ItemSignals> target = db.item_signals("target");
    for (const auto& [s, count] : events) {
      ASSERT_TRUE(target.ok()) << target.status().to_string();
      uint64_t counted = 0;
      for (const SignalSnapshot& snap : target->signals) {
        if (snap.signal == signal_name(s)) counted = snap.windows.back().count;
      }
      ASSERT_GE(counted, count) << signal_name(s) << " lost an acknowledged event";
    }
    ASSERT_TRUE(db.close().ok());
  }
  std::printf(
      "schema crash test: %llu schema changes and %llu writes acknowledged (%llu checkpoints) "
      "across %llu kills\n",
      static_cast<unsigned long long>(changes), static_cast<unsigned long long>(writes),
      static_cast<unsigned long long>(checkpoints), static_cast<unsigned long long>(iterations));
  EXPECT_GT(changes, iterations);
}

}  // namespace
}  // namespace tidal
