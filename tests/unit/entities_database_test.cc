// Entities, attributes, filters and relationships through tidal::Database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr int64_t kStart = 1'700'000'000'000'000;

SignalEvent event(std::string item, std::string user, std::string signal, Timestamp t) {
  SignalEvent e;
  e.item = std::move(item);
  e.user = std::move(user);
  e.signal = std::move(signal);
  e.timestamp = t;
  return e;
}

Schema entity_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem, {.name = "title", .type = AttributeType::kText});
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(
      EntityKind::kItem,
      {.name = "duration", .type = AttributeType::kInt, .filterable = true, .sortable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "rating", .type = AttributeType::kFloat, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "nsfw", .type = AttributeType::kBool, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "genres", .type = AttributeType::kTags, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "published", .type = AttributeType::kTimestamp, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "embedding", .type = AttributeType::kVector, .vector_dim = 3});
  b.add_attribute(EntityKind::kItem, {.name = "notes", .type = AttributeType::kKeyword});
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "age", .type = AttributeType::kInt, .filterable = true});
  b.add_attribute(EntityKind::kCreator, {.name = "name", .type = AttributeType::kKeyword});
  auto r = b.build();
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.value();
}

class EntitiesTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open(DatabaseOptions o = {}) {
    db_.reset();
    o.clock = &clock_;
    o.background_checkpoints = false;
    auto r = Database::open(dir_.str(), entity_schema(), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  EntityWrite item(std::string key, std::string category, int64_t duration,
                   std::vector<std::string> genres = {}) {
    return {
        EntityKind::kItem,
        std::move(key),
        {{"category", std::move(category)}, {"duration", duration}, {"genres", std::move(genres)}}};
  }
  uint64_t count(const Filter& f) {
    auto r = db_->count(EntityKind::kItem, f);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : UINT64_MAX;
  }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

// TQL has no timestamp literal: an RFC 3339 string or whole seconds since
// the epoch compare with a timestamp attribute (issue 24, item 3).
TEST_F(EntitiesTest, TqlComparesTimestampsWithRfc3339TextOrSeconds) {
  const int64_t t1998 = 883'612'800;  // 1998-01-01T00:00:00Z
  auto published = [&](std::string key, int64_t seconds) {
    EntityWrite w = item(std::move(key), "film", 90);
    w.attributes.push_back({"published", from_micros(seconds * 1'000'000)});
    ASSERT_TRUE(db_->upsert(w).ok());
  };
  published("old", t1998 - 86'400);
  published("new", t1998 + 86'400);
  published("exact", t1998);
  auto keys = [&](const std::string& where) {
    std::vector<std::string> out;
    auto r = db_->query("RANK items BY duration WHERE " + where + " LIMIT 10");
    EXPECT_TRUE(r.ok()) << where << ": " << r.status().to_string();
    if (r.ok()) {
      for (const QueryRow& row : r->rows) out.push_back(row.key);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_THAT(keys("published >= '1998-01-01T00:00:00Z'"), ElementsAre("exact", "new"));
  EXPECT_THAT(keys("published > 883612800"), ElementsAre("new"));
  EXPECT_THAT(keys("published BETWEEN '1997-12-31T12:00:00Z' AND 883612800"), ElementsAre("exact"));
  EXPECT_THAT(keys("created_at > 0 AND published < '1998-01-01T01:00:00+01:00'"),
              ElementsAre("old"));
  auto bad = db_->query("RANK items BY duration WHERE published > 'yesterday'");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "filter.published");
  bad = db_->query("RANK items BY duration WHERE published > 1.5");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("seconds since the Unix epoch"));
}

// COUNT answers with the number of entities RANK would rank: the same as
// Database::count for a WHERE on attributes, and every known item (those
// known only from signals too) without one (issue 24, item 4).
TEST_F(EntitiesTest, CountMatchesTheFilterCountAndTheKnownItems) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(db_->upsert(item("v" + std::to_string(i), i % 3 == 0 ? "music" : "film", i * 10,
                                 i % 2 == 0 ? std::vector<std::string>{"jazz"}
                                            : std::vector<std::string>{}))
                    .ok());
  }
  ASSERT_TRUE(db_->ingest(event("signal_only", "u", "like", from_micros(kStart))).ok());
  ASSERT_TRUE(db_->remove(EntityKind::kItem, "v4").ok());
  auto tql_count = [&](const std::string& tql) -> uint64_t {
    auto r = db_->query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    if (!r.ok()) return UINT64_MAX;
    EXPECT_TRUE(r->rows.empty());
    EXPECT_TRUE(r->count.has_value()) << tql;
    return r->count.value_or(UINT64_MAX);
  };
  EXPECT_EQ(tql_count("COUNT items"), 30u);  // 29 registered + 1 known from signals
  EXPECT_EQ(tql_count("COUNT items WHERE category = 'music'"),
            count(Filter::eq("category", "music")));
  EXPECT_EQ(tql_count("COUNT items WHERE category = 'music'"), 10u);  // v0, v3, ..., v27
  EXPECT_EQ(tql_count("COUNT items WHERE duration >= 100 AND 'jazz' IN genres"),
            count(Filter::ge("duration", int64_t{100}) && Filter::contains("genres", "jazz")));
  EXPECT_EQ(tql_count("COUNT items WHERE key IN ('v1', 'v4', 'signal_only', 'nope')"), 2u);
  EXPECT_EQ(tql_count("COUNT users"), 0u);  // a user only seen in a signal is not registered
  EXPECT_EQ(tql_count("count creators;"), 0u);
  auto explained = db_->query("EXPLAIN COUNT items WHERE category = 'film'");
  ASSERT_TRUE(explained.ok()) << explained.status().to_string();
  EXPECT_THAT(explained->explain_text(), HasSubstr("count: the candidates: 19"));
  // The JSON form reads and prints the same statement.
  auto from_json = db_->query_json(
      R"({"statement":"count","target":"items","where":{"op":"=","args":[{"ident":"category"},{"string":"music"}]}})");
  ASSERT_TRUE(from_json.ok()) << from_json.status().to_string();
  EXPECT_EQ(from_json->count, std::optional<uint64_t>(10));
  // COUNT takes no LIMIT, CURSOR, DIVERSIFY or AS OF: it answers one number.
  for (const char* bad : {"COUNT items LIMIT 5", "COUNT items WHERE duration > 1 CURSOR 'x'",
                          "COUNT items DIVERSIFY BY category MAX 1", "COUNT"}) {
    auto r = db_->query(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto unknown = db_->query("COUNT items WHERE colour = 'red'");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().field(), "filter.colour");
}

// Database::list pages through exactly what COUNT counts, first seen first,
// with the entities' attributes; a cursor continues only its own listing.
TEST_F(EntitiesTest, ListPagesThroughWhatCountCounts) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(db_->upsert(item("v" + std::to_string(i), i % 2 ? "music" : "film", i)).ok());
  }
  ASSERT_TRUE(db_->ingest(event("signal_only", "u", "like", from_micros(kStart))).ok());
  auto all_pages = [&](const std::string& where, size_t limit) {
    std::vector<std::string> keys;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      auto r = db_->list(EntityKind::kItem, where, limit, cursor);
      EXPECT_TRUE(r.ok()) << r.status().to_string();
      if (!r.ok()) break;
      EXPECT_LE(r->entities.size(), limit);
      for (const Entity& e : r->entities) keys.push_back(e.key);
      if (r->cursor.empty()) break;
      cursor = r->cursor;
    }
    return keys;
  };
  std::vector<std::string> every = all_pages("", 7);
  ASSERT_EQ(every.size(), 26u);
  EXPECT_EQ(every.front(), "v0");
  EXPECT_EQ(every[24], "v24");
  EXPECT_EQ(every.back(), "signal_only");
  std::vector<std::string> music = all_pages("category = 'music' AND duration > 10", 4);
  EXPECT_THAT(music, ElementsAre("v11", "v13", "v15", "v17", "v19", "v21", "v23"));
  auto page = db_->list(EntityKind::kItem, "key = 'v3'", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entities.size(), 1u);
  ASSERT_NE(page->entities[0].find("category"), nullptr);
  EXPECT_EQ(std::get<std::string>(*page->entities[0].find("category")), "music");
  auto signal_only = db_->list(EntityKind::kItem, "key = 'signal_only'", 10);
  ASSERT_TRUE(signal_only.ok());
  ASSERT_EQ(signal_only->entities.size(), 1u);
  EXPECT_TRUE(signal_only->entities[0].attributes.empty());
  // Errors name the parameter.
  auto bad_where = db_->list(EntityKind::kItem, "category =", 10);
  ASSERT_FALSE(bad_where.ok());
  EXPECT_EQ(bad_where.status().field(), "where");
  auto first = db_->list(EntityKind::kItem, "", 2);
  ASSERT_TRUE(first.ok());
  auto other = db_->list(EntityKind::kItem, "category = 'film'", 2, first->cursor);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().field(), "cursor");
  auto zero = db_->list(EntityKind::kItem, "", 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().field(), "limit");
}

