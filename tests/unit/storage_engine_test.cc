// One suite run against every StorageEngine backend: the contract of
// storage_engine.h, checked the same way for each.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "storage/key_encoding.h"
#include "support/storage_testing.h"

namespace tidal {
namespace {

using namespace std::string_literals;
using testing::KeyValues;
using testing::scan_all;

template <typename Backend>
class StorageEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = backend_.make();
    ASSERT_NE(engine_, nullptr);
  }

  std::optional<std::string> get(Keyspace ks, std::string_view key) {
    auto r = engine_->get(ks, key);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : std::nullopt;
  }
  void put(Keyspace ks, std::string_view key, std::string_view value) {
    ASSERT_TRUE(engine_->put(ks, key, value).ok());
  }
  void write(const WriteBatch& batch) {
    Status s = engine_->write(batch);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  std::vector<std::string> keys(Keyspace ks, std::string_view begin = {},
                                std::string_view end = {}) {
    std::vector<std::string> out;
    for (auto& [k, v] : scan_all(*engine_, ks, begin, end)) out.push_back(k);
    return out;
  }

  Backend backend_;
  std::unique_ptr<StorageEngine> engine_;
};

using Backends = ::testing::Types<testing::MemoryBackend, testing::RocksDbBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, testing::MemoryBackend> ? "Memory" : "RocksDb";
  }
};
TYPED_TEST_SUITE(StorageEngineTest, Backends, BackendNames);

constexpr Keyspace kKs = Keyspace::kEntities;

TYPED_TEST(StorageEngineTest, GetMissingIsEmpty) {
  EXPECT_EQ(this->get(kKs, "nope"), std::nullopt);
}

TYPED_TEST(StorageEngineTest, PutGetOverwriteDelete) {
  this->put(kKs, "k", "v1");
  EXPECT_EQ(this->get(kKs, "k"), "v1");
  this->put(kKs, "k", "v2");
  EXPECT_EQ(this->get(kKs, "k"), "v2");
  ASSERT_TRUE(this->engine_->del(kKs, "k").ok());
  EXPECT_EQ(this->get(kKs, "k"), std::nullopt);
  EXPECT_TRUE(this->engine_->del(kKs, "never-there").ok());
}

TYPED_TEST(StorageEngineTest, BothWriteModesWrite) {
  ASSERT_TRUE(this->engine_->put(kKs, "d", "1", WriteMode::kDurable).ok());
  ASSERT_TRUE(this->engine_->put(kKs, "e", "2", WriteMode::kDerived).ok());
  WriteBatch b;
  b.put(kKs, "f", "3");
  ASSERT_TRUE(this->engine_->write(b, WriteMode::kDurable).ok());
  ASSERT_TRUE(this->engine_->del(kKs, "e", WriteMode::kDurable).ok());
  EXPECT_EQ(this->keys(kKs), (std::vector<std::string>{"d", "f"}));
  EXPECT_TRUE(this->engine_->flush().ok());
}

TYPED_TEST(StorageEngineTest, KeyspacesAreSeparate) {
  for (Keyspace ks : kAllKeyspaces) this->put(ks, "same", std::string(keyspace_name(ks)));
  for (Keyspace ks : kAllKeyspaces) {
    EXPECT_EQ(this->get(ks, "same"), std::string(keyspace_name(ks)));
    EXPECT_EQ(scan_all(*this->engine_, ks).size(), 1u);
  }
  ASSERT_TRUE(this->engine_->del(Keyspace::kMeta, "same").ok());
  EXPECT_EQ(this->get(Keyspace::kMeta, "same"), std::nullopt);
  EXPECT_EQ(this->get(Keyspace::kEvents, "same"), "events");
}

