// Schema migrations on open (DatabaseOptions::allow_schema_additions): a
// database reopened with a schema that adds signal types and attributes keeps
// everything written before, from its checkpoint and from its WAL, and takes
// writes of the additions; any other difference still fails. Also
// Database::stored_schema and the catalog functions behind the migration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "schema/schema_catalog.h"
#include "storage/memory_engine.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kStart = 1'700'000'000'000'000;

// The application's declarations before the migration...
SchemaBuilder v1_builder() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  return b;
}

Schema v1_schema() {
  return v1_builder().build().value();
}

// ...and after it: the same declarations, then a signal type (with an
// affinity delta, so every user's affinity cells grow by one weight), an item
// attribute and a user attribute. Built from scratch, as an application
// declares it (version 1).
Schema extended_schema() {
  SchemaBuilder b = v1_builder();
  b.add_signal({.name = "save",
                .half_life = hours(12),
                .windows = {hours(1), hours(24)},
                .velocity = true,
                .affinity_delta = 1.5});
  b.add_attribute(EntityKind::kItem,
                  {.name = "language", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "tier", .type = AttributeType::kInt, .filterable = true});
  return b.build().value();
}

void copy_settled(const fs::path& from, const fs::path& to) {
  if (!testing::copy_settled(from, to)) {
    FAIL() << "the folder " << from << " never settled";
  }
}

class SchemaMigrationTest : public ::testing::Test {
 protected:
  std::string folder() const { return dir_.sub("db"); }

  Result<std::unique_ptr<Database>> try_open(const Schema& schema, bool allow_additions) {
    DatabaseOptions o;
    o.clock = &clock_;
    o.background_checkpoints = false;
    o.durability = Durability::kBatch;  // acknowledged means in the WAL file
    o.allow_schema_additions = allow_additions;
    return Database::open(folder(), schema, o);
  }

  void open(const Schema& schema, bool allow_additions = false) {
    db_.reset();
    auto r = try_open(schema, allow_additions);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }

  void close() {
    ASSERT_TRUE(db_->close().ok());
    db_.reset();
  }

  void ingest(const std::string& item, const std::string& user, const std::string& signal, int n) {
    // Every call at a later time, so that no event repeats an earlier one
    // (which would be a duplicate).
    clock_.advance(std::chrono::seconds(10));
    std::vector<SignalEvent> events;
    for (int i = 0; i < n; ++i) {
      SignalEvent e;
      e.item = item;
      e.user = user;
      e.signal = signal;
      e.timestamp = clock_.now() - std::chrono::seconds(i);
      events.push_back(std::move(e));
    }
    BatchIngestResult r = db_->ingest(events);
    ASSERT_EQ(r.rejected, 0u) << (r.errors.empty() ? "" : r.errors[0].to_string());
  }

  void upsert(EntityWrite w) {
    Result<uint64_t> r = db_->upsert(w);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }

  uint64_t count(EntityKind kind, const Filter& f) {
    auto r = db_->count(kind, f);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : UINT64_MAX;
  }

  std::vector<std::string> keys(const std::string& tql) {
    std::vector<std::string> out;
    auto r = db_->query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    if (r.ok()) {
      for (const QueryRow& row : r->rows) out.push_back(row.key);
    }
    return out;
  }

  const SignalSnapshot* snapshot(const ItemSignals& s, const std::string& signal) {
    for (const SignalSnapshot& snap : s.signals) {
      if (snap.signal == signal) return &snap;
    }
    return nullptr;
  }

  uint64_t count_1h(const std::string& item, const std::string& signal) {
    auto s = db_->item_signals(item);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    if (!s.ok()) return UINT64_MAX;
    const SignalSnapshot* snap = snapshot(*s, signal);
    EXPECT_NE(snap, nullptr) << signal;
    return snap == nullptr ? UINT64_MAX : snap->windows.at(0).count;
  }

  double affinity(const std::string& user, const std::string& creator) {
    auto r = db_->top_affinities(user);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (r.ok()) {
      for (const AffinityEntry& e : *r) {
        if (e.creator == creator) return e.weight;
      }
    }
    return 0;
  }