TEST_F(EntitiesTest, UpsertThenGetReturnsEveryAttributeInSchemaOrder) {
  EntityWrite w{EntityKind::kItem,
                "v1",
                {{"duration", int64_t{95}},
                 {"title", "Cats in boxes"},
                 {"creator", "studio"},
                 {"rating", 4.5},
                 {"nsfw", false},
                 {"genres", std::vector<std::string>{"pets", "comedy", "pets"}},
                 {"published", from_micros(kStart - 1000)},
                 {"embedding", std::vector<float>{1, 0, 0}},
                 {"category", "animals"}}};
  ASSERT_TRUE(db_->upsert(w).ok());
  auto e = db_->get(EntityKind::kItem, "v1");
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  std::vector<std::string> names;
  for (const Attribute& a : e->attributes) names.push_back(a.name);
  EXPECT_THAT(names, ElementsAre("creator", "created_at", "title", "category", "duration", "rating",
                                 "nsfw", "genres", "published", "embedding"));
  EXPECT_EQ(std::get<std::string>(*e->find("creator")), "studio");
  // created_at defaults to the upsert's time.
  EXPECT_EQ(to_micros(std::get<Timestamp>(*e->find("created_at"))), kStart);
  EXPECT_EQ(std::get<int64_t>(*e->find("duration")), 95);
  EXPECT_EQ(std::get<double>(*e->find("rating")), 4.5);
  // Tags are a set: sorted, duplicates merged.
  EXPECT_THAT(std::get<std::vector<std::string>>(*e->find("genres")),
              ElementsAre("comedy", "pets"));
  EXPECT_THAT(std::get<std::vector<float>>(*e->find("embedding")), ElementsAre(1, 0, 0));
}

