// Full-text search through tidal::Database: SEARCH's syntax, BM25 scores
// against a hand computation, real-time updates, restart, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

Schema text_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem,
                  {.name = "title",
                   .type = AttributeType::kText,
                   .text = {.stemmer = "english", .stop_words = "english", .boost = 2}});
  b.add_attribute(EntityKind::kItem, {.name = "body",
                                      .type = AttributeType::kText,
                                      .text = {.stemmer = "english", .stop_words = "english"}});
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kCreator, {.name = "name", .type = AttributeType::kText});
  auto r = b.build();
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.value();
}

class TextSearchTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    db_.reset();
    DatabaseOptions o;
    o.background_checkpoints = false;
    auto r = Database::open(dir_.str(), text_schema(), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  void doc(const std::string& key, const std::string& title, const std::string& body,
           const std::string& category = "music") {
    EntityWrite w{
        EntityKind::kItem, key, {{"title", title}, {"body", body}, {"category", category}}};
    auto r = db_->upsert(w);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }
  std::vector<std::string> keys(const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const QueryRow& row : r->rows) out.push_back(row.key);
    }
    return out;
  }
  Status error(const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_FALSE(r.ok()) << tql;
    return r.ok() ? Status::Ok() : r.status();
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(TextSearchTest, FindsStemmedCaseFoldedWordsBestFirst) {
  doc("a", "Piano Sonatas", "Beethoven's piano sonatas, played on a grand piano.");
  doc("b", "Jazz guitar", "Standards for the jazz guitarist.");
  doc("c", "Jazz piano trio", "A trio of piano, bass and drums.");
  EXPECT_THAT(keys("SEARCH items QUERY 'PIANOS' LIMIT 10"), ElementsAre("a", "c"));
  // c has both words; a and b one each (b's "jazz" is rarer in body than a's "piano").
  std::vector<std::string> both = keys("SEARCH items QUERY 'jazz piano' LIMIT 10");
  ASSERT_EQ(both.size(), 3u);
  EXPECT_EQ(both[0], "c");
  EXPECT_THAT(keys("SEARCH items QUERY 'jazz piano' MATCH ALL LIMIT 10"), ElementsAre("c"));
  EXPECT_THAT(keys("SEARCH items QUERY 'jazz +guitar' LIMIT 10"), ElementsAre("b"));
  EXPECT_THAT(keys("SEARCH items QUERY 'piano -trio' LIMIT 10"), ElementsAre("a"));
  EXPECT_THAT(keys("SEARCH items QUERY '\"grand piano\"' LIMIT 10"), ElementsAre("a"));
  EXPECT_THAT(keys("SEARCH items QUERY '\"piano grand\"' LIMIT 10"), ElementsAre());
  // A phrase keeps the positions of the stop words it spans.
  EXPECT_THAT(keys("SEARCH items QUERY '\"trio of piano\"' LIMIT 10"), ElementsAre("c"));
  EXPECT_THAT(keys("SEARCH items QUERY '\"trio piano\"' LIMIT 10"), ElementsAre());
  EXPECT_THAT(keys("SEARCH items QUERY 'drums' IN (title) LIMIT 10"), ElementsAre());
  EXPECT_THAT(keys("SEARCH items QUERY 'drums' IN (body) LIMIT 10"), ElementsAre("c"));
  EXPECT_THAT(keys("SEARCH items QUERY 'piano' WHERE category = 'jazz' LIMIT 10"), ElementsAre());
}

// The score of a one-word query, computed by hand from BM25's definition.
TEST_F(TextSearchTest, ScoreIsBm25) {
  doc("a", "", "cat cat dog");
  doc("b", "", "dog bird fish");
  doc("c", "", "cat");
  auto r = db_->query("SEARCH items QUERY 'cat' IN (body) LIMIT 10");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->rows.size(), 2u);
  const double k1 = 0.9, b = 0.4, n = 3, df = 2, avgdl = 7.0 / 3;
  const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
  auto score = [&](double tf, double dl) {
    return idf * (k1 + 1) * tf / (tf + k1 * (1 - b + b * dl / avgdl));
  };
  // c: tf 1 in a 1-word body beats a: tf 2 in 3 words? Compare exactly.
  const double sa = score(2, 3), sc = score(1, 1);
  EXPECT_EQ(r->rows[0].key, sa > sc ? "a" : "c");
  EXPECT_NEAR(r->rows[0].score, std::max(sa, sc), 1e-9);
  EXPECT_NEAR(r->rows[1].score, std::min(sa, sc), 1e-9);
}

