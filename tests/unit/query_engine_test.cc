// The query engine through tidal::Database::query: sources, filters, sort
// modes, profiles, diversify, cursors, EXPLAIN, limits and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int64_t kMinute = 60'000'000;

Schema query_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(
      EntityKind::kItem,
      {.name = "duration", .type = AttributeType::kInt, .filterable = true, .sortable = true});
  b.add_attribute(EntityKind::kItem, {.name = "rating", .type = AttributeType::kFloat});
  b.add_attribute(
      EntityKind::kUser,
      {.name = "age", .type = AttributeType::kInt, .filterable = true, .sortable = true});
  auto r = b.build();
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.value();
}

class QueryEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    db_.reset();
    DatabaseOptions o;
    o.clock = &clock_;
    o.background_checkpoints = false;
    auto r = Database::open(dir_.str(), query_schema(), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  void item(const std::string& key, const std::string& category, int64_t duration,
            const std::string& creator = "") {
    EntityWrite w{EntityKind::kItem, key, {{"category", category}, {"duration", duration}}};
    if (!creator.empty()) w.attributes.push_back({"creator", creator});
    ASSERT_TRUE(db_->upsert(w).ok());
  }
  void signal(const std::string& item, const std::string& signal, int n, double value = 1) {
    std::vector<SignalEvent> events;
    for (int i = 0; i < n; ++i) {
      SignalEvent e;
      e.item = item;
      e.user = "u" + std::to_string(next_user_++);
      e.signal = signal;
      e.value = value;
      e.timestamp = clock_.now();
      events.push_back(std::move(e));
    }
    BatchIngestResult r = db_->ingest(events);
    ASSERT_EQ(r.rejected, 0u);
  }
  QueryResult q(const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    return r.ok() ? *r : QueryResult{};
  }
  std::vector<std::string> keys(const std::string& tql) {
    std::vector<std::string> out;
    for (const QueryRow& row : q(tql).rows) out.push_back(row.key);
    return out;
  }
  Status err(const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_FALSE(r.ok()) << tql;
    return r.ok() ? Status::Ok() : r.status();
  }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
  int next_user_ = 0;
};

TEST_F(QueryEngineTest, TrendingAndHotRankByTheLedger) {
  item("a", "music", 100);
  item("b", "music", 200);
  item("c", "news", 300);
  signal("a", "view", 3);
  signal("b", "view", 5);
  signal("c", "view", 1);
  EXPECT_THAT(keys("TRENDING items WINDOW 24h LIMIT 10"), ElementsAre("b", "a", "c"));
  EXPECT_THAT(keys("RANK items BY hot LIMIT 2"), ElementsAre("b", "a"));
  EXPECT_THAT(keys("RANK items BY hot WHERE category = 'music' LIMIT 10"), ElementsAre("b", "a"));
  QueryResult r = q("TRENDING items BY view WINDOW 1h LIMIT 1");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].score, 5);
  EXPECT_FALSE(r.cursor.empty());
}

TEST_F(QueryEngineTest, AttributeSortsAndDirection) {
  item("a", "music", 100);
  item("b", "music", 300);
  item("c", "news", 200);
  EXPECT_THAT(keys("RANK items BY duration"), ElementsAre("b", "c", "a"));
  EXPECT_THAT(keys("RANK items BY duration ASC"), ElementsAre("a", "c", "b"));
  EXPECT_THAT(keys("RANK items BY duration WHERE category = 'music'"), ElementsAre("b", "a"));
  Status s = err("RANK items BY rating");
  EXPECT_THAT(s.message(), HasSubstr("not sortable"));
}

TEST_F(QueryEngineTest, CursorPagesAreDisjointAndComplete) {
  for (int i = 0; i < 25; ++i) item("i" + std::to_string(i), "music", i);
  std::vector<std::string> all = keys("RANK items BY duration LIMIT 100");
  ASSERT_EQ(all.size(), 25u);
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    std::string tql = "RANK items BY duration LIMIT 7";
    if (!cursor.empty()) tql += " CURSOR '" + cursor + "'";
    QueryResult r = q(tql);
    for (const QueryRow& row : r.rows) paged.push_back(row.key);
    cursor = r.cursor;
    if (cursor.empty()) break;
  }
  EXPECT_EQ(paged, all);
  // A cursor belongs to its query.
  QueryResult first = q("RANK items BY duration LIMIT 7");
  Status s = err("RANK items BY duration ASC LIMIT 7 CURSOR '" + first.cursor + "'");
  EXPECT_THAT(s.message(), HasSubstr("different query"));
  s = err("RANK items BY duration LIMIT 7 CURSOR 'garbage'");
  EXPECT_EQ(s.field(), "cursor");
}