TEST_F(EntitiesTest, UpsertReplacesPatchMergesDeleteRemoves) {
  ASSERT_TRUE(db_->upsert(item("a", "music", 100, {"x"})).ok());
  ASSERT_TRUE(db_->upsert({EntityKind::kItem, "a", {{"category", "news"}}}).ok());
  auto e = db_->get(EntityKind::kItem, "a");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->find("duration"), nullptr);  // the upsert replaced everything
  EXPECT_EQ(count(Filter::eq("category", "music")), 0u);
  EXPECT_EQ(count(Filter::eq("category", "news")), 1u);
  EXPECT_EQ(count(Filter::exists("duration")), 0u);

  ASSERT_TRUE(db_->patch({EntityKind::kItem, "a", {{"duration", int64_t{7}}}}).ok());
  e = db_->get(EntityKind::kItem, "a");
  EXPECT_EQ(std::get<std::string>(*e->find("category")), "news");
  EXPECT_EQ(std::get<int64_t>(*e->find("duration")), 7);
  ASSERT_TRUE(db_->patch({EntityKind::kItem, "a", {{"category", std::monostate{}}}}).ok());
  EXPECT_EQ(db_->get(EntityKind::kItem, "a")->find("category"), nullptr);
  EXPECT_EQ(count(Filter::eq("category", "news")), 0u);
  EXPECT_EQ(count(Filter::between("duration", int64_t{7}, int64_t{7})), 1u);

  ASSERT_TRUE(db_->remove(EntityKind::kItem, "a").ok());
  EXPECT_EQ(db_->get(EntityKind::kItem, "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(count(Filter::all()), 0u);
  EXPECT_EQ(count(Filter::exists("duration")), 0u);
  EXPECT_EQ(db_->patch({EntityKind::kItem, "a", {{"duration", int64_t{1}}}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(db_->remove(EntityKind::kItem, "a").status().code(), StatusCode::kNotFound);
}

TEST_F(EntitiesTest, AnItemFirstSeenThroughSignalsKeepsItsStateWhenUpserted) {
  ASSERT_TRUE(db_->ingest(event("a", "u", "like", from_micros(kStart))).ok());
  EXPECT_FALSE(db_->item_signals("a")->registered);
  EXPECT_EQ(count(Filter::all()), 0u);  // unregistered items match no filter
  ASSERT_TRUE(db_->upsert(item("a", "music", 10)).ok());
  auto s = db_->item_signals("a");
  EXPECT_TRUE(s->registered);
  EXPECT_GT(s->signals[1].decayed, 0.9);
  EXPECT_EQ(count(Filter::all()), 1u);
}

TEST_F(EntitiesTest, DeletedItemsLeaveTrending) {
  for (std::string k : {"a", "b", "c"}) ASSERT_TRUE(db_->upsert(item(k, "m", 1)).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(db_->ingest(event("a", "u" + std::to_string(i), "like", from_micros(kStart))).ok());
  }
  ASSERT_TRUE(db_->ingest(event("b", "u", "like", from_micros(kStart))).ok());
  auto top = db_->trending({.kind = TrendingKind::kHot, .signal = "like", .limit = 5});
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].item, "a");
  ASSERT_TRUE(db_->remove(EntityKind::kItem, "a").ok());
  top = db_->trending({.kind = TrendingKind::kHot, .signal = "like", .limit = 5});
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].item, "b");
  auto window = db_->trending(
      {.kind = TrendingKind::kTop, .signal = "like", .window = std::chrono::hours(24), .limit = 5});
  ASSERT_EQ(window->size(), 1u);
  EXPECT_EQ((*window)[0].item, "b");
  // Re-created, it starts from nothing.
  ASSERT_TRUE(db_->upsert(item("a", "m", 1)).ok());
  EXPECT_EQ(db_->item_signals("a")->signals[1].decayed, 0);
}

