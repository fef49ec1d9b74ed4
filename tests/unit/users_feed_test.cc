// User state (users/user_state.h) against hand computation, and FEED FOR
// USER through tidal::Database (docs/feeds.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "tidal/clock.h"
#include "tidal/database.h"
#include "users/user_state.h"

namespace tidal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int64_t kDay = int64_t{24} * 3600 * 1'000'000;

// ---------------------------------------------------------------------------
// The update rules, by hand

class UserStateRules : public ::testing::Test {
 protected:
  UserStateRules()
      : schema_(SchemaBuilder::with_default_signals().build().value()), store_(schema_, nullptr) {}

  void event(uint32_t user, uint32_t item, std::string_view signal, int64_t t_us) {
    apply::SignalRecord rec{
        .signal = schema_.find_signal(signal)->id, .item = "i", .user = "u", .time_us = t_us};
    apply::AppliedRecord r;
    r.type = wal::RecordType::kSignalEvent;
    r.signal = &rec;
    r.item = item;
    r.user = user;
    ASSERT_TRUE(store_.apply(r).ok());
  }
  double sim(uint32_t a, uint32_t b, int64_t now) {
    for (const users::ItemScore& s : store_.neighbours(a, now)) {
      if (s.item == b) return s.score;
    }
    return 0;
  }

  Schema schema_;
  users::UserStateStore store_;
};

// like = 0.1, view = 0.02 (the default learning rates); skip is negative.
TEST_F(UserStateRules, CoEngagementIsACosineOverRecentPairs) {
  const int64_t t = kStart;
  event(0, 1, "like", t);  // u0: w(1) = 0.1
  event(0, 2, "like", t);  // u0: w(2) = 0.1; co(1,2) = 0.01
  EXPECT_NEAR(sim(1, 2, t), 1.0, 1e-6);
  EXPECT_NEAR(sim(2, 1, t), 1.0, 1e-6);

  event(1, 1, "view", t);  // u1: w(1) = 0.02; norm²(1) = 0.01 + 0.0004
  event(1, 3, "view", t);  // u1: w(3) = 0.02; co(1,3) = 0.0004
  EXPECT_NEAR(sim(1, 2, t), 0.01 / std::sqrt(0.0104 * 0.01), 1e-6);
  EXPECT_NEAR(sim(1, 3, t), 0.0004 / std::sqrt(0.0104 * 0.0004), 1e-6);

  // u1 likes 1: w(1) 0.02 -> 0.12, so co(1,3) += 0.1 · 0.02 and
  // norm²(1) += 0.12² − 0.02².
  event(1, 1, "like", t);
  const double n1 = 0.0104 + 0.0144 - 0.0004;
  EXPECT_NEAR(sim(1, 3, t), 0.0024 / std::sqrt(n1 * 0.0004), 1e-6);
  EXPECT_NEAR(sim(1, 2, t), 0.01 / std::sqrt(n1 * 0.01), 1e-6);

  // u1's recent items, oldest first: 3 (0.02), then 1 (0.12).
  auto recent = store_.recent(1);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].item, 3u);
  EXPECT_EQ(recent[1].item, 1u);
  EXPECT_NEAR(recent[1].weight, 0.12, 1e-6);

  // co_engagement(u1, j) = Σ_r ρ_r · sim(r, j) / Σ_r ρ_r, ρ_r = 2^(−position/8) · w_r.
  std::vector<users::ItemScore> co = store_.co_engagement(1, t);
  ASSERT_EQ(co.size(), 3u);  // ascending by item: 1, 2, 3
  const double back = std::exp2(-1.0 / 8) * 0.02;
  const double total = back + 0.12;
  EXPECT_EQ(co[0].item, 1u);
  EXPECT_NEAR(co[0].score, back * sim(3, 1, t) / total, 1e-7);
  EXPECT_EQ(co[1].item, 2u);
  EXPECT_NEAR(co[1].score, 0.12 * sim(1, 2, t) / total, 1e-7);
  EXPECT_EQ(co[2].item, 3u);
  EXPECT_NEAR(co[2].score, 0.12 * sim(1, 3, t) / total, 1e-7);

  // A negative signal is seen but teaches no link.
  event(1, 4, "skip", t);
  EXPECT_TRUE(store_.seen(1)->contains(4));
  EXPECT_TRUE(store_.neighbours(4, t).empty());
  EXPECT_EQ(store_.recent(1).size(), 2u);
}

