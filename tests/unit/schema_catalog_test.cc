#include "schema/schema_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/data_folder.h"
#include "storage/memory_engine.h"
#include "support/test_support.h"

namespace tidal {
namespace {

using ::testing::HasSubstr;

Schema default_schema() {
  return SchemaBuilder::with_default_signals().build().value();
}

TEST(SchemaCatalogTest, NewDatabaseStoresTheGivenSchema) {
  MemoryEngine engine;
  EXPECT_FALSE(load_schema(engine).value().has_value());
  Result<Schema> opened = open_schema(engine, default_schema());
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  std::optional<Schema> stored = load_schema(engine).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, default_schema());
}

TEST(SchemaCatalogTest, SameSchemaOpensAgain) {
  MemoryEngine engine;
  ASSERT_TRUE(open_schema(engine, default_schema()).ok());
  Result<Schema> again = open_schema(engine, default_schema());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version(), 1u);
}

TEST(SchemaCatalogTest, DifferentSchemaListsEveryDifference) {
  MemoryEngine engine;
  ASSERT_TRUE(open_schema(engine, default_schema()).ok());
  std::vector<SignalTypeSpec> specs = default_signal_specs();
  SchemaBuilder b;
  for (SignalTypeSpec s : specs) {
    if (s.name == "view") s.half_life = std::chrono::hours(12);
    if (s.name == "share") continue;
    b.add_signal(s);
  }
  Result<Schema> opened = open_schema(engine, b.build().value());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("half_life differs (stored 6h, given 12h)"));
  EXPECT_THAT(opened.status().message(), HasSubstr("\"share\""));
}

TEST(SchemaCatalogTest, SurvivesReopenOnRocksDb) {
  testing::TempDir dir;
  {
    auto folder = DataFolder::open(dir.str()).value();
    auto engine = folder->open_storage().value();
    ASSERT_TRUE(open_schema(*engine, default_schema()).ok());
  }
  auto folder = DataFolder::open(dir.str()).value();
  auto engine = folder->open_storage().value();
  std::optional<Schema> stored = load_schema(*engine).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, default_schema());
}

TEST(SchemaCatalogTest, CorruptStoredSchemaIsReported) {
  MemoryEngine engine;
  ASSERT_TRUE(engine.put(Keyspace::kMeta, "schema/current", "\x01garbage").ok());
  Result<std::optional<Schema>> loaded = load_schema(engine);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("reading the stored schema"));
}

}  // namespace
}  // namespace tidal