TEST_F(EntitiesTest, FiltersCombine) {
  ASSERT_TRUE(db_->upsert(item("a", "music", 30, {"jazz", "live"})).ok());
  ASSERT_TRUE(db_->upsert(item("b", "music", 300, {"rock"})).ok());
  ASSERT_TRUE(db_->upsert(item("c", "news", 60, {})).ok());
  ASSERT_TRUE(db_->upsert({EntityKind::kItem, "d", {{"nsfw", true}, {"rating", 0.5}}}).ok());
  EXPECT_EQ(count(Filter::eq("category", "music")), 2u);
  EXPECT_EQ(count(Filter::ne("category", "music")), 1u);  // d has no category
  EXPECT_EQ(count(!Filter::eq("category", "music")), 2u);
  EXPECT_EQ(count(Filter::in("category", {"music", "news"})), 3u);
  EXPECT_EQ(count(Filter::contains("genres", "jazz")), 1u);
  EXPECT_EQ(count(!Filter::contains("genres", "jazz")), 3u);
  EXPECT_EQ(count(Filter::gt("duration", int64_t{30})), 2u);
  EXPECT_EQ(count(Filter::ge("duration", int64_t{30})), 3u);
  EXPECT_EQ(count(Filter::lt("duration", 60.5)), 2u);
  EXPECT_EQ(count(Filter::le("duration", 59.9)), 1u);
  EXPECT_EQ(count(Filter::eq("duration", 30.5)), 0u);
  EXPECT_EQ(count(Filter::eq("nsfw", true)), 1u);
  EXPECT_EQ(count(Filter::ne("nsfw", true)), 0u);
  EXPECT_EQ(count(Filter::gt("rating", int64_t{0})), 1u);
  EXPECT_EQ(count(Filter::eq("category", "music") && Filter::lt("duration", int64_t{100})), 1u);
  EXPECT_EQ(count(Filter::eq("category", "news") || Filter::contains("genres", "rock")), 2u);
  EXPECT_EQ(count(Filter::exists("genres")), 3u);
  EXPECT_EQ(count(Filter::gt("created_at", from_micros(kStart - 1))), 4u);
  auto keys = db_->keys(EntityKind::kItem, Filter::eq("category", "music"));
  EXPECT_THAT(*keys, ElementsAre("a", "b"));
}