TEST_F(TextSearchTest, UpsertPatchAndDeleteChangeTheNextQuery) {
  doc("a", "Old title", "nothing here");
  EXPECT_THAT(keys("SEARCH items QUERY 'fresh' LIMIT 10"), ElementsAre());
  doc("a", "Fresh title", "nothing here");
  EXPECT_THAT(keys("SEARCH items QUERY 'fresh' LIMIT 10"), ElementsAre("a"));
  EXPECT_THAT(keys("SEARCH items QUERY 'old' LIMIT 10"), ElementsAre());
  ASSERT_TRUE(db_->patch({EntityKind::kItem, "a", {{"body", std::string("stale bread")}}}).ok());
  EXPECT_THAT(keys("SEARCH items QUERY 'bread' LIMIT 10"), ElementsAre("a"));
  EXPECT_THAT(keys("SEARCH items QUERY 'fresh' LIMIT 10"), ElementsAre("a"));  // title kept
  ASSERT_TRUE(db_->patch({EntityKind::kItem, "a", {{"title", AttributeValue()}}}).ok());
  EXPECT_THAT(keys("SEARCH items QUERY 'fresh' LIMIT 10"), ElementsAre());
  ASSERT_TRUE(db_->remove(EntityKind::kItem, "a").ok());
  EXPECT_THAT(keys("SEARCH items QUERY 'bread' LIMIT 10"), ElementsAre());
}

TEST_F(TextSearchTest, IndexIsRebuiltAtOpen) {
  doc("a", "Before the checkpoint", "");
  ASSERT_TRUE(db_->checkpoint().ok());
  doc("b", "After the checkpoint", "");
  doc("a", "Rewritten after", "");
  open();
  EXPECT_THAT(keys("SEARCH items QUERY 'checkpoint' LIMIT 10"), ElementsAre("b"));
  EXPECT_THAT(keys("SEARCH items QUERY 'rewritten' LIMIT 10"), ElementsAre("a"));
}

TEST_F(TextSearchTest, CreatorsAreSearchableToo) {
  ASSERT_TRUE(
      db_->upsert({EntityKind::kCreator, "c1", {{"name", std::string("Nina Simone")}}}).ok());
  ASSERT_TRUE(
      db_->upsert({EntityKind::kCreator, "c2", {{"name", std::string("Nina Hagen")}}}).ok());
  EXPECT_THAT(keys("SEARCH creators QUERY 'simone' LIMIT 10"), ElementsAre("c1"));
  EXPECT_THAT(keys("SEARCH creators QUERY 'nina' LIMIT 10"), UnorderedElementsAre("c1", "c2"));
}

TEST_F(TextSearchTest, ProfilesBlendRelevanceWithSignals) {
  doc("a", "guitar lesson", "guitar guitar guitar");
  doc("b", "guitar", "a song");
  std::vector<SignalEvent> likes;
  for (int i = 0; i < 50; ++i) {
    SignalEvent e;
    e.item = "b";
    e.user = "u" + std::to_string(i);
    e.signal = "like";
    likes.push_back(e);
  }
  ASSERT_EQ(db_->ingest(likes).accepted, likes.size());
  EXPECT_THAT(keys("SEARCH items QUERY 'guitar' LIMIT 10"), ElementsAre("a", "b"));
  EXPECT_THAT(keys("SEARCH items QUERY 'guitar' RANK BY bm25 + log1p(decay(like)) LIMIT 10"),
              ElementsAre("b", "a"));
  EXPECT_THAT(keys("SEARCH items QUERY 'guitar' RANK BY hot(like) LIMIT 10"),
              ElementsAre("b", "a"));
  ASSERT_TRUE(db_->query("CREATE PROFILE liked_match AS bm25 * (1 + decay(like))").ok());
  EXPECT_THAT(keys("SEARCH items QUERY 'guitar' RANK BY liked_match LIMIT 10"),
              ElementsAre("b", "a"));
  EXPECT_THAT(error("RANK items BY liked_match").message(),
              HasSubstr("reads bm25 (text relevance), which only a query with a QUERY text"));
}