TEST_F(UserStateRules, WeightsHalveEveryThirtyDays) {
  const int64_t t = kStart;
  event(0, 1, "like", t);
  event(0, 2, "like", t);  // co(1,2) = 0.01, norm² 0.01 each
  event(1, 1, "like", t);
  event(1, 3, "like", t);  // co(1,3) = 0.01, norm²(1) = 0.02
  // 30 days on, u2 likes 1 then 3: the old weights have halved.
  event(2, 1, "like", t + 30 * kDay);
  event(2, 3, "like", t + 30 * kDay);
  const int64_t now = t + 30 * kDay;
  // norm²(1) = 0.02/2 + 0.01; co(1,3) = 0.01/2 + 0.01; norm²(3) = 0.01/2 + 0.01.
  EXPECT_NEAR(sim(1, 3, now), 0.015 / std::sqrt(0.02 * 0.015), 1e-6);
  EXPECT_NEAR(sim(1, 2, now), 0.005 / std::sqrt(0.02 * 0.005), 1e-6);
  // Read later, every weight has decayed alike: the cosines stay.
  EXPECT_NEAR(sim(1, 3, now + 90 * kDay), sim(1, 3, now), 1e-6);
}

TEST_F(UserStateRules, AFullLinkListKeepsTheHeaviestBySpaceSaving) {
  const int64_t t = kStart;
  // Item 0 is co-engaged with items 1..kLinks+1 by different users; the
  // first link is the heaviest (a like after a like).
  event(100, 0, "like", t);
  event(100, 1, "like", t);  // co(0,1) = 0.01
  for (uint32_t j = 2; j <= users::kLinks + 1; ++j) {
    event(j, 0, "view", t);
    event(j, j, "view", t);  // co(0,j) = 0.0004
  }
  std::vector<users::ItemScore> n = store_.neighbours(0, t);
  ASSERT_EQ(n.size(), users::kLinks);
  EXPECT_EQ(n[0].item, 1u);  // the heaviest stays
  // The last newcomer replaced the lightest and holds its weight plus its own.
  bool last = false;
  for (const users::ItemScore& s : n) last |= s.item == users::kLinks + 1;
  EXPECT_TRUE(last);
}

TEST_F(UserStateRules, TheRecentListIsBoundedAndDistinct) {
  for (uint32_t i = 0; i < users::kRecent + 10; ++i) event(0, i, "like", kStart + i);
  event(0, 20, "like", kStart + 100);  // moves to the newest end
  auto recent = store_.recent(0);
  ASSERT_EQ(recent.size(), users::kRecent);
  EXPECT_EQ(recent.back().item, 20u);
  EXPECT_NEAR(recent.back().weight, 0.2, 1e-6);
  EXPECT_EQ(store_.seen(0)->cardinality(), users::kRecent + 10);
}

// ---------------------------------------------------------------------------
// FEED FOR USER through the database