TEST_F(EntitiesTest, BadFiltersNameTheAttributeAndTheRule) {
  auto msg = [&](const Filter& f) { return db_->count(EntityKind::kItem, f).status().message(); };
  EXPECT_THAT(msg(Filter::eq("nope", "x")), HasSubstr("not an attribute of item"));
  EXPECT_THAT(msg(Filter::eq("notes", "x")), HasSubstr("not filterable"));
  EXPECT_THAT(msg(Filter::eq("title", "x")), HasSubstr("not filterable"));
  EXPECT_THAT(msg(Filter::lt("category", "x")), HasSubstr("not an operator for keyword"));
  EXPECT_THAT(msg(Filter::eq("duration", "x")), HasSubstr("another type"));
  EXPECT_THAT(msg(Filter::eq("duration", std::nan(""))), HasSubstr("NaN"));
  EXPECT_THAT(msg(Filter::in("category", {})), HasSubstr("IN takes 1 to"));
  Filter deep = Filter::eq("category", "x");
  for (int i = 0; i < 100; ++i) deep = !deep;
  EXPECT_THAT(msg(deep), HasSubstr("nests deeper"));
}

TEST_F(EntitiesTest, BadWritesNameTheAttributeAndWriteNothing) {
  auto err = [&](std::vector<Attribute> attrs) {
    auto r = db_->upsert({EntityKind::kItem, "x", std::move(attrs)});
    EXPECT_FALSE(r.ok());
    return r.status();
  };
  Status s = err({{"duration", "ten"}});
  EXPECT_EQ(s.field(), "attributes.duration");
  EXPECT_THAT(s.message(), HasSubstr("must be int"));
  EXPECT_THAT(err({{"colour", "red"}}).message(), HasSubstr("not an attribute of item"));
  EXPECT_THAT(err({{"embedding", std::vector<float>{1, 2}}}).message(),
              HasSubstr("must have 3 components"));
  EXPECT_THAT(err({{"embedding", std::vector<float>{0, 0, 0}}}).message(),
              HasSubstr("zero vector"));
  EXPECT_THAT(err({{"embedding", std::vector<float>{1, std::nanf(""), 0}}}).message(),
              HasSubstr("finite"));
  EXPECT_THAT(err({{"rating", std::numeric_limits<double>::infinity()}}).message(),
              HasSubstr("finite"));
  EXPECT_THAT(err({{"category", std::string(2000, 'a')}}).message(), HasSubstr("limit is 1024"));
  EXPECT_THAT(err({{"category", std::string("\xff\xfe")}}).message(), HasSubstr("UTF-8"));
  EXPECT_THAT(err({{"category", "a"}, {"category", "b"}}).message(), HasSubstr("more than once"));
  EXPECT_THAT(db_->upsert({EntityKind::kItem, std::string(300, 'k'), {}}).status().message(),
              HasSubstr("256"));
  EXPECT_EQ(db_->get(EntityKind::kItem, "x").status().code(), StatusCode::kNotFound);
  // A batch: the valid ones land, the invalid one is reported by position.
  std::vector<EntityWrite> batch = {
      item("p", "m", 1), {EntityKind::kItem, "q", {{"duration", 1.5}}}, item("r", "m", 2)};
  BatchIngestResult br = db_->upsert(batch);
  EXPECT_EQ(br.accepted, 2u);
  EXPECT_FALSE(br.errors[1].ok());
  br = db_->upsert(batch, BatchMode::kAllOrNothing);
  EXPECT_EQ(br.accepted, 0u);
}

