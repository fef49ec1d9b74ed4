#include <gtest/gtest.h>

#include "wal/dedup_set.h"

namespace tidal::wal {
namespace {

DedupKey key(uint32_t n) {
  DedupKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>((n >> (8 * (i % 4))) + i);
  return k;
}

Timestamp seconds(int64_t s) {
  return from_micros(s * 1'000'000);
}

DedupOptions by_count(size_t keys) {
  DedupOptions o;
  o.generation_keys = keys;
  o.generation_age = std::chrono::hours(24);
  return o;
}

TEST(WalDedupSetTest, RemembersInsertedKeysWithTheirSequence) {
  DedupSet s(by_count(100));
  EXPECT_EQ(s.find(key(1), seconds(0)), std::nullopt);
  s.insert(key(1), 10, seconds(0));
  s.insert(key(2), 11, seconds(0));
  EXPECT_EQ(s.find(key(1), seconds(1)), 10u);
  EXPECT_EQ(s.find(key(2), seconds(1)), 11u);
  EXPECT_EQ(s.find(key(3), seconds(1)), std::nullopt);
  EXPECT_EQ(s.size(), 2u);
}

TEST(WalDedupSetTest, RotatesByCount) {
  DedupSet s(by_count(3));
  for (uint32_t i = 1; i <= 3; ++i) s.insert(key(i), i, seconds(0));  // generation A: 1..3
  for (uint32_t i = 4; i <= 6; ++i) s.insert(key(i), i, seconds(0));  // generation B: 4..6
  // A is now the previous generation: still remembered.
  for (uint32_t i = 1; i <= 6; ++i) EXPECT_EQ(s.find(key(i), seconds(0)), i) << i;
  EXPECT_EQ(s.oldest_sequence(), 1u);
  s.insert(key(7), 7, seconds(0));  // B full: closes it, dropping A
  for (uint32_t i = 1; i <= 3; ++i) EXPECT_EQ(s.find(key(i), seconds(0)), std::nullopt) << i;
  for (uint32_t i = 4; i <= 7; ++i) EXPECT_EQ(s.find(key(i), seconds(0)), i) << i;
  EXPECT_EQ(s.oldest_sequence(), 4u);
  EXPECT_EQ(s.size(), 4u);
}

TEST(WalDedupSetTest, EveryKeyOutlivesAtLeastOneFullGeneration) {
  constexpr size_t kGen = 10;
  DedupSet s(by_count(kGen));
  for (uint32_t i = 1; i <= 100; ++i) {
    s.insert(key(i), i, seconds(0));
    for (uint32_t back = 0; back < kGen && back < i; ++back) {
      ASSERT_EQ(s.find(key(i - back), seconds(0)), i - back) << "after " << i;
    }
  }
}

TEST(WalDedupSetTest, RotatesByAge) {
  DedupOptions o;
  o.generation_keys = 1000;
  o.generation_age = std::chrono::seconds(10);
  DedupSet s(o);
  s.insert(key(1), 1, seconds(0));
  s.insert(key(2), 2, seconds(5));
  EXPECT_EQ(s.find(key(1), seconds(9)), 1u);
  // At 10 s the first generation closes but stays as previous.
  s.insert(key(3), 3, seconds(10));
  EXPECT_EQ(s.find(key(1), seconds(11)), 1u);
  EXPECT_EQ(s.find(key(2), seconds(11)), 2u);
  EXPECT_EQ(s.oldest_sequence(), 1u);
  // At 20 s (10 s after generation {3} started) {1,2} is dropped.
  EXPECT_EQ(s.find(key(1), seconds(20)), std::nullopt);
  EXPECT_EQ(s.find(key(3), seconds(20)), 3u);
  EXPECT_EQ(s.oldest_sequence(), 3u);
}

TEST(WalDedupSetTest, ClearsEverythingAfterTwiceTheAge) {
  DedupOptions o;
  o.generation_keys = 1000;
  o.generation_age = std::chrono::seconds(10);
  DedupSet s(o);
  s.insert(key(1), 1, seconds(0));
  s.insert(key(2), 2, seconds(10));                      // closes {1}; current {2} starts at 10
  EXPECT_EQ(s.find(key(1), seconds(29)), std::nullopt);  // {2} is 19 s old: {1} dropped
  EXPECT_EQ(s.find(key(2), seconds(29)), 2u);
  EXPECT_EQ(s.find(key(2), seconds(30)), std::nullopt);  // {2} is 20 s old: both gone
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.oldest_sequence(), std::nullopt);
}

TEST(WalDedupSetTest, OldestSequenceFollowsTheGenerations) {
  DedupSet s(by_count(2));
  EXPECT_EQ(s.oldest_sequence(), std::nullopt);
  s.insert(key(1), 5, seconds(0));
  EXPECT_EQ(s.oldest_sequence(), 5u);
  s.insert(key(2), 6, seconds(0));
  s.insert(key(3), 9, seconds(0));  // current {9}, previous {5,6}
  EXPECT_EQ(s.oldest_sequence(), 5u);
  s.insert(key(4), 10, seconds(0));
  s.insert(key(5), 11, seconds(0));  // current {11}, previous {9,10}
  EXPECT_EQ(s.oldest_sequence(), 9u);
  s.clear();
  EXPECT_EQ(s.oldest_sequence(), std::nullopt);
  EXPECT_EQ(s.find(key(5), seconds(0)), std::nullopt);
}

}  // namespace
}  // namespace tidal::wal
