// Entities under kill -9: a child process opens a Database with fsync
// durability and, from three threads, upserts and patches items, creates and
// deletes short-lived items, and follows creators, reporting each
// acknowledged write through a pipe; it checkpoints now and then (which also
// saves the vector graph). The parent kills it at a random moment, reopens the
// database and checks that every acknowledged write is there — attributes,
// filter index, text index, vector index and followers — and every
// acknowledged delete stayed deleted. The folder is reused, so each
// recovery starts from what the previous crash and recovery left.
//
// TIDAL_CRASH_ITERATIONS overrides the number of kills; TIDAL_CRASH_SEED the
// seed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/crash_pipe.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

constexpr uint64_t kKeys = 300;  // items "item_<k>" written over and over

enum class AckKind : uint32_t { kUpsert, kPatch, kDeleted, kFollow };

// 24 bytes: each write(2) to the pipe is atomic.
struct Ack {
  AckKind kind;
  uint32_t key;
  uint64_t version;  // kUpsert, kPatch: the version written; kDeleted: the temp item
  uint64_t extra;    // kFollow: the user
};

Schema crash_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem,
                  {.name = "version", .type = AttributeType::kInt, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "shard", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "patched", .type = AttributeType::kInt, .filterable = true});
  b.add_attribute(EntityKind::kItem, {.name = "label", .type = AttributeType::kText});
  b.add_attribute(EntityKind::kItem, {.name = "emb",
                                      .type = AttributeType::kVector,
                                      .vector_dim = 4,
                                      .metric = VectorMetric::kL2});
  return b.build().value();
}

// A vector no other write uses: item k at `version` (small integers, exact
// in floats).
std::vector<float> emb_of(uint64_t k, uint64_t version) {
  return {static_cast<float>(k), static_cast<float>(version % 10007),
          static_cast<float>(version / 10007 % 10007), 1};
}

std::string vector_text(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(int64_t(v[i]));
  return s + "]";
}

std::string shard_of(uint64_t key) {
  return "s" + std::to_string(key % 7);
}

// Runs in the forked child until killed. Versions grow across iterations
// (`base`), so the newest acknowledged version of a key is the least the
// parent may find.
[[noreturn]] void run_child(const std::string& dir, int fd, uint64_t seed, uint64_t base) {
  std::unique_ptr<Database> opened = testing::open_child_database(dir, crash_schema());
  Database& db = *opened;
  auto fail = [](const Status& s) { testing::child_fail(s); };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // upserts in batches, and patches
    std::mt19937_64 rng(seed);
    for (uint64_t n = 0;; ++n) {
      uint64_t version = base + n * 8;
      std::vector<EntityWrite> batch;
      std::vector<uint32_t> keys;
      size_t size = 1 + rng() % 20;
      std::set<uint32_t> used;
      for (size_t i = 0; i < size; ++i) {
        auto k = static_cast<uint32_t>(rng() % kKeys);
        if (!used.insert(k).second) continue;
        keys.push_back(k);
        batch.push_back({EntityKind::kItem,
                         "item_" + std::to_string(k),
                         {{"version", static_cast<int64_t>(version)},
                          {"label", "v" + std::to_string(version)},
                          {"shard", shard_of(k)},
                          {"creator", "c" + std::to_string(k % 5)},
                          {"emb", emb_of(k, version)}}});
      }
      BatchIngestResult r = db.upsert(batch);
      if (r.rejected > 0) fail(r.errors[0]);
      for (uint32_t k : keys) testing::send_record(fd, Ack{AckKind::kUpsert, k, version, 0});
      auto k = keys[0];
      Result<uint64_t> p = db.patch(
          {EntityKind::kItem, "item_" + std::to_string(k), {{"patched", int64_t(version)}}});
      if (!p.ok()) fail(p.status());
      testing::send_record(fd, Ack{AckKind::kPatch, k, version, 0});
      if (n % 97 == 96 && !db.checkpoint().ok()) fail(Status::Internal(Subsystem::kStorage, "cp"));
    }
  });
  threads.emplace_back([&] {  // short-lived items
    for (uint64_t n = 0;; ++n) {
      std::string key = "temp_" + std::to_string(base + n);
      Result<uint64_t> u = db.upsert(
          {EntityKind::kItem, key, {{"shard", "temp"}, {"emb", emb_of(kKeys + 1, base + n)}}});
      if (!u.ok()) fail(u.status());
      Result<uint64_t> d = db.remove(EntityKind::kItem, key);
      if (!d.ok()) fail(d.status());
      testing::send_record(fd, Ack{AckKind::kDeleted, 0, base + n, 0});
    }
  });
  threads.emplace_back([&] {  // follows
    std::mt19937_64 rng(seed * 7 + 1);
    for (;;) {
      uint64_t user = rng() % 1000;
      auto creator = static_cast<uint32_t>(rng() % 50);
      Result<uint64_t> r = db.relate(
          {.user = "u" + std::to_string(user), .target = "creator_" + std::to_string(creator)});
      if (!r.ok()) fail(r.status());
      testing::send_record(fd, Ack{AckKind::kFollow, creator, 0, user});
    }
  });
  for (;;) ::pause();
}

