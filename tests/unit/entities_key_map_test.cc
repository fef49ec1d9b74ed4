// KeyMap: keys to dense indexes, lookups across table growth, and the
// checkpoint / restore round trip.
#include <gtest/gtest.h>

#include <string>

#include "entities/key_map.h"
#include "storage/memory_engine.h"

namespace tidal {
namespace {

std::string key(size_t n) {
  return "key_" + std::to_string(n) + (n % 3 == 0 ? std::string(40, 'x') : "");
}

TEST(KeyMap, AssignsDenseIndexesInFirstSeenOrder) {
  KeyMap m(EntityKind::kItem);
  EXPECT_EQ(m.find("a"), std::nullopt);
  EXPECT_EQ(m.assign("a"), 0u);
  EXPECT_EQ(m.assign("b"), 1u);
  EXPECT_EQ(m.assign("a"), 0u);
  EXPECT_EQ(m.assign(""), 2u);
  EXPECT_EQ(m.find("b"), 1u);
  EXPECT_EQ(m.find(""), 2u);
  EXPECT_EQ(m.find("c"), std::nullopt);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.key_of(1), "b");
}

TEST(KeyMap, FindsEveryKeyAcrossGrowthAndKeepsReferences) {
  KeyMap m(EntityKind::kUser);
  EXPECT_EQ(m.assign(key(0)), 0u);
  const std::string* first_ref = &m.key_of(0);
  constexpr size_t kKeys = 100'000;  // many doublings of the table
  for (size_t n = 1; n < kKeys; ++n) ASSERT_EQ(m.assign(key(n)), n);
  EXPECT_EQ(&m.key_of(0), first_ref);  // key_of references outlive growth
  for (size_t n = 0; n < kKeys; ++n) {
    ASSERT_EQ(m.find(key(n)), n) << key(n);
    ASSERT_EQ(m.key_of(static_cast<uint32_t>(n)), key(n));
  }
  for (size_t n = kKeys; n < kKeys + 1000; ++n) ASSERT_EQ(m.find(key(n)), std::nullopt);
  EXPECT_EQ(m.size(), kKeys);
}

TEST(KeyMap, RestoresWhatACheckpointWrote) {
  MemoryEngine engine;
  constexpr size_t kKeys = 5000;
  {
    KeyMap m(EntityKind::kCreator);
    for (size_t n = 0; n < kKeys; ++n) m.assign(key(n));
    for (size_t n = 0; n < kKeys; n += 7) m.set_registered(static_cast<uint32_t>(n));
    WriteBatch batch;
    m.checkpoint(&batch);
    ASSERT_TRUE(engine.write(batch, WriteMode::kDerived).ok());
    m.end_checkpoint(true);
    // Only what changed since is written next time.
    m.clear_registered(0);
    EXPECT_EQ(m.assign(key(kKeys)), kKeys);
    WriteBatch more;
    m.checkpoint(&more);
    EXPECT_EQ(more.ops().size(), 2u);
    ASSERT_TRUE(engine.write(more, WriteMode::kDerived).ok());
  }
  KeyMap r(EntityKind::kCreator);
  ASSERT_TRUE(r.restore(engine).ok());
  ASSERT_EQ(r.size(), kKeys + 1);
  for (size_t n = 0; n <= kKeys; ++n) {
    ASSERT_EQ(r.find(key(n)), n);
    ASSERT_EQ(r.key_of(static_cast<uint32_t>(n)), key(n));
    ASSERT_EQ(r.registered(static_cast<uint32_t>(n)), n != 0 && n % 7 == 0 && n < kKeys) << n;
  }
  // Another kind's keys are not this map's.
  KeyMap other(EntityKind::kItem);
  ASSERT_TRUE(other.restore(engine).ok());
  EXPECT_EQ(other.size(), 0u);
  // New keys continue after the restored ones.
  EXPECT_EQ(r.assign("new"), kKeys + 1);
}

TEST(KeyMap, RestoreRejectsIndexesThatAreNotDense) {
  MemoryEngine engine;
  WriteBatch batch;
  std::string value = {static_cast<char>(5), 0};  // index 5, flags 0: one entry, not index 0
  batch.put(Keyspace::kMeta, "keys/0/a", value);
  ASSERT_TRUE(engine.write(batch, WriteMode::kDerived).ok());
  KeyMap m(EntityKind::kItem);
  Status s = m.restore(engine);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.to_string();
}

}  // namespace
}  // namespace tidal
