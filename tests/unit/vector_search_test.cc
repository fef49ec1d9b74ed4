// Vector search through tidal::Database: NEAREST and SIMILAR under each
// metric, similarity(slot) in profiles, hybrid ranking, real-time updates,
// persistence of the graphs, the planner's choice, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Schema vector_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem, {.name = "emb",
                                      .type = AttributeType::kVector,
                                      .vector_dim = 3,
                                      .metric = VectorMetric::kCosine});
  b.add_attribute(EntityKind::kItem, {.name = "pos",
                                      .type = AttributeType::kVector,
                                      .vector_dim = 2,
                                      .metric = VectorMetric::kL2});
  b.add_attribute(EntityKind::kItem, {.name = "dotv",
                                      .type = AttributeType::kVector,
                                      .vector_dim = 2,
                                      .metric = VectorMetric::kDot});
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "n", .type = AttributeType::kInt, .filterable = true});
  b.add_attribute(EntityKind::kItem, {.name = "title", .type = AttributeType::kText});
  b.add_attribute(EntityKind::kUser, {.name = "taste",
                                      .type = AttributeType::kVector,
                                      .vector_dim = 2,
                                      .metric = VectorMetric::kCosine});
  auto r = b.build();
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.value();
}

class VectorSearchTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    db_.reset();
    DatabaseOptions o;
    o.background_checkpoints = false;
    auto r = Database::open(dir_.str(), vector_schema(), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  void put(const std::string& key, std::vector<Attribute> attrs) {
    auto r = db_->upsert(EntityWrite{EntityKind::kItem, key, std::move(attrs)});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }
  Result<QueryResult> run(const std::string& tql) { return db_->query(tql); }
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
  std::string explain(const std::string& tql) {
    auto r = db_->query("EXPLAIN " + tql);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    std::string out;
    if (r.ok()) {
      for (const PlanStage& s : r->plan) out += s.name + ": " + s.detail + "\n";
    }
    return out;
  }
  // Three items on the plane and in 3-d, easy to rank by hand.
  void three() {
    put("east", {{"emb", std::vector<float>{1, 0, 0}},
                 {"pos", std::vector<float>{1, 0}},
                 {"dotv", std::vector<float>{3, 0}},
                 {"category", std::string("a")},
                 {"title", std::string("sunrise over the sea")}});
    put("north", {{"emb", std::vector<float>{0, 1, 0}},
                  {"pos", std::vector<float>{0, 5}},
                  {"dotv", std::vector<float>{0, 1}},
                  {"category", std::string("b")},
                  {"title", std::string("mountain snow")}});
    put("northeast", {{"emb", std::vector<float>{1, 1, 0}},
                      {"pos", std::vector<float>{2, 2}},
                      {"dotv", std::vector<float>{1, 1}},
                      {"category", std::string("a")},
                      {"title", std::string("sea and mountain")}});
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(VectorSearchTest, NearestRanksByEachMetricWithExactSimilarities) {
  three();
  auto r = run("NEAREST items TO VECTOR [2, 0.1, 0] USING emb LIMIT 3");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].key, "east");
  EXPECT_EQ(r->rows[1].key, "northeast");
  EXPECT_EQ(r->rows[2].key, "north");
  const double qn = std::sqrt(4 + 0.01);
  EXPECT_NEAR(r->rows[0].score, 2 / qn, 1e-5);  // cosine
  EXPECT_NEAR(r->rows[1].score, (2 + 0.1) / qn / std::sqrt(2), 1e-5);
  EXPECT_NEAR(r->rows[2].score, 0.1 / qn, 1e-5);

  // l2: similarity = 1 / (1 + distance).
  r = run("NEAREST items TO VECTOR [0, 4] USING pos LIMIT 3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].key, "north");
  EXPECT_NEAR(r->rows[0].score, 1 / (1 + 1.0), 1e-5);
  EXPECT_EQ(r->rows[1].key, "northeast");
  EXPECT_NEAR(r->rows[1].score, 1 / (1 + std::sqrt(8.0)), 1e-5);

  // dot: the raw inner product, so length counts.
  r = run("NEAREST items TO VECTOR [1, 1] USING dotv LIMIT 3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].key, "east");
  EXPECT_NEAR(r->rows[0].score, 3, 1e-5);
  EXPECT_NEAR(r->rows[1].score, 2, 1e-5);
}

TEST_F(VectorSearchTest, SimilarLeavesOutTheItemItselfAndFilters) {
  three();
  EXPECT_THAT(keys("SIMILAR items TO 'east' USING emb LIMIT 5"), ElementsAre("northeast", "north"));
  EXPECT_THAT(keys("SIMILAR items TO 'east' USING emb WHERE category = 'b' LIMIT 5"),
              ElementsAre("north"));
  EXPECT_THAT(keys("NEAREST items TO VECTOR [0, 1, 0] USING emb WHERE category = 'a' LIMIT 1"),
              ElementsAre("northeast"));
  // Users have their own slots.
  ASSERT_TRUE(
      db_->upsert(EntityWrite{EntityKind::kUser, "u1", {{"taste", std::vector<float>{1, 0}}}})
          .ok());
  ASSERT_TRUE(
      db_->upsert(EntityWrite{EntityKind::kUser, "u2", {{"taste", std::vector<float>{1, 0.2f}}}})
          .ok());
  EXPECT_THAT(keys("SIMILAR users TO 'u1' USING taste"), ElementsAre("u2"));
}

TEST_F(VectorSearchTest, WritesAreSeenByTheNextQuery) {
  three();
  const std::string base = "NEAREST items TO VECTOR [0, 0, 1] USING emb";
  const std::string q = base + " LIMIT 1";
  put("up", {{"emb", std::vector<float>{0, 0.1f, 1}}});
  EXPECT_THAT(keys(q), ElementsAre("up"));
  // Update in place: now it points away.
  put("up", {{"emb", std::vector<float>{-1, 0, -1}}});
  EXPECT_THAT(keys(base + " WHERE category = 'b' LIMIT 1"), ElementsAre("north"));
  EXPECT_NE(keys(q), std::vector<std::string>{"up"});
  // A patch of another attribute keeps the vector; removing it drops it.
  put("up", {{"emb", std::vector<float>{0, 0, 1}}});
  ASSERT_TRUE(
      db_->patch(EntityWrite{EntityKind::kItem, "up", {{"category", std::string("b")}}}).ok());
  EXPECT_THAT(keys(q), ElementsAre("up"));
  ASSERT_TRUE(db_->patch(EntityWrite{EntityKind::kItem, "up", {{"emb", std::monostate{}}}}).ok());
  EXPECT_THAT(keys(base + " WHERE category = 'b' LIMIT 1"), ElementsAre("north"));
  // Deleted, then written again.
  put("up", {{"emb", std::vector<float>{0, 0, 1}}});
  ASSERT_TRUE(db_->remove(EntityKind::kItem, "up").ok());
  EXPECT_THAT(keys("NEAREST items TO VECTOR [0, 0, 1] USING emb LIMIT 10"),
              ::testing::Not(::testing::Contains("up")));
  put("up", {{"emb", std::vector<float>{0, 0, 1}}});
  EXPECT_THAT(keys(q), ElementsAre("up"));
  // An upsert without the attribute removes it.
  put("up", {{"category", std::string("a")}});
  EXPECT_THAT(keys("NEAREST items TO VECTOR [0, 0, 1] USING emb LIMIT 10"),
              ::testing::Not(::testing::Contains("up")));
}

TEST_F(VectorSearchTest, GraphsSurviveRestartCheckpointAndLostFiles) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  for (int i = 0; i < 300; ++i) {
    put("i" + std::to_string(i),
        {{"emb", std::vector<float>{g(rng), g(rng), g(rng)}}, {"n", int64_t{i}}});
  }
  const std::string q = "NEAREST items TO VECTOR [0.3, -1, 0.2] USING emb LIMIT 10";
  const std::vector<std::string> before = keys(q);
  ASSERT_EQ(before.size(), 10u);
  // From the WAL alone.
  open();
  EXPECT_EQ(keys(q), before);
  // From a saved graph, then with writes after the checkpoint replayed.
  ASSERT_TRUE(db_->checkpoint().ok());
  const std::string folder = dir_.str() + "/vectors";
  EXPECT_TRUE(std::filesystem::exists(folder + "/items.emb.hnsw"));
  EXPECT_TRUE(std::filesystem::exists(folder + "/items.emb.header"));
  put("late", {{"emb", std::vector<float>{0.3f, -1, 0.2f}}});
  ASSERT_TRUE(db_->remove(EntityKind::kItem, before[1]).ok());
  std::vector<std::string> after = keys(q);
  EXPECT_EQ(after[0], "late");
  open();
  EXPECT_EQ(keys(q), after);
  // A damaged graph file is rebuilt from the entities.
  ASSERT_TRUE(db_->checkpoint().ok());
  db_.reset();
  {
    std::fstream f(folder + "/items.emb.hnsw", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("garbage!", 8);
  }
  open();
  EXPECT_EQ(keys(q), after);
  // And a missing one.
  db_.reset();
  std::filesystem::remove_all(folder);
  open();
  EXPECT_EQ(keys(q), after);
  EXPECT_GT(db_->stats().vector_bytes, 300u * 3 * 4);
}

TEST_F(VectorSearchTest, PlannerScansSmallCandidateSetsAndSearchesTheGraphOtherwise) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  for (int i = 0; i < 3000; ++i) {
    put("i" + std::to_string(i),
        {{"emb", std::vector<float>{g(rng), g(rng), g(rng)}}, {"n", int64_t{i % 100}}});
  }
  const std::string base = "NEAREST items TO VECTOR [1, 0.5, 0] USING emb";
  EXPECT_THAT(explain(base + " WHERE n < 2 LIMIT 10"), HasSubstr("exact scan of 60 vectors"));
  EXPECT_THAT(explain(base + " LIMIT 10"), HasSubstr("hnsw ef 64"));
  EXPECT_THAT(explain(base + " EF 100 LIMIT 10"), HasSubstr("hnsw ef 100"));
  EXPECT_THAT(explain(base + " WHERE n < 90 LIMIT 10"), HasSubstr("over-fetched for a filter"));
  // Both strategies return the exact answer here (a small, easy graph).
  for (const std::string where : {"n < 2", "n < 90", "n >= 0"}) {
    std::vector<std::string> ann = keys(base + " WHERE " + where + " LIMIT 10");
    EXPECT_EQ(ann.size(), 10u);
    for (const std::string& k : ann) {
      const int i = std::stoi(k.substr(1));
      EXPECT_TRUE(where != "n < 2" || i % 100 < 2) << k;
    }
  }
}

// Inserting into a graph whose every element was removed once wrote out of
// bounds inside hnswlib (its construction search found no unmarked element to
// link to; seen under ASan by EntitiesModel). Removed vectors now stay as
// ordinary dead elements, so every insertion has neighbours to link to.
TEST_F(VectorSearchTest, VectorsWrittenAfterEveryOtherWasRemovedAreFound) {
  const std::string q = "NEAREST items TO VECTOR [1, 0, 0] USING emb LIMIT 10";
  for (int round = 0; round < 5; ++round) {
    const std::string a = "a" + std::to_string(round), b = "b" + std::to_string(round);
    put(a, {{"emb", std::vector<float>{1, 0.1f * round, 0}}});
    ASSERT_TRUE(db_->remove(EntityKind::kItem, a).ok());
    EXPECT_THAT(keys(q), ::testing::IsEmpty()) << round;
    put(b, {{"emb", std::vector<float>{0, 1, 0.1f * round}}});
    EXPECT_THAT(keys(q), ElementsAre(b));
    ASSERT_TRUE(db_->patch(EntityWrite{EntityKind::kItem, b, {{"emb", std::monostate{}}}}).ok());
    EXPECT_THAT(keys(q), ::testing::IsEmpty()) << round;
  }
  // The same across a restart: the saved graph holds only dead elements.
  ASSERT_TRUE(db_->checkpoint().ok());
  open();
  EXPECT_THAT(keys(q), ::testing::IsEmpty());
  put("c", {{"emb", std::vector<float>{1, 0, 0}}});
  put("a0", {{"emb", std::vector<float>{0.5f, 0.5f, 0}}});
  EXPECT_THAT(keys(q), ElementsAre("c", "a0"));
}

// The same when the graph's entry point is live but the region a new vector
// joins holds only removed ones: hnswlib's descent through the upper layers
// leads the new vectors into that region.
TEST_F(VectorSearchTest, VectorsWrittenAmongRemovedOnesAreFound) {
  const std::string q = "NEAREST items TO VECTOR [1, 0, 0] USING emb LIMIT 10";
  for (int seed = 1; seed <= 2; ++seed) {
    SCOPED_TRACE(seed);
    const std::string run = std::to_string(seed) + "_";
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0, 0.3f);
    auto near = [&](float x) { return std::vector<float>{x + g(rng), g(rng), g(rng)}; };
    // Two clusters; every vector of the one the new vectors join is removed
    // (the items kept, so that the new vectors are new graph elements rather
    // than reusing the removed ones).
    for (int i = 0; i < 20; ++i) put(run + "west" + std::to_string(i), {{"emb", near(-1)}});
    for (int i = 0; i < 500; ++i) put(run + "old" + std::to_string(i), {{"emb", near(1)}});
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(db_->patch(EntityWrite{EntityKind::kItem,
                                         run + "old" + std::to_string(i),
                                         {{"emb", std::monostate{}}}})
                      .ok());
    }
    for (int i = 0; i < 500; ++i) put(run + "new" + std::to_string(i), {{"emb", near(1)}});
    const std::vector<std::string> found = keys(q);
    EXPECT_EQ(found.size(), 10u);
    for (const std::string& key : found) EXPECT_THAT(key, ::testing::StartsWith(run + "new"));
    // Every vector removed before the next seed's run.
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(db_->remove(EntityKind::kItem, run + "new" + std::to_string(i)).ok());
    }
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(db_->remove(EntityKind::kItem, run + "west" + std::to_string(i)).ok());
    }
    EXPECT_THAT(keys(q), ::testing::IsEmpty());
  }
}