TYPED_TEST(StorageEngineTest, ScanRanges) {
  for (const char* k : {"a", "b", "c", "d"}) this->put(kKs, k, std::string("v") + k);
  using V = std::vector<std::string>;
  EXPECT_EQ(this->keys(kKs), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(this->keys(kKs, "b", "d"), (V{"b", "c"}));
  EXPECT_EQ(this->keys(kKs, "bb", "cc"), (V{"c"}));
  EXPECT_EQ(this->keys(kKs, "c", ""), (V{"c", "d"}));
  EXPECT_EQ(this->keys(kKs, "", "b"), (V{"a"}));
  EXPECT_EQ(this->keys(kKs, "b", "b"), V{});
  EXPECT_EQ(this->keys(kKs, "d", "a"), V{});
  EXPECT_EQ(this->keys(kKs, "e", ""), V{});
  EXPECT_EQ(scan_all(*this->engine_, kKs, "b", "c"), (KeyValues{{"b", "vb"}}));
  EXPECT_TRUE(scan_all(*this->engine_, Keyspace::kSignals).empty());
}

TYPED_TEST(StorageEngineTest, ScanPrefixOfEntityKeys) {
  for (uint64_t id : {1, 2, 3}) {
    for (KeyTag tag : {KeyTag::kAttributes, KeyTag::kSignalState}) {
      this->put(kKs, encode_entity_key(EntityId(id), tag, "s"), std::to_string(id));
      this->put(kKs, encode_entity_key(EntityId(id), tag, "\xff\xff"), std::to_string(id));
    }
  }
  KeyValues two = testing::drain(*this->engine_->scan_prefix(kKs, entity_prefix(EntityId(2))));
  ASSERT_EQ(two.size(), 4u);
  for (auto& [k, v] : two) {
    EXPECT_EQ(decode_entity_key(k)->id, EntityId(2));
    EXPECT_EQ(v, "2");
  }
  KeyValues state = testing::drain(
      *this->engine_->scan_prefix(kKs, entity_tag_prefix(EntityId(3), KeyTag::kSignalState)));
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(decode_entity_key(state[0].first)->suffix, "s");
  EXPECT_EQ(decode_entity_key(state[1].first)->suffix, "\xff\xff");
  EXPECT_EQ(testing::drain(*this->engine_->scan_prefix(kKs, "")).size(), 12u);
}

TYPED_TEST(StorageEngineTest, ScanPrefixOfAllOnes) {
  for (std::string k : {"\xfe"s, "\xfe\xff"s, "\xff"s, "\xff\x00"s, "\xff\xff"s, "\xff\xff\x01"s}) {
    this->put(kKs, k, "v");
  }
  std::vector<std::string> got;
  for (auto& [k, v] : testing::drain(*this->engine_->scan_prefix(kKs, "\xff\xff"))) {
    got.push_back(k);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"\xff\xff"s, "\xff\xff\x01"s}));
  got.clear();
  for (auto& [k, v] : testing::drain(*this->engine_->scan_prefix(kKs, "\xfe"))) got.push_back(k);
  EXPECT_EQ(got, (std::vector<std::string>{"\xfe"s, "\xfe\xff"s}));
}

TYPED_TEST(StorageEngineTest, BinaryKeysAndValuesOrderByUnsignedBytes) {
  std::vector<std::string> sorted = {""s,     "\x00"s,   "\x00\x00"s, "\x00\xff"s,
                                     "\x01"s, "a\x00b"s, "a\xff"s,    "\x7f"s,
                                     "\x80"s, "\xff"s,   "\xff\x00"s, "\xff\xff"s};
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it)
    this->put(kKs, *it, "\x00v\xff"s + *it);
  KeyValues all = scan_all(*this->engine_, kKs);
  ASSERT_EQ(all.size(), sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_EQ(all[i].first, sorted[i]) << i;
    EXPECT_EQ(all[i].second, "\x00v\xff"s + sorted[i]) << i;
    EXPECT_EQ(this->get(kKs, sorted[i]), "\x00v\xff"s + sorted[i]) << i;
  }
  EXPECT_EQ(this->keys(kKs, "\x00"s, "\x01"s),
            (std::vector<std::string>{"\x00"s, "\x00\x00"s, "\x00\xff"s}));
}

TYPED_TEST(StorageEngineTest, LargeValue) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4097) big[i] = static_cast<char>(i);
  this->put(kKs, "big", big);
  EXPECT_EQ(this->get(kKs, "big"), big);
}

TYPED_TEST(StorageEngineTest, BatchAppliesInOrderAcrossKeyspaces) {
  this->put(kKs, "gone", "x");
  WriteBatch b;
  b.put(kKs, "a", "1");
  b.put(Keyspace::kMeta, "m", "meta");
  b.put(kKs, "a", "2");  // later op on the same key wins
  b.put(kKs, "tmp", "t");
  b.del(kKs, "tmp");  // put then delete: absent
  b.del(kKs, "back");
  b.put(kKs, "back", "again");  // delete then put: present
  b.del(kKs, "gone");
  this->write(b);
  EXPECT_EQ(scan_all(*this->engine_, kKs), (KeyValues{{"a", "2"}, {"back", "again"}}));
  EXPECT_EQ(this->get(Keyspace::kMeta, "m"), "meta");
  this->write(WriteBatch());  // an empty batch is fine
}

TYPED_TEST(StorageEngineTest, DeleteRange) {
  for (const char* k : {"a", "b", "bb", "c", "d", "e"}) this->put(kKs, k, "v");
  this->put(Keyspace::kMeta, "b", "other keyspace");
  WriteBatch b;
  b.delete_range(kKs, "b", "d");
  this->write(b);
  using V = std::vector<std::string>;
  EXPECT_EQ(this->keys(kKs), (V{"a", "d", "e"}));
  EXPECT_EQ(this->get(Keyspace::kMeta, "b"), "other keyspace");

  b.clear();
  b.delete_range(kKs, "e", "a");  // begin > end: nothing
  b.delete_range(kKs, "d", "d");  // begin == end: nothing
  this->write(b);
  EXPECT_EQ(this->keys(kKs), (V{"a", "d", "e"}));
}