Schema feed_schema(bool with_vectors = true) {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  if (with_vectors) {
    b.add_attribute(EntityKind::kItem,
                    {.name = "embedding", .type = AttributeType::kVector, .vector_dim = 2});
  }
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  return b.build().value();
}

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open(bool with_vectors = true) {
    db_.reset();
    DatabaseOptions o;
    o.clock = &clock_;
    o.background_checkpoints = false;
    auto r = Database::open(dir_.str(), feed_schema(with_vectors), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  void item(const std::string& key, const std::string& creator, const std::string& category,
            std::vector<float> embedding = {}) {
    EntityWrite w{EntityKind::kItem, key, {{"creator", creator}, {"category", category}}};
    if (!embedding.empty()) w.attributes.push_back({"embedding", std::move(embedding)});
    ASSERT_TRUE(db_->upsert(w).ok());
  }
  void signal(const std::string& user, const std::string& item, const std::string& s) {
    SignalEvent e;
    e.item = item;
    e.user = user;
    e.signal = s;
    e.timestamp = clock_.now();
    ASSERT_TRUE(db_->ingest(e).ok());
  }
  std::vector<std::string> feed(const std::string& tql, QueryOptions o = {}) {
    std::vector<std::string> out;
    auto r = db_->query(tql, o);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
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
  // Five items a..e (creators c1, c2); users who liked pairs of them.
  void catalog() {
    item("a", "c1", "jazz", {1, 0});
    item("b", "c1", "jazz", {0.9f, 0.1f});
    item("c", "c2", "rock", {0, 1});
    item("d", "c2", "rock", {0.1f, 0.9f});
    item("e", "c3", "pop", {0.7f, 0.7f});
    for (const char* u : {"u1", "u2", "u3"}) {
      signal(u, "a", "like");
      signal(u, "b", "like");
    }
    signal("u4", "c", "like");
    signal("u4", "d", "like");
    for (const char* u : {"u5", "u6", "u7", "u8"}) signal(u, "e", "view");
  }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

TEST_F(FeedTest, WhatOthersCoEngagedComesFirstAndSeenItemsAreLeftOut) {
  catalog();
  signal("me", "a", "like");
  // b was liked with a by three users; a is seen.
  std::vector<std::string> rows = feed("FEED FOR USER 'me' LIMIT 10");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], "b");
  EXPECT_EQ(std::count(rows.begin(), rows.end(), "a"), 0);
  // include_seen keeps it.
  QueryOptions keep;
  keep.include_seen = true;
  rows = feed("FEED FOR USER 'me' LIMIT 10", keep);
  EXPECT_EQ(std::count(rows.begin(), rows.end(), "a"), 1);
}

TEST_F(FeedTest, APreferenceVectorFollowsTheEmbeddingsOfLikedItems) {
  catalog();
  signal("me", "c", "like");  // c is (0, 1): d is the nearest unseen item
  auto r = db_->query("FEED FOR USER 'me' PROFILE p LIMIT 3");
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(db_->query("CREATE PROFILE p AS preference").ok());
  EXPECT_THAT(feed("FEED FOR USER 'me' PROFILE p LIMIT 1"), ElementsAre("d"));
  // similarity(preference) is the same feature.
  ASSERT_TRUE(db_->query("CREATE PROFILE q AS similarity(preference)").ok());
  EXPECT_THAT(feed("FEED FOR USER 'me' PROFILE q LIMIT 1"), ElementsAre("d"));
}

TEST_F(FeedTest, BlockedAndMutedItemsAndCreatorsAreLeftOut) {
  catalog();
  signal("me", "e", "view");
  ASSERT_TRUE(db_->relate({.relation = Relation::kBlock,
                           .user = "me",
                           .target_kind = EntityKind::kItem,
                           .target = "a"})
                  .ok());
  ASSERT_TRUE(db_->relate({.relation = Relation::kMute, .user = "me", .target = "c2"}).ok());
  std::vector<std::string> rows = feed("FEED FOR USER 'me' LIMIT 10");
  EXPECT_THAT(rows, ElementsAre("b"));
}

TEST_F(FeedTest, FollowingRanksTheFollowedCreatorsNewestAndHottest) {
  catalog();
  ASSERT_TRUE(db_->relate({.user = "me", .target = "c2"}).ok());
  clock_.advance(std::chrono::hours(1));
  item("f", "c2", "rock");  // newer than c and d
  std::vector<std::string> rows = feed("FEED FOR USER 'me' PROFILE following LIMIT 3");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "f");
  EXPECT_THAT(std::vector<std::string>(rows.begin() + 1, rows.end()),
              UnorderedElementsAre("c", "d"));
  // followed is a feature: items of other creators score 0 under following.
  auto r = db_->query("FEED FOR USER 'me' PROFILE following LIMIT 10");
  ASSERT_TRUE(r.ok());
  for (const QueryRow& row : r->rows) {
    const bool theirs = row.key == "c" || row.key == "d" || row.key == "f";
    EXPECT_EQ(row.score > 0, theirs) << row.key;
  }
}

