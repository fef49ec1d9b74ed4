#include <gtest/gtest.h>

#include "storage/storage_engine.h"

namespace tidal {
namespace {

TEST(StorageWriteBatch, RecordsOpsInOrderAndCountsBytes) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.approximate_bytes(), 0u);

  batch.put(Keyspace::kEntities, "key", "value");
  batch.del(Keyspace::kMeta, "gone");
  batch.delete_range(Keyspace::kEvents, "a", "zz");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_FALSE(batch.empty());
  EXPECT_EQ(batch.approximate_bytes(), 3u + 5u + 4u + 1u + 2u);

  const auto& ops = batch.ops();
  EXPECT_EQ(ops[0].type, WriteBatch::OpType::kPut);
  EXPECT_EQ(ops[0].keyspace, Keyspace::kEntities);
  EXPECT_EQ(ops[0].key, "key");
  EXPECT_EQ(ops[0].value, "value");
  EXPECT_EQ(ops[1].type, WriteBatch::OpType::kDelete);
  EXPECT_EQ(ops[1].keyspace, Keyspace::kMeta);
  EXPECT_EQ(ops[1].key, "gone");
  EXPECT_EQ(ops[2].type, WriteBatch::OpType::kDeleteRange);
  EXPECT_EQ(ops[2].key, "a");
  EXPECT_EQ(ops[2].value, "zz");

  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.approximate_bytes(), 0u);
}

TEST(StorageWriteBatch, CopiesItsInput) {
  WriteBatch batch;
  {
    std::string key = "transient";
    batch.put(Keyspace::kSignals, key, std::string(100, 'v'));
    key.assign("overwritten");
  }
  EXPECT_EQ(batch.ops()[0].key, "transient");
  EXPECT_EQ(batch.ops()[0].value, std::string(100, 'v'));
}

TEST(StorageKeyspace, NamesAreStable) {
  EXPECT_EQ(keyspace_name(Keyspace::kMeta), "meta");
  EXPECT_EQ(keyspace_name(Keyspace::kEntities), "entities");
  EXPECT_EQ(keyspace_name(Keyspace::kSignals), "signals");
  EXPECT_EQ(keyspace_name(Keyspace::kEvents), "events");
}

}  // namespace
}  // namespace tidal