TEST_F(EntitiesTest, UnknownAttributesCanBeIgnored) {
  DatabaseOptions o;
  o.unknown_attributes = UnknownAttributes::kIgnore;
  open(o);
  ASSERT_TRUE(db_->upsert({EntityKind::kItem, "x", {{"colour", "red"}, {"category", "c"}}}).ok());
  auto e = db_->get(EntityKind::kItem, "x");
  EXPECT_EQ(e->find("colour"), nullptr);
  EXPECT_NE(e->find("category"), nullptr);
}

TEST_F(EntitiesTest, EverythingSurvivesCheckpointAndReplay) {
  ASSERT_TRUE(db_->upsert(item("a", "music", 30, {"jazz"})).ok());
  ASSERT_TRUE(
      db_->upsert({EntityKind::kUser, "u1", {{"country", "US"}, {"age", int64_t{30}}}}).ok());
  ASSERT_TRUE(db_->relate({.user = "u1", .target = "c1"}).ok());
  ASSERT_TRUE(db_->checkpoint().ok());
  // After the checkpoint: only in the WAL.
  ASSERT_TRUE(db_->upsert(item("b", "news", 60)).ok());
  ASSERT_TRUE(db_->patch({EntityKind::kItem, "a", {{"duration", int64_t{31}}}}).ok());
  ASSERT_TRUE(db_->relate({.user = "u2", .target = "c1"}).ok());
  ASSERT_TRUE(db_->relate({.relation = Relation::kBlock,
                           .user = "u1",
                           .target_kind = EntityKind::kItem,
                           .target = "b"})
                  .ok());
  for (int round = 0; round < 2; ++round) {
    open();
    EXPECT_EQ(count(Filter::all()), 2u);
    EXPECT_EQ(count(Filter::eq("duration", int64_t{31})), 1u);
    EXPECT_EQ(count(Filter::contains("genres", "jazz")), 1u);
    EXPECT_EQ(*db_->count(EntityKind::kUser, Filter::eq("country", "US")), 1u);
    EXPECT_THAT(*db_->followers(EntityKind::kCreator, "c1"), UnorderedElementsAre("u1", "u2"));
    EXPECT_TRUE(*db_->is_blocked("u1", EntityKind::kItem, "b"));
    ASSERT_TRUE(db_->checkpoint().ok());
  }
}