TEST_F(FeedTest, AnUnknownUserGetsTheColdStartFeed) {
  catalog();
  // The cold-start feed ranks by popularity: the hottest view, like items.
  std::vector<std::string> cold = feed("FEED FOR USER 'nobody' LIMIT 5");
  std::vector<std::string> hot = feed("RANK items BY hot(view) LIMIT 5");
  EXPECT_EQ(cold, hot);
  auto r = db_->query("EXPLAIN FEED FOR USER 'nobody' LIMIT 5");
  ASSERT_TRUE(r.ok());
  std::string plan;
  for (const PlanStage& s : r->plan) plan += s.name + ": " + s.detail + "\n";
  EXPECT_THAT(plan, HasSubstr("cold start"));
}

TEST_F(FeedTest, ExplainShowsEverySourceAndTheUserFilter) {
  catalog();
  signal("me", "a", "like");
  ASSERT_TRUE(db_->relate({.user = "me", .target = "c2"}).ok());
  auto r = db_->query("EXPLAIN FEED FOR USER 'me' WHERE category = 'jazz' LIMIT 5");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::string plan;
  for (const PlanStage& s : r->plan) plan += s.name + ": " + s.detail + "\n";
  for (const char* want :
       {"co-engagement", "preference(embedding)", "following", "trending", "fresh",
        "attribute indexes: category = 'jazz'", "seen items dropped", "score", "page"}) {
    EXPECT_THAT(plan, HasSubstr(want)) << plan;
  }
}

TEST_F(FeedTest, TheFeedSurvivesARestartUnchanged) {
  catalog();
  signal("me", "a", "like");
  signal("me", "c", "view");
  auto before = db_->query("FEED FOR USER 'me' LIMIT 10");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(db_->close().ok());
  open();
  auto after = db_->query("FEED FOR USER 'me' LIMIT 10");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(before->rows.size(), after->rows.size());
  for (size_t i = 0; i < before->rows.size(); ++i) {
    EXPECT_EQ(before->rows[i].key, after->rows[i].key);
    EXPECT_DOUBLE_EQ(before->rows[i].score, after->rows[i].score);
  }
}

TEST_F(FeedTest, BadInputIsRefusedNamingTheField) {
  catalog();
  Status s = error("FEED FOR USER 'me' PROFILE nope");
  EXPECT_EQ(s.field(), "profile");
  EXPECT_THAT(s.message(), HasSubstr("no such profile"));
  s = error("RANK items BY for_you");
  EXPECT_EQ(s.field(), "sort");
  EXPECT_THAT(s.message(), HasSubstr("FEED FOR USER"));
  s = error("RANK items BY co_engagement + hot");
  EXPECT_THAT(s.message(), HasSubstr("FOR USER 'u' on RANK and SEARCH"));
  s = error("CREATE PROFILE seen AS hot");
  EXPECT_EQ(s.field(), "profile");
  s = error("FEED FOR USER 'me' LIMIT 100000");
  EXPECT_THAT(s.message(), HasSubstr("LIMIT must be a whole number from 1 to 10000"));
}