  // Data of every kind under the old schema: entities, events, a follow (and
  // the affinities the events build), a profile.
  void write_before() {
    upsert({EntityKind::kItem, "a", {{"category", "music"}, {"creator", "c1"}}});
    upsert({EntityKind::kItem, "b", {{"category", "news"}, {"creator", "c1"}}});
    upsert({EntityKind::kUser, "u1", {{"country", "fr"}}});
    ASSERT_TRUE(db_->relate({.user = "u1", .target = "c1"}).ok());
    ingest("a", "u1", "like", 2);
    ingest("b", "u2", "view", 1);
    auto r = db_->query("CREATE PROFILE liked AS count(like, 24h)");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }

  void expect_before() {
    auto a = db_->get(EntityKind::kItem, "a");
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    ASSERT_NE(a->find("category"), nullptr);
    EXPECT_EQ(std::get<std::string>(*a->find("category")), "music");
    EXPECT_EQ(count(EntityKind::kItem, Filter::eq("category", "news")), 1u);
    EXPECT_EQ(count(EntityKind::kUser, Filter::eq("country", "fr")), 1u);
    EXPECT_EQ(count_1h("a", "like"), 2u);
    EXPECT_EQ(count_1h("b", "view"), 1u);
    auto followers = db_->followers(EntityKind::kCreator, "c1");
    ASSERT_TRUE(followers.ok());
    EXPECT_THAT(*followers, ElementsAre("u1"));
    EXPECT_GT(affinity("u1", "c1"), 0);
    EXPECT_THAT(keys("RANK items BY liked LIMIT 1"), ElementsAre("a"));
    auto hot = db_->trending({.kind = TrendingKind::kHot, .signal = "like"});
    ASSERT_TRUE(hot.ok());
    ASSERT_FALSE(hot->empty());
    EXPECT_EQ((*hot)[0].item, "a");
  }

  // Writes of the new signal type and attributes.
  void write_additions() {
    before_save_affinity_ = affinity("u1", "c1");
    ingest("b", "u1", "save", 3);
    upsert({EntityKind::kItem, "c", {{"category", "music"}, {"language", "fr"}}});
    upsert({EntityKind::kUser, "u3", {{"country", "de"}, {"tier", int64_t{3}}}});
    // The new affinity weight adds to the old ones.
    EXPECT_GT(affinity("u1", "c1"), before_save_affinity_);
  }

  void expect_additions() {
    EXPECT_EQ(count_1h("b", "save"), 3u);
    EXPECT_EQ(count_1h("a", "save"), 0u);
    auto hot = db_->trending({.kind = TrendingKind::kHot, .signal = "save"});
    ASSERT_TRUE(hot.ok()) << hot.status().to_string();
    ASSERT_EQ(hot->size(), 1u);
    EXPECT_EQ((*hot)[0].item, "b");
    auto top = db_->query("TRENDING items BY save WINDOW 1h LIMIT 2");
    ASSERT_TRUE(top.ok()) << top.status().to_string();
    // Only items the window counted are trending.
    ASSERT_EQ(top->rows.size(), 1u);
    EXPECT_EQ(top->rows[0].key, "b");
    EXPECT_GT(top->rows[0].score, 0);
    EXPECT_EQ(count(EntityKind::kItem, Filter::eq("language", "fr")), 1u);
    EXPECT_EQ(count(EntityKind::kItem, Filter::exists("language")), 1u);
    EXPECT_EQ(count(EntityKind::kItem, Filter::eq("category", "music")), 2u);
    EXPECT_EQ(count(EntityKind::kUser, Filter::eq("tier", int64_t{3})), 1u);
    EXPECT_EQ(count(EntityKind::kUser, Filter::exists("tier")), 1u);
    EXPECT_THAT(keys("RANK items BY hot WHERE language = 'fr' LIMIT 10"), ElementsAre("c"));
  }