// Removed vectors route searches but are never returned; the graph search
// over-fetches past them, and once they outnumber the live ones (and are at
// least 1,024) the graph is rebuilt from the live vectors.
TEST_F(VectorSearchTest, RemovedVectorsAreSkippedAndCompactedAway) {
  constexpr int kItems = 4000;
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  std::vector<std::vector<float>> vs;
  for (int i = 0; i < kItems; ++i) {
    vs.push_back({g(rng), g(rng), g(rng)});
    put("i" + std::to_string(i), {{"emb", vs.back()}});
  }
  auto similarity = [&](int i) {
    const auto& v = vs[i];
    return (v[0] + 0.5 * v[1]) / std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  };
  // Items by their similarity to the query, most similar first.
  std::vector<int> order(kItems);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int x, int y) { return similarity(x) > similarity(y); });
  const std::string q = "NEAREST items TO VECTOR [1, 0.5, 0] USING emb LIMIT 10";
  std::set<int> removed;
  auto remove = [&](int i) {
    ASSERT_TRUE(db_->remove(EntityKind::kItem, "i" + std::to_string(i)).ok());
    removed.insert(i);
  };
  // Recall@10 against the exact answer over the items left; a removed item
  // never comes back.
  auto recall = [&] {
    std::set<std::string> want;
    for (int i : order) {
      if (want.size() == 10) break;
      if (!removed.count(i)) want.insert("i" + std::to_string(i));
    }
    const std::vector<std::string> got = keys(q);
    EXPECT_EQ(got.size(), 10u);
    int hit = 0;
    for (const std::string& key : got) {
      EXPECT_EQ(removed.count(std::stoi(key.substr(1))), 0u) << key;
      hit += static_cast<int>(want.count(key));
    }
    return hit;
  };
  // A quarter removed at random: the graph search over-fetches past them.
  for (int i = 0; i < kItems; i += 4) remove(i);
  EXPECT_THAT(explain(q), HasSubstr("hnsw ef 64 over-fetched past 1000 removed vectors"));
  EXPECT_GE(recall(), 9);
  // Then the items nearest the query, until the dead outnumber the live
  // (at 2,001 removed): that write rebuilds the graph from the live vectors.
  for (int i : order) {
    if (removed.size() == 2001) break;
    if (!removed.count(i)) remove(i);
  }
  EXPECT_THAT(explain(q), ::testing::AllOf(HasSubstr("hnsw ef 64,"),
                                           ::testing::Not(HasSubstr("removed vectors"))));
  EXPECT_GE(recall(), 9);
  // Removed after the rebuild: dead elements of the new graph.
  for (auto it = order.rbegin(); removed.size() < 2100; ++it) {
    if (!removed.count(*it)) remove(*it);
  }
  EXPECT_THAT(explain(q), HasSubstr("over-fetched past 99 removed vectors"));
  EXPECT_GE(recall(), 9);
  // And it survives a restart.
  ASSERT_TRUE(db_->checkpoint().ok());
  open();
  EXPECT_THAT(explain(q), HasSubstr("over-fetched past 99 removed vectors"));
  EXPECT_GE(recall(), 9);
}