TEST_F(QueryEngineTest, DiversifyCapsRowsPerValue) {
  item("a", "music", 10, "c1");
  item("b", "music", 9, "c1");
  item("c", "music", 8, "c1");
  item("d", "news", 7, "c2");
  EXPECT_THAT(keys("RANK items BY duration DIVERSIFY BY creator MAX 1 LIMIT 10"),
              ElementsAre("a", "d"));
  EXPECT_THAT(keys("RANK items BY duration DIVERSIFY BY category MAX 2 LIMIT 10"),
              ElementsAre("a", "b", "d"));
}

TEST_F(QueryEngineTest, ProfilesAreDurableAndRank) {
  item("a", "music", 100);
  item("b", "music", 50);
  signal("a", "like", 1);
  signal("b", "like", 4);
  QueryResult r = q("CREATE PROFILE liked AS 2 * count(like, 24h) + duration / 100");
  EXPECT_THAT(r.message, HasSubstr("created"));
  EXPECT_THAT(keys("RANK items BY liked"), ElementsAre("b", "a"));
  open();  // the profile survives a reopen (WAL replay)
  EXPECT_THAT(keys("RANK items BY liked"), ElementsAre("b", "a"));
  ASSERT_TRUE(db_->checkpoint().ok());
  open();  // and a checkpoint
  QueryResult again = q("RANK items BY liked");
  ASSERT_EQ(again.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(again.rows[0].score, 8.5);
  EXPECT_THAT(q("CREATE PROFILE liked AS duration").message, HasSubstr("replaced"));
  EXPECT_THAT(keys("RANK items BY liked"), ElementsAre("a", "b"));
  EXPECT_THAT(err("CREATE PROFILE hot AS duration").message(), HasSubstr("sort mode"));
  EXPECT_THAT(err("CREATE PROFILE p AS nope(1)").message(), HasSubstr("unknown function"));
  EXPECT_THAT(err("CREATE PROFILE loop AS loop + 1").message(), HasSubstr("itself"));
}

TEST_F(QueryEngineTest, ExplainListsEveryStage) {
  for (int i = 0; i < 10; ++i) {
    item("i" + std::to_string(i), i % 2 ? "music" : "news", i);
    signal("i" + std::to_string(i), "view", i + 1);
  }
  // The hot index answers: enough rows with positive scores pass the filter.
  QueryResult r = q("EXPLAIN RANK items BY hot WHERE category = 'music' LIMIT 3");
  EXPECT_TRUE(r.explain);
  std::vector<std::string> names;
  for (const PlanStage& s : r.plan) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("plan", "filter", "source", "score", "page"));
  EXPECT_THAT(r.explain_text(), HasSubstr("trending index hot of view"));
  EXPECT_EQ(r.plan[1].rows_in, 10u);
  EXPECT_EQ(r.plan[1].rows_out, 5u);
  EXPECT_THAT(r.rows.size(), 3u);
  // Too few: the index gives up and every candidate is scored.
  r = q("EXPLAIN RANK items BY hot WHERE category = 'music' LIMIT 8");
  EXPECT_THAT(r.explain_text(), HasSubstr("scoring every candidate instead"));
  EXPECT_EQ(r.rows.size(), 5u);
  // A non-index sort scans.
  r = q("EXPLAIN RANK items BY best WHERE duration < 4 LIMIT 2");
  names.clear();
  for (const PlanStage& s : r.plan) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("plan", "source", "filter", "score", "select", "page"));
  EXPECT_THAT(r.explain_text(), HasSubstr("best(like, skip, 1d)"));
}

TEST_F(QueryEngineTest, UnbuiltPartsAreNotSupportedYet) {
  for (const char* tql :
       {"SEARCH items QUERY 'piano' LIMIT 10", "SIMILAR items TO 'a' USING embedding LIMIT 10",
        "FEED FOR USER 'u' LIMIT 10", "TRENDING items FOR COHORT c WINDOW 1h",
        "CREATE COHORT c WHERE age > 3"}) {
    Status s = err(tql);
    EXPECT_EQ(s.code(), StatusCode::kNotSupported) << tql;
    EXPECT_THAT(s.message(), HasSubstr("not supported yet")) << tql;
  }
}

}  // namespace
}  // namespace tidal