TEST_F(EntitiesTest, RelationshipsFollowBlockMute) {
  ASSERT_TRUE(db_->relate({.user = "u1", .target = "c1"}).ok());
  ASSERT_TRUE(db_->relate({.user = "u1", .target = "c2"}).ok());
  ASSERT_TRUE(db_->relate({.user = "u2", .target_kind = EntityKind::kUser, .target = "u1"}).ok());
  EXPECT_THAT(*db_->related("u1", Relation::kFollow, EntityKind::kCreator),
              ElementsAre("c1", "c2"));
  EXPECT_THAT(*db_->followers(EntityKind::kUser, "u1"), ElementsAre("u2"));
  ASSERT_TRUE(db_->relate({.user = "u1", .target = "c1", .active = false}).ok());
  EXPECT_THAT(*db_->related("u1", Relation::kFollow, EntityKind::kCreator), ElementsAre("c2"));
  EXPECT_TRUE(db_->followers(EntityKind::kCreator, "c1")->empty());

  // Blocking a creator blocks its items.
  ASSERT_TRUE(db_->upsert({EntityKind::kItem, "v", {{"creator", "c3"}}}).ok());
  EXPECT_FALSE(*db_->is_blocked("u1", EntityKind::kItem, "v"));
  ASSERT_TRUE(db_->relate({.relation = Relation::kBlock, .user = "u1", .target = "c3"}).ok());
  EXPECT_TRUE(*db_->is_blocked("u1", EntityKind::kItem, "v"));
  ASSERT_TRUE(db_->relate({.relation = Relation::kMute,
                           .user = "u1",
                           .target_kind = EntityKind::kItem,
                           .target = "v"})
                  .ok());
  EXPECT_THAT(*db_->related("u1", Relation::kMute, EntityKind::kItem), ElementsAre("v"));

  // Rules.
  EXPECT_THAT(db_->relate({.relation = Relation::kFollow,
                           .user = "u1",
                           .target_kind = EntityKind::kItem,
                           .target = "v"})
                  .status()
                  .message(),
              HasSubstr("follow targets a creator or a user"));
  EXPECT_THAT(db_->relate({.relation = Relation::kBlock,
                           .user = "u1",
                           .target_kind = EntityKind::kUser,
                           .target = "u2"})
                  .status()
                  .message(),
              HasSubstr("block targets a creator or an item"));
  EXPECT_THAT(db_->relate({.user = "u1", .target_kind = EntityKind::kUser, .target = "u1"})
                  .status()
                  .message(),
              HasSubstr("itself"));

  // A deleted user leaves every list.
  ASSERT_TRUE(db_->upsert({EntityKind::kUser, "u2", {}}).ok());
  ASSERT_TRUE(db_->remove(EntityKind::kUser, "u2").ok());
  EXPECT_TRUE(db_->followers(EntityKind::kUser, "u1")->empty());
}

TEST_F(EntitiesTest, AffinityGrowsWithSignalsAndDecaysWithHalfLife) {
  ASSERT_TRUE(db_->upsert({EntityKind::kItem, "v1", {{"creator", "c1"}}}).ok());
  ASSERT_TRUE(db_->upsert({EntityKind::kItem, "v2", {{"creator", "c2"}}}).ok());
  // like: affinity delta 1.0, half-life 12h; share: 2.0, 12h.
  ASSERT_TRUE(db_->ingest(event("v1", "u", "like", from_micros(kStart))).ok());
  ASSERT_TRUE(db_->ingest(event("v2", "u", "share", from_micros(kStart))).ok());
  auto top = db_->top_affinities("u");
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].creator, "c2");
  EXPECT_NEAR((*top)[0].weight, 2.0, 1e-5);
  EXPECT_NEAR((*top)[1].weight, 1.0, 1e-5);
  clock_.advance(std::chrono::hours(12));
  top = db_->top_affinities("u");
  EXPECT_NEAR((*top)[0].weight, 1.0, 1e-5);
  EXPECT_NEAR((*top)[1].weight, 0.5, 1e-5);
  // A skip (negative delta) lowers it.
  ASSERT_TRUE(db_->ingest(event("v1", "u", "skip", clock_.now())).ok());
  EXPECT_NEAR((*db_->top_affinities("u"))[1].weight, 0.0, 1e-5);
  // Survives a restart, decayed from where it was.
  open();
  EXPECT_NEAR((*db_->top_affinities("u"))[0].weight, 1.0, 1e-5);
  // A deleted creator leaves the list.
  ASSERT_TRUE(db_->upsert({EntityKind::kCreator, "c2", {}}).ok());
  ASSERT_TRUE(db_->remove(EntityKind::kCreator, "c2").ok());
  EXPECT_EQ(db_->top_affinities("u")->size(), 1u);
}

}  // namespace
}  // namespace tidal