TEST_F(VectorSearchTest, CursorPagesThroughNeighbours) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  for (int i = 0; i < 100; ++i) {
    put("i" + std::to_string(i), {{"emb", std::vector<float>{g(rng), g(rng), g(rng)}}});
  }
  const std::string q = "NEAREST items TO VECTOR [1, 1, 1] USING emb";
  std::vector<std::string> all = keys(q + " LIMIT 30");
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 3; ++page) {
    auto r = run(q + " LIMIT 10" + (cursor.empty() ? "" : " CURSOR '" + cursor + "'"));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    for (const QueryRow& row : r->rows) paged.push_back(row.key);
    cursor = r->cursor;
  }
  EXPECT_EQ(paged, all);
}

TEST_F(VectorSearchTest, SimilarityIsAProfileFeature) {
  three();
  ASSERT_TRUE(
      db_->ingest(
             SignalEvent{.item = "north", .user = "u", .signal = "like", .idempotency_key = {}})
          .ok());
  // Rerank the nearest by similarity and likes.
  auto r =
      run("NEAREST items TO VECTOR [1, 0, 0] USING emb RANK BY similarity(emb) + 10 * "
          "decay(like) LIMIT 3");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->rows[0].key, "north");
  EXPECT_THAT(keys("SIMILAR items TO 'east' USING emb RANK BY similarity ASC"),
              ElementsAre("north", "northeast"));
  ASSERT_TRUE(run("CREATE PROFILE close AS similarity(emb) * 2").ok());
  r = run("NEAREST items TO VECTOR [1, 0, 0] USING emb RANK BY close LIMIT 1");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_NEAR(r->rows[0].score, 2, 1e-5);

  EXPECT_THAT(error("RANK items BY similarity(emb)").message(),
              HasSubstr("only SIMILAR and NEAREST"));
  EXPECT_THAT(error("RANK items BY close").message(), HasSubstr("only SIMILAR and NEAREST"));
  EXPECT_THAT(error("NEAREST items TO VECTOR [1, 0] USING pos RANK BY similarity(emb)").message(),
              HasSubstr("query vector is for pos"));
  EXPECT_THAT(
      error("NEAREST items TO VECTOR [1, 0] USING pos RANK BY similarity(category)").message(),
      HasSubstr("not a vector attribute"));
  EXPECT_THAT(error("TRENDING items WINDOW 24h RANK BY similarity").message(),
              ::testing::Not(HasSubstr("crash")));
}