TEST(EntitiesCrashTest, AcknowledgedEntityWritesSurviveSigkill) {
  const uint64_t iterations = testing::env_or("TIDAL_CRASH_ITERATIONS", 20);
  const uint64_t seed = testing::env_or("TIDAL_CRASH_SEED", 20261124);
  std::printf("entity crash test: %llu iterations, seed %llu\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed));
  testing::TempDir dir;
  std::mt19937_64 rng(seed);
  std::map<uint32_t, uint64_t> newest_version, newest_patch;
  std::set<uint64_t> deleted;
  std::set<std::pair<uint32_t, uint64_t>> follows;  // (creator, user)
  uint64_t acks = 0;

  for (uint64_t it = 0; it < iterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    uint64_t base = (it + 1) * 100'000'000;
    auto on_ack = [&](const char* rec) {
      Ack a;
      std::memcpy(&a, rec, sizeof(a));
      ++acks;
      switch (a.kind) {
        case AckKind::kUpsert:
          newest_version[a.key] = std::max(newest_version[a.key], a.version);
          break;
        case AckKind::kPatch: newest_patch[a.key] = std::max(newest_patch[a.key], a.version); break;
        case AckKind::kDeleted: deleted.insert(a.version); break;
        case AckKind::kFollow: follows.insert({a.key, a.extra}); break;
      }
    };
    auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 350);
    std::string problem = testing::run_until_killed(
        sizeof(Ack), [&](int fd) { run_child(dir.str(), fd, seed + it, base); }, on_ack, kill_at);
    ASSERT_EQ(problem, "");

    auto opened = Database::open(dir.str(), crash_schema(), testing::crash_database_options());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    Database& db = **opened;
    for (const auto& [k, v] : newest_version) {
      std::string key = "item_" + std::to_string(k);
      Result<Entity> e = db.get(EntityKind::kItem, key);
      ASSERT_TRUE(e.ok()) << key << ": " << e.status().to_string();
      auto version = static_cast<uint64_t>(std::get<int64_t>(*e->find("version")));
      ASSERT_GE(version, v) << key << " lost an acknowledged upsert";
      // The filter index agrees with the stored attributes.
      Filter f = Filter::eq("version", static_cast<int64_t>(version)) &&
                 Filter::eq("shard", shard_of(k)) &&
                 Filter::eq("creator", "c" + std::to_string(k % 5));
      Result<std::vector<std::string>> keys = db.keys(EntityKind::kItem, f, 100);
      ASSERT_TRUE(keys.ok());
      ASSERT_NE(std::find(keys->begin(), keys->end(), key), keys->end()) << key;
      // So does the text index, rebuilt from the stored entities and the WAL.
      Result<QueryResult> found =
          db.query("SEARCH items QUERY 'v" + std::to_string(version) + "' LIMIT 100");
      ASSERT_TRUE(found.ok()) << found.status().to_string();
      ASSERT_TRUE(std::any_of(found->rows.begin(), found->rows.end(),
                              [&](const QueryRow& r) { return r.key == key; }))
          << key << " is not found by its label v" << version;
      // So does the vector index, loaded or rebuilt and reconciled: the
      // nearest to the item's vector is the item itself, at distance 0.
      const auto* emb = std::get_if<std::vector<float>>(e->find("emb"));
      ASSERT_NE(emb, nullptr) << key;
      ASSERT_EQ(*emb, emb_of(k, version)) << key;
      Result<QueryResult> near =
          db.query("NEAREST items TO VECTOR " + vector_text(*emb) + " USING emb LIMIT 1");
      ASSERT_TRUE(near.ok()) << near.status().to_string();
      ASSERT_EQ(near->rows.size(), 1u);
      ASSERT_EQ(near->rows[0].key, key) << "the vector index lost " << key << "'s vector";
      ASSERT_EQ(near->rows[0].score, 1.0) << key;
      auto patched = newest_patch.find(k);
      if (patched != newest_patch.end() && e->find("patched") != nullptr) {
        // A patch lands on the entity as it was; a later upsert replaces it.
        ASSERT_TRUE(version > patched->second || static_cast<uint64_t>(std::get<int64_t>(
                                                     *e->find("patched"))) >= patched->second)
            << key << " lost an acknowledged patch";
      } else if (patched != newest_patch.end()) {
        ASSERT_GT(version, patched->second) << key << " lost an acknowledged patch";
      }
    }
    for (uint64_t t : deleted) {
      ASSERT_EQ(db.get(EntityKind::kItem, "temp_" + std::to_string(t)).status().code(),
                StatusCode::kNotFound)
          << "temp_" << t << " came back after an acknowledged delete";
    }
    Result<uint64_t> live_temps = db.count(EntityKind::kItem, Filter::eq("shard", "temp"));
    ASSERT_TRUE(live_temps.ok());
    ASSERT_LE(*live_temps, it + 1);  // at most the one in flight at each kill
    // Every live vector is in the index once, and no deleted one.
    Result<QueryResult> all =
        db.query("NEAREST items TO VECTOR [0, 0, 0, 0] USING emb EF 10000 LIMIT 10000");
    ASSERT_TRUE(all.ok()) << all.status().to_string();
    Result<uint64_t> live_items = db.count(EntityKind::kItem, Filter::exists("version"));
    ASSERT_TRUE(live_items.ok());
    ASSERT_EQ(all->rows.size(), *live_items + *live_temps);
    std::map<uint32_t, std::set<std::string>> followers;
    for (const auto& [c, u] : follows) {
      auto& f = followers[c];
      if (f.empty()) {
        auto list = db.followers(EntityKind::kCreator, "creator_" + std::to_string(c), 100000);
        ASSERT_TRUE(list.ok());
        f.insert(list->begin(), list->end());
      }
      ASSERT_TRUE(f.contains("u" + std::to_string(u)))
          << "u" << u << " no longer follows creator_" << c;
    }
    ASSERT_TRUE(db.close().ok());
  }
  std::printf("entity crash test: %llu writes acknowledged across %llu kills\n",
              static_cast<unsigned long long>(acks), static_cast<unsigned long long>(iterations));
  EXPECT_GT(acks, iterations);
}

}  // namespace
}  // namespace tidal