  // Migrates the closed database in folder() and checks it through a write,
  // a checkpoint and a plain reopen.
  void migrate_and_check() {
    open(extended_schema(), /*allow_additions=*/true);
    EXPECT_EQ(db_->schema().version(), 2u);
    EXPECT_EQ(db_->schema(), extended_schema());
    expect_before();
    write_additions();
    expect_additions();
    ASSERT_TRUE(db_->checkpoint().ok());
    ingest("b", "u1", "save", 1);  // one more, only in the WAL
    close();

    open(extended_schema());  // no option needed any more
    EXPECT_EQ(db_->schema().version(), 2u);
    expect_before();
    EXPECT_EQ(count_1h("b", "save"), 4u);
    ingest("b", "u1", "save", 1);
    EXPECT_EQ(count_1h("b", "save"), 5u);
    close();
    auto stored = Database::stored_schema(folder());
    ASSERT_TRUE(stored.ok()) << stored.status().to_string();
    EXPECT_EQ(stored->version(), 2u);
    EXPECT_EQ(*stored, extended_schema());
  }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
  double before_save_affinity_ = 0;
};

TEST_F(SchemaMigrationTest, MigratesADatabaseRestoredFromItsCheckpoint) {
  open(v1_schema());
  write_before();
  close();  // checkpoints: everything is in storage, the WAL is empty
  migrate_and_check();
}

TEST_F(SchemaMigrationTest, MigratesADatabaseRecoveredFromItsWal) {
  open(v1_schema());
  ASSERT_TRUE(db_->checkpoint().ok());
  copy_settled(folder() + "/storage", dir_.sub("stash"));
  write_before();
  // A crash: the storage of the last checkpoint (before any write) and every
  // acknowledged WAL record, all written under the old schema.
  copy_settled(folder() + "/wal", dir_.sub("crash-wal"));
  db_.reset();
  fs::remove_all(folder() + "/storage");
  fs::remove_all(folder() + "/wal");
  fs::copy(dir_.sub("stash"), folder() + "/storage", fs::copy_options::recursive);
  fs::rename(dir_.sub("crash-wal"), folder() + "/wal");
  migrate_and_check();
}

TEST_F(SchemaMigrationTest, MigratesACheckpointAndAWalTogether) {
  open(v1_schema());
  write_before();
  ASSERT_TRUE(db_->checkpoint().ok());
  copy_settled(folder() + "/storage", dir_.sub("stash"));
  ingest("a", "u1", "like", 1);
  upsert({EntityKind::kItem, "d", {{"category", "sport"}}});
  copy_settled(folder() + "/wal", dir_.sub("crash-wal"));
  db_.reset();
  fs::remove_all(folder() + "/storage");
  fs::remove_all(folder() + "/wal");
  fs::copy(dir_.sub("stash"), folder() + "/storage", fs::copy_options::recursive);
  fs::rename(dir_.sub("crash-wal"), folder() + "/wal");

  open(extended_schema(), /*allow_additions=*/true);
  EXPECT_EQ(db_->schema().version(), 2u);
  EXPECT_EQ(count_1h("a", "like"), 3u);
  EXPECT_EQ(count(EntityKind::kItem, Filter::eq("category", "sport")), 1u);
  write_additions();
  expect_additions();
}