TEST_F(VectorSearchTest, HybridFusesTextAndVectorRanksReciprocally) {
  three();
  // Vector list for [0, 1, 0]: north, northeast, east. Text list for
  // 'sea': east and northeast (BM25 decides their order).
  auto r = run("NEAREST items TO VECTOR [0, 1, 0] USING emb QUERY 'sea' LIMIT 3");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->rows.size(), 3u);
  // northeast: 1/62 + text rank; north: 1/61 + 0; east: 1/63 + text rank.
  std::map<std::string, double> score;
  for (const QueryRow& row : r->rows) score[row.key] = row.score;
  EXPECT_NEAR(score["north"], 1.0 / 61, 1e-12);
  const double ne = score["northeast"] - 1.0 / 62, e = score["east"] - 1.0 / 63;
  EXPECT_TRUE((std::abs(ne - 1.0 / 61) < 1e-12 && std::abs(e - 1.0 / 62) < 1e-12) ||
              (std::abs(ne - 1.0 / 62) < 1e-12 && std::abs(e - 1.0 / 61) < 1e-12))
      << ne << " " << e;
  EXPECT_EQ(r->rows[0].key, "northeast");  // in both lists
  EXPECT_THAT(explain("NEAREST items TO VECTOR [0, 1, 0] USING emb QUERY 'sea' LIMIT 3"),
              HasSubstr("fused by reciprocal rank"));
  // bm25 and similarity are both there to combine by hand.
  r = run("SIMILAR items TO 'north' USING emb QUERY 'mountain' RANK BY bm25 + similarity(emb)");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->rows[0].key, "northeast");
  EXPECT_THAT(error("SEARCH items QUERY 'sea' RANK BY hybrid").message(),
              HasSubstr("only SIMILAR and NEAREST"));
  EXPECT_THAT(error("NEAREST items TO VECTOR [0, 1, 0] USING emb RANK BY hybrid").message(),
              HasSubstr("QUERY 'text'"));
  EXPECT_THAT(error("NEAREST items TO VECTOR [0, 1, 0] USING emb RANK BY bm25").message(),
              HasSubstr("QUERY text"));
}