TEST_F(TextSearchTest, CursorPagesThroughRelevance) {
  for (int i = 0; i < 25; ++i) {
    doc("d" + std::to_string(i), "", "word " + std::string(static_cast<size_t>(i % 5 + 1), 'x'));
  }
  std::vector<std::string> all = keys("SEARCH items QUERY 'word' LIMIT 100");
  ASSERT_EQ(all.size(), 25u);
  std::vector<std::string> paged;
  std::string cursor;
  do {
    std::string q = "SEARCH items QUERY 'word' LIMIT 7";
    if (!cursor.empty()) q += " CURSOR '" + cursor + "'";
    auto r = db_->query(q);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    for (const QueryRow& row : r->rows) paged.push_back(row.key);
    cursor = r->cursor;
  } while (!cursor.empty());
  EXPECT_EQ(paged, all);
}

TEST_F(TextSearchTest, ExplainNamesTheStrategy) {
  doc("a", "piano", "");
  auto r = db_->query("EXPLAIN SEARCH items QUERY 'piano' LIMIT 5");
  ASSERT_TRUE(r.ok());
  std::string plan;
  for (const PlanStage& s : r->plan) plan += s.name + ": " + s.detail + "\n";
  EXPECT_THAT(plan, HasSubstr("block-max WAND"));
  r = db_->query("EXPLAIN SEARCH items QUERY 'piano' MATCH ALL LIMIT 5");
  plan.clear();
  for (const PlanStage& s : r->plan) plan += s.name + ": " + s.detail + "\n";
  EXPECT_THAT(plan, HasSubstr("conjunctive"));
}

TEST_F(TextSearchTest, BadSearchesAreClearErrorsOrEmpty) {
  doc("a", "piano", "");
  EXPECT_THAT(error("SEARCH items QUERY '   '").message(), HasSubstr("has no words to search for"));
  EXPECT_THAT(keys("SEARCH items QUERY 'the of and' LIMIT 5"), ElementsAre());  // stop words
  EXPECT_THAT(error("SEARCH items QUERY '\xff\xfe piano' LIMIT 5").message(),
              HasSubstr("invalid UTF-8 in a string"));
  std::string many;
  for (int i = 0; i < 1100; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_THAT(error("SEARCH items QUERY '" + many + "'").message(),
              HasSubstr("has more than 1024 words"));
  EXPECT_THAT(error("SEARCH items QUERY 'x' IN (category)").message(),
              HasSubstr("is not a text attribute of items (text attributes: title, body)"));
  EXPECT_THAT(error("SEARCH users QUERY 'x'").message(), HasSubstr("has no text attributes"));
  EXPECT_THAT(error("SEARCH items QUERY 'x' IN (title^0)").message(),
              HasSubstr("a boost must be above 0"));
  EXPECT_THAT(error("SEARCH items QUERY 'x' WITHIN TRENDING").message(),
              HasSubstr("not supported yet"));
}

TEST_F(TextSearchTest, TqlAndJsonRoundTrip) {
  doc("a", "piano", "grand");
  auto r = db_->query_json(
      R"({"statement": "search", "target": "items", "query": "piano", "fields": [{"name": "title", "boost": 3}, "body"], "match": "all", "limit": 5})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].key, "a");
}

}  // namespace
}  // namespace tidal