TEST_F(SchemaMigrationTest, ExtensionWithoutTheOptionFailsWithAHint) {
  open(v1_schema());
  close();
  auto r = try_open(extended_schema(), /*allow_additions=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  const std::string m = r.status().message();
  EXPECT_THAT(m, HasSubstr("in 3 ways"));
  EXPECT_THAT(m, HasSubstr("signal \"save\" is in the given schema but not the stored one"));
  EXPECT_THAT(m, HasSubstr("item attribute \"language\""));
  EXPECT_THAT(m, HasSubstr("user attribute \"tier\""));
  EXPECT_THAT(m, HasSubstr("migration to version 2"));
  EXPECT_THAT(m, HasSubstr("allow_schema_additions"));
  // Nothing was stored.
  EXPECT_EQ(Database::stored_schema(folder()).value().version(), 1u);
  open(v1_schema());
  EXPECT_EQ(db_->schema().version(), 1u);
}

TEST_F(SchemaMigrationTest, OtherDifferencesStillFailWithTheOption) {
  open(v1_schema());
  close();

  // A changed field beside an addition.
  std::vector<SignalTypeSpec> specs = default_signal_specs();
  SchemaBuilder changed;
  for (SignalTypeSpec s : specs) {
    if (s.name == "view") s.half_life = hours(12);
    changed.add_signal(s);
  }
  changed.add_signal({.name = "save", .half_life = hours(12)});
  changed.add_attribute(EntityKind::kItem,
                        {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  changed.add_attribute(EntityKind::kUser,
                        {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  auto r = try_open(changed.build().value(), /*allow_additions=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("half_life differs (stored 6h, given 12h)"));
  EXPECT_THAT(r.status().message(), HasSubstr("signal \"save\" is in the given schema"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("allow_schema_additions")));

  // A new signal type declared before an existing one moves the ids.
  SchemaBuilder moved;
  moved.add_signal({.name = "save", .half_life = hours(12)});
  for (SignalTypeSpec s : default_signal_specs()) moved.add_signal(s);
  moved.add_attribute(EntityKind::kItem,
                      {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  moved.add_attribute(EntityKind::kUser,
                      {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  r = try_open(moved.build().value(), /*allow_additions=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);

  // A removed attribute.
  SchemaBuilder removed = SchemaBuilder::with_default_signals();
  removed.add_attribute(EntityKind::kItem,
                        {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  r = try_open(removed.build().value(), /*allow_additions=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(
      r.status().message(),
      HasSubstr("user attribute \"country\" is in the stored schema but not the given one"));

  // None of them changed the stored schema.
  EXPECT_EQ(Database::stored_schema(folder()).value(), v1_schema());
  EXPECT_EQ(Database::stored_schema(folder()).value().version(), 1u);
}

TEST_F(SchemaMigrationTest, VersionsCountMigrations) {
  open(v1_schema(), /*allow_additions=*/true);
  EXPECT_EQ(db_->schema().version(), 1u);
  close();
  open(v1_schema(), /*allow_additions=*/true);  // nothing added: no new version
  EXPECT_EQ(db_->schema().version(), 1u);
  close();
  open(extended_schema(), /*allow_additions=*/true);
  EXPECT_EQ(db_->schema().version(), 2u);
  close();
  // A second migration, built from the schema in force as docs/schema.md shows.
  Schema v3 = SchemaBuilder(Database::stored_schema(folder()).value())
                  .add_signal({.name = "bookmark", .half_life = hours(24), .windows = {hours(1)}})
                  .build()
                  .value();
  EXPECT_EQ(v3.version(), 3u);
  open(v3, /*allow_additions=*/true);
  EXPECT_EQ(db_->schema().version(), 3u);
  ingest("a", "u1", "bookmark", 2);
  EXPECT_EQ(count_1h("a", "bookmark"), 2u);
  auto hot = db_->trending({.kind = TrendingKind::kHot, .signal = "bookmark"});
  ASSERT_TRUE(hot.ok());
  EXPECT_EQ(hot->size(), 1u);
  close();
  // The older schema no longer opens it.
  auto r = try_open(extended_schema(), /*allow_additions=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"bookmark\" is in the stored schema"));
}

// Schema changes on an open database: through the WAL, in force for the
// next write and query, no reopen; they survive a crash (a copy of the
// running folder) and a checkpoint.
TEST_F(SchemaMigrationTest, LiveSchemaChangesAreInForceAtOnceAndSurviveACrash) {
  open(v1_schema());
  write_before();
  Result<Schema> changed = db_->add_signal_type({.name = "save",
                                                 .half_life = hours(12),
                                                 .windows = {hours(1), hours(24)},
                                                 .velocity = true,
                                                 .affinity_delta = 1.5});
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_EQ(changed->version(), 2u);
  changed = db_->add_attribute(
      EntityKind::kItem, {.name = "language", .type = AttributeType::kKeyword, .filterable = true});
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  changed = db_->add_attribute(EntityKind::kUser,
                               {.name = "tier", .type = AttributeType::kInt, .filterable = true});
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_EQ(changed->version(), 4u);
  EXPECT_EQ(db_->schema(), extended_schema());  // the same content, built in three steps
  EXPECT_EQ(db_->schema().version(), 4u);
  expect_before();
  write_additions();
  expect_additions();

  // Bad changes are refused with the field named, and change nothing.
  Result<Schema> again =
      db_->add_attribute(EntityKind::kItem, {.name = "language", .type = AttributeType::kKeyword});
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().to_string(), HasSubstr("language"));
  Result<Schema> bad = db_->add_signal_type({.name = "9lives", .half_life = hours(1)});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().to_string(), HasSubstr("9lives"));
  EXPECT_EQ(db_->schema().version(), 4u);

  // A crash: the folder as the running database left it, no checkpoint since
  // the changes. The stored schema names them; replay finds them in force.
  copy_settled(folder(), dir_.sub("crashed"));
  db_.reset();
  fs::remove_all(folder());
  fs::rename(dir_.sub("crashed"), folder());
  auto stored = Database::stored_schema(folder());
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  EXPECT_EQ(stored->version(), 4u);
  open(*stored);
  expect_before();
  expect_additions();
  ASSERT_TRUE(db_->checkpoint().ok());
  close();
  open(extended_schema());  // the same content opens it too
  EXPECT_EQ(db_->schema().version(), 4u);
  expect_additions();
  // The schema the application started with is now a difference.
  db_.reset();
  auto old = try_open(v1_schema(), false);
  ASSERT_FALSE(old.ok());
}

TEST_F(SchemaMigrationTest, StoredSchemaReadsAClosedDatabase) {
  auto missing = Database::stored_schema(dir_.sub("nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  fs::create_directory(dir_.sub("empty"));
  auto empty = Database::stored_schema(dir_.sub("empty"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(dir_.sub("empty")));  // not made a data folder

  open(v1_schema());
  auto busy = Database::stored_schema(folder());
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), StatusCode::kBusy);
  close();

  auto stored = Database::stored_schema(folder());
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  EXPECT_EQ(*stored, v1_schema());
  EXPECT_EQ(stored->version(), 1u);
  open(*stored);  // the lock was released
}

TEST(SchemaCatalogMigrationTest, ExtensionsAndMigrations) {
  Schema v1 = v1_schema();
  Schema ext = extended_schema();
  EXPECT_TRUE(is_extension(v1, ext));
  EXPECT_FALSE(is_extension(v1, v1));  // nothing added
  EXPECT_FALSE(is_extension(ext, v1));
  Result<Schema> migrated = migrate_schema(v1, ext);
  ASSERT_TRUE(migrated.ok()) << migrated.status().to_string();
  EXPECT_EQ(*migrated, ext);
  EXPECT_EQ(migrated->version(), 2u);
  EXPECT_FALSE(migrate_schema(ext, v1).ok());

  // A vector attribute keeps its metric and dimension.
  Schema with_vector = SchemaBuilder(v1)
                           .add_attribute(EntityKind::kItem, {.name = "embedding",
                                                              .type = AttributeType::kVector,
                                                              .vector_dim = 4,
                                                              .metric = VectorMetric::kDot})
                           .build()
                           .value();
  migrated = migrate_schema(v1, with_vector);
  ASSERT_TRUE(migrated.ok()) << migrated.status().to_string();
  EXPECT_EQ(*migrated, with_vector);

  MemoryEngine engine;
  ASSERT_TRUE(open_schema(engine, v1).ok());
  EXPECT_FALSE(open_schema(engine, ext).ok());
  Result<Schema> opened = open_schema(engine, ext, /*allow_additions=*/true);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  EXPECT_EQ(opened->version(), 2u);
  std::optional<Schema> stored = load_schema(engine).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->version(), 2u);
  EXPECT_EQ(*stored, ext);
  EXPECT_EQ(open_schema(engine, ext).value().version(), 2u);
}

}  // namespace
}  // namespace tidal