TEST_F(VectorSearchTest, BadInputNamesTheAttributeAndRule) {
  three();
  Status s = error("NEAREST items TO VECTOR [1, 0] USING emb");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("emb"));
  EXPECT_THAT(s.message(), HasSubstr("dimension 3"));
  s = error("NEAREST items TO VECTOR [0, 0, 0] USING emb");
  EXPECT_THAT(s.message(), HasSubstr("zero vector"));
  EXPECT_THAT(s.message(), HasSubstr("emb"));
  // The zero vector is fine for l2.
  EXPECT_EQ(keys("NEAREST items TO VECTOR [0, 0] USING pos LIMIT 1").size(), 1u);
  s = error("NEAREST items TO VECTOR [1, 0, 0] USING nope");
  EXPECT_THAT(s.message(), HasSubstr("nope"));
  EXPECT_THAT(s.message(), HasSubstr("vector attributes: emb, pos, dotv"));
  s = error("NEAREST items TO VECTOR [1, 0, 0] USING category");
  EXPECT_THAT(s.message(), HasSubstr("is not a vector attribute"));
  s = error("SIMILAR items TO 'nobody' USING emb");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  put("bare", {{"category", std::string("a")}});
  s = error("SIMILAR items TO 'bare' USING emb");
  EXPECT_THAT(s.message(), HasSubstr("has no value for vector attribute emb"));
  s = error("NEAREST items TO VECTOR [1e39, 0, 0] USING emb");
  EXPECT_THAT(s.message(), HasSubstr("32-bit float"));
  s = error("NEAREST items TO VECTOR [1, 0, 0] USING emb EF 0");
  EXPECT_THAT(s.message(), HasSubstr("EF"));
  // JSON carries what TQL cannot write: infinities are refused by its reader.
  auto j = db_->query_json(
      R"({"statement":"nearest","target":"items","vector":[1,0,1e400],"using":"emb"})");
  EXPECT_FALSE(j.ok());
  // Writes: NaN, infinity, the zero vector under cosine, the wrong dimension.
  for (const std::vector<float>& bad :
       {std::vector<float>{NAN, 0, 0}, std::vector<float>{INFINITY, 0, 0},
        std::vector<float>{0, 0, 0}, std::vector<float>{1, 2}}) {
    auto w = db_->upsert(EntityWrite{EntityKind::kItem, "bad", {{"emb", bad}}});
    ASSERT_FALSE(w.ok());
    EXPECT_THAT(w.status().to_string(), HasSubstr("emb"));
  }
  EXPECT_EQ(db_->get(EntityKind::kItem, "bad").status().code(), StatusCode::kNotFound);
}