TYPED_TEST(StorageEngineTest, DeleteRangeToEndOfKeyspace) {
  for (std::string k : {"a"s, "c"s, "\xff\xff\xff"s}) this->put(kKs, k, "v");
  WriteBatch b;
  b.put(kKs, "\xff\xff\xff\xff\x00"s, "put earlier in the batch");
  b.delete_range(kKs, "b", "");
  b.put(kKs, "z", "put later in the batch");
  this->write(b);
  EXPECT_EQ(this->keys(kKs), (std::vector<std::string>{"a", "z"}));

  b.clear();
  b.delete_range(kKs, "", "");  // the whole keyspace
  this->write(b);
  EXPECT_TRUE(this->keys(kKs).empty());
  b.clear();
  b.delete_range(kKs, "", "");  // of an empty keyspace
  this->write(b);
  EXPECT_TRUE(this->keys(kKs).empty());
}

TYPED_TEST(StorageEngineTest, IteratorKeyAndValueLiveUntilNext) {
  for (const char* k : {"a", "b", "c"}) this->put(kKs, k, std::string(50, *k));
  auto it = this->engine_->scan(kKs, "", "");
  ASSERT_TRUE(it->valid());
  std::string_view key = it->key();
  std::string_view value = it->value();
  // Writes to the same and other keys must not disturb the current entry.
  this->put(kKs, "a", "changed");
  ASSERT_TRUE(this->engine_->del(kKs, "a").ok());
  for (int i = 0; i < 100; ++i) this->put(kKs, "a" + std::to_string(i), std::string(64, 'q'));
  EXPECT_EQ(key, "a");
  EXPECT_EQ(value, std::string(50, 'a'));
  it->next();
  ASSERT_TRUE(it->valid());
  // The current key deleted under the iterator: next() still moves on.
  ASSERT_TRUE(this->engine_->del(kKs, it->key()).ok());
  it->next();
  ASSERT_TRUE(it->valid());
  it->next();
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(StorageEngineTest, IteratorAndLaterWrites) {
  for (const char* k : {"a", "c"}) this->put(kKs, k, "old");
  auto it = this->engine_->scan(kKs, "", "");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "a");
  this->put(kKs, "b", "new");
  this->put(kKs, "c", "new");
  std::vector<std::string> rest;
  for (it->next(); it->valid(); it->next())
    rest.push_back(std::string(it->key()) + "=" + std::string(it->value()));
  if (TypeParam::kSnapshotScans) {
    EXPECT_EQ(rest, (std::vector<std::string>{"c=old"}));
  } else {
    EXPECT_EQ(rest, (std::vector<std::string>{"b=new", "c=new"}));
  }
}

TYPED_TEST(StorageEngineTest, ApproximateCount) {
  for (int i = 0; i < 100; ++i) this->put(Keyspace::kSignals, "k" + std::to_string(i), "v");
  ASSERT_TRUE(this->engine_->flush().ok());
  auto n = this->engine_->approximate_count(Keyspace::kSignals);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  if (TypeParam::kSnapshotScans) {
    EXPECT_GT(*n, 50u);
    EXPECT_LT(*n, 200u);
  } else {
    EXPECT_EQ(*n, 100u);
  }
  EXPECT_EQ(*this->engine_->approximate_count(Keyspace::kEvents), 0u);
}

// Several writers and readers at once. Writers put batches {a=n, b=n} with n
// rising; batches are atomic, so a reader that reads a and then b sees b >= a,
// and values never go backwards. Snapshot scans additionally see a == b.
TYPED_TEST(StorageEngineTest, ConcurrentReadersAndWriters) {
  constexpr int kWriters = 2;
  constexpr int kRounds = 2000;
  auto key = [](int writer, char which) { return "w" + std::to_string(writer) + which; };
  auto parse = [](const std::optional<std::string>& v) { return v ? std::stol(*v) : -1L; };
  std::atomic<int> writers_done{0};
  std::atomic<long> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < kRounds; ++n) {
        WriteBatch b;
        b.put(kKs, key(w, 'a'), std::to_string(n));
        b.put(kKs, key(w, 'b'), std::to_string(n));
        if (!this->engine_->write(b).ok()) ++failures;
        if (n % 64 == 0 && !this->engine_->put(Keyspace::kMeta, "noise", "x").ok()) ++failures;
      }
      ++writers_done;
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      long last_a[kWriters] = {-1, -1};
      while (writers_done.load() < kWriters) {
        for (int w = 0; w < kWriters; ++w) {
          long a = parse(*this->engine_->get(kKs, key(w, 'a')));
          long b = parse(*this->engine_->get(kKs, key(w, 'b')));
          if (b < a || a < last_a[w]) ++failures;
          last_a[w] = a;
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (writers_done.load() < kWriters) {
      KeyValues all = scan_all(*this->engine_, kKs);
      if (all.size() % 2 != 0 && TypeParam::kSnapshotScans) ++failures;
      for (size_t i = 0; i + 1 < all.size(); i += 2) {
        if (all[i].first >= all[i + 1].first) ++failures;  // order
        if (TypeParam::kSnapshotScans && all[i].second != all[i + 1].second) ++failures;
      }
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(this->get(kKs, key(w, 'a')), std::to_string(kRounds - 1));
    EXPECT_EQ(this->get(kKs, key(w, 'b')), std::to_string(kRounds - 1));
  }
}

}  // namespace
}  // namespace tidal