// FOR USER on RANK and SEARCH: the user's features in any ranking, nothing
// filtered (a seen item stays).
TEST_F(FeedTest, RankAndSearchForAUserReadTheUserFeatures) {
  catalog();
  signal("me", "a", "like");
  ASSERT_TRUE(db_->relate({.user = "me", .target = "c2"}).ok());
  std::vector<std::string> rows = feed("RANK items FOR USER 'me' BY co_engagement LIMIT 2");
  EXPECT_THAT(rows, ElementsAre("b", "a"));  // a is linked to b, and b to a; a is not dropped
  auto r = db_->query("RANK items FOR USER 'me' BY followed DESC LIMIT 10");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  for (const QueryRow& row : r->rows) {
    EXPECT_EQ(row.score, row.key == "c" || row.key == "d" ? 1.0 : 0.0) << row.key;
  }
  EXPECT_FALSE(feed("RANK items FOR USER 'me' BY for_you LIMIT 3").empty());
  // The text printed back parses to the same statement.
  auto printed = Database::prepare("RANK items FOR COHORT young FOR USER 'me' BY seen");
  ASSERT_TRUE(printed.ok()) << printed.status().to_string();
  // FOR USER ranks items only; FOR COHORT in SEARCH still needs WITHIN TRENDING.
  EXPECT_FALSE(db_->query("RANK users FOR USER 'me' BY 1").ok());
  EXPECT_FALSE(Database::prepare("SEARCH items QUERY 'x' FOR COHORT c").ok());
}

// record_served: what a feed served is left out of the next feeds for an
// hour, counted by `served` until the user engages, and kept across restarts.
TEST_F(FeedTest, AServedItemIsNotRepeatedAndServedAgainRanksLower) {
  catalog();
  signal("me", "a", "like");
  QueryOptions record;
  record.record_served = true;
  EXPECT_THAT(feed("FEED FOR USER 'me' LIMIT 1", record), ElementsAre("b"));
  std::vector<std::string> next = feed("FEED FOR USER 'me' LIMIT 10");
  EXPECT_EQ(std::count(next.begin(), next.end(), "b"), 0);
  auto r = db_->query("EXPLAIN FEED FOR USER 'me' LIMIT 10");
  ASSERT_TRUE(r.ok());
  std::string plan;
  for (const PlanStage& s : r->plan) plan += s.detail + "\n";
  EXPECT_THAT(plan, HasSubstr("1 served in the last 1h dropped"));
  EXPECT_THAT(feed("RANK items FOR USER 'me' BY served LIMIT 1"), ElementsAre("b"));

  ASSERT_TRUE(db_->close().ok());
  open();
  clock_.advance(std::chrono::hours(2));  // past the suppression
  r = db_->query("RANK items FOR USER 'me' BY served LIMIT 1");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].key, "b");
  EXPECT_EQ(r->rows[0].score, 1.0);
  // for_you divides by 1 + 0.5 · served: b is back, scored a third lower.
  auto with = db_->query("FEED FOR USER 'me' LIMIT 10");
  ASSERT_TRUE(with.ok());
  bool back = false;
  for (const QueryRow& row : with->rows) back |= row.key == "b";
  EXPECT_TRUE(back);
  // Engaging ends the count.
  signal("me", "b", "view");
  r = db_->query("RANK items FOR USER 'me' BY served LIMIT 1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].score, 0.0);
}

TEST(FeedNoVectors, PreferenceNeedsAVectorAttribute) {
  testing::TempDir dir;
  DatabaseOptions o;
  o.background_checkpoints = false;
  auto db = Database::open(dir.str(), feed_schema(false), o);
  ASSERT_TRUE(db.ok());
  auto r = (*db)->query("CREATE PROFILE p AS preference + hot");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("item vector attributes: none"));
  // for_you has no preference term then, and works.
  EXPECT_TRUE((*db)->query("FEED FOR USER 'x' LIMIT 5").ok());
}

}  // namespace
}  // namespace tidal