TEST_F(VectorSearchTest, EfAndQueryRoundTripThroughJson) {
  three();
  auto a = run("NEAREST items TO VECTOR [1, 0, 0] USING emb QUERY 'sea' EF 32 LIMIT 2");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  auto b = db_->query_json(
      R"({"statement":"nearest","target":"items","vector":[1,0,0],"using":"emb","query":"sea",)"
      R"("ef":32,"limit":2})");
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  ASSERT_EQ(a->rows.size(), b->rows.size());
  for (size_t i = 0; i < a->rows.size(); ++i) EXPECT_EQ(a->rows[i].key, b->rows[i].key);
}

// A statement parsed once runs with parameters bound in place of its own
// values, and answers as the same statement written out would.
TEST_F(VectorSearchTest, APreparedStatementRunsWithBoundParameters) {
  three();
  auto prepared = Database::prepare("NEAREST items TO VECTOR [1, 0, 0] USING emb LIMIT 2");
  ASSERT_TRUE(prepared.ok()) << prepared.status().to_string();
  EXPECT_FALSE(prepared->writes());
  EXPECT_EQ(prepared->kind(), "nearest");

  auto row_keys = [](const Result<QueryResult>& r) {
    std::vector<std::string> out;
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (r.ok()) {
      for (const QueryRow& row : r->rows) out.push_back(row.key);
    }
    return out;
  };
  EXPECT_EQ(row_keys(db_->execute(*prepared)),
            keys("NEAREST items TO VECTOR [1, 0, 0] USING emb LIMIT 2"));
  const std::vector<float> north{0, 1, 0.1f};
  QueryParameters p;
  p.vector = north;
  std::vector<std::string> bound = row_keys(db_->execute(*prepared, p));
  EXPECT_EQ(bound, keys("NEAREST items TO VECTOR [0, 1, 0.1] USING emb LIMIT 2"));
  EXPECT_EQ(bound.front(), "north");

  // The next page through a bound cursor.
  p.vector = {};
  auto first = db_->execute(*prepared, p);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->cursor.empty());
  p.cursor = first->cursor;
  EXPECT_EQ(
      row_keys(db_->execute(*prepared, p)),
      keys("NEAREST items TO VECTOR [1, 0, 0] USING emb LIMIT 2 CURSOR '" + first->cursor + "'"));

  // A parameter the statement has no place for, or a bad value, is refused
  // naming it.
  QueryParameters user;
  user.user = "u1";
  auto wrong = db_->execute(*prepared, user);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().field(), "user") << wrong.status().to_string();
  const std::vector<float> nan{std::nanf(""), 0, 0};
  QueryParameters bad;
  bad.vector = nan;
  auto refused = db_->execute(*prepared, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "vector") << refused.status().to_string();
  const std::vector<float> short_vector{1, 0};
  bad.vector = short_vector;
  EXPECT_FALSE(db_->execute(*prepared, bad).ok()) << "emb has 3 dimensions";

  // Writes say so; an empty statement is an error, not a crash.
  auto create = Database::prepare("CREATE PROFILE p AS decay(view)");
  ASSERT_TRUE(create.ok());
  EXPECT_TRUE(create->writes());
  auto json = Database::prepare_json(
      R"({"statement": "create_profile", "name": "q", "definition": {"ident": "hot"}})");
  ASSERT_TRUE(json.ok()) << json.status().to_string();
  EXPECT_TRUE(json->writes());
  EXPECT_EQ(json->kind(), "create_profile");
  EXPECT_FALSE(db_->execute(PreparedStatement()).ok());
  EXPECT_FALSE(Database::prepare("NEAREST items").ok());
}

}  // namespace
}  // namespace tidal
