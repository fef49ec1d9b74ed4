// Cohorts through tidal::Database: definitions, membership, cohort ledgers,
// queries FOR COHORT, backfill from the cold tier, restarts, and bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "tidal/clock.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kStart = 1'700'000'000'000'000;

Schema cohort_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem,
                  {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(
      EntityKind::kUser,
      {.name = "age", .type = AttributeType::kInt, .filterable = true, .sortable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "interests", .type = AttributeType::kTags, .filterable = true});
  b.add_attribute(EntityKind::kUser, {.name = "nickname", .type = AttributeType::kKeyword});
  auto r = b.build();
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.value();
}

class CohortsTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open(const std::string& dir = "") {
    db_.reset();
    DatabaseOptions o;
    o.clock = &clock_;
    o.background_checkpoints = false;
    auto r = Database::open(dir.empty() ? dir_.str() : dir, cohort_schema(), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  void user(const std::string& key, const std::string& country, int64_t age,
            std::vector<std::string> interests = {}) {
    EntityWrite w{EntityKind::kUser,
                  key,
                  {{"country", country}, {"age", age}, {"interests", std::move(interests)}}};
    auto r = db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kAllOrNothing);
    ASSERT_EQ(r.accepted, 1u) << (r.errors.empty() ? "" : r.errors[0].to_string());
  }
  void like(const std::string& item, const std::string& who, int64_t minutes_ago = 0,
            Database* db = nullptr) {
    SignalEvent e;
    e.item = item;
    e.user = who;
    e.signal = "like";
    // A distinct microsecond each: the same event twice would be a duplicate.
    e.timestamp = from_micros(to_micros(clock_.now()) - minutes_ago * 60'000'000 - ++events_);
    auto r = (db ? db : db_.get())->ingest(e);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }
  QueryResult q(const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    return r.ok() ? *r : QueryResult{};
  }
  std::vector<std::string> keys(const std::string& tql) {
    std::vector<std::string> out;
    for (const QueryRow& row : q(tql).rows)
      out.push_back(row.key + "=" + std::to_string(row.score));
    return out;
  }
  std::vector<std::string> cohorts_of(const std::string& u) {
    auto r = db_->user_cohorts(u);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : std::vector<std::string>{};
  }
  void wait() { ASSERT_TRUE(db_->wait_for_backfills(std::chrono::seconds(30)).ok()); }

  int64_t events_ = 0;
  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

TEST_F(CohortsTest, MembershipFollowsEveryUserWrite) {
  user("ann", "US", 20, {"jazz"});
  user("bob", "US", 40, {"jazz"});
  user("cat", "DE", 22, {"rock"});
  q("CREATE COHORT young_us WHERE age BETWEEN 18 AND 24 AND country = 'US'");
  q("CREATE COHORT jazz WHERE 'jazz' IN interests");
  auto info = db_->cohort("young_us");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->members, 1u);
  EXPECT_EQ(info->predicate, "age BETWEEN 18 AND 24 AND country = 'US'");
  EXPECT_THAT(cohorts_of("ann"), ElementsAre("jazz", "young_us"));
  EXPECT_THAT(cohorts_of("cat"), IsEmpty());

  user("cat", "US", 22, {"jazz"});  // moves in
  EXPECT_THAT(cohorts_of("cat"), ElementsAre("jazz", "young_us"));
  EntityWrite patch{EntityKind::kUser, "ann", {{"age", int64_t{30}}}};
  ASSERT_TRUE(db_->patch(patch).ok());  // moves out of one
  EXPECT_THAT(cohorts_of("ann"), ElementsAre("jazz"));
  ASSERT_TRUE(db_->remove(EntityKind::kUser, "bob").ok());
  EXPECT_EQ(db_->cohort("jazz")->members, 2u);
  EXPECT_EQ(db_->user_cohorts("bob").status().code(), StatusCode::kNotFound);
  user("dan", "US", 19);
  EXPECT_EQ(db_->cohort("young_us")->members, 2u);
}

TEST_F(CohortsTest, EventsCountTowardTheCohortsOfTheirUserWhenApplied) {
  user("ann", "US", 20);
  user("bob", "DE", 20);
  q("CREATE COHORT us WHERE country = 'US'");
  like("v1", "ann");
  like("v1", "ann");
  like("v2", "ann");
  like("v2", "bob");
  like("v2", "bob");
  like("v2", "bob");
  like("v3", "");        // anonymous: no cohort
  like("v3", "nobody");  // never written: no cohort
  EXPECT_THAT(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"),
              ElementsAre("v1=2.000000", "v2=1.000000"));
  EXPECT_THAT(keys("TRENDING items BY like WINDOW 1h"),
              ElementsAre("v2=4.000000", "v1=2.000000", "v3=2.000000"));
  // Every signal feature of a RANK reads the cohort's ledgers.
  EXPECT_THAT(keys("RANK items FOR COHORT us BY count(like, 1h) LIMIT 2"),
              ElementsAre("v1=2.000000", "v2=1.000000"));
  EXPECT_THAT(keys("RANK items FOR COHORT us BY hot(like) LIMIT 3"),
              ElementsAre(HasSubstr("v1=2.0"), HasSubstr("v2=1.0"), "v3=0.000000"));

  // A user who leaves takes no past events along; later ones no longer count.
  user("ann", "DE", 20);
  like("v2", "ann");
  EXPECT_THAT(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"),
              ElementsAre("v1=2.000000", "v2=1.000000"));
  // One who joins counts from then on.
  user("bob", "US", 20);
  like("v3", "bob");
  EXPECT_THAT(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"),
              ElementsAre("v1=2.000000", "v2=1.000000", "v3=1.000000"));
  auto plan = q("EXPLAIN TRENDING items FOR COHORT us BY like WINDOW 1h");
  EXPECT_THAT(plan.explain_text(), HasSubstr("cohort"));
  EXPECT_GT(db_->stats().cohort_updates, 0u);
}

// The same events with the cohort defined first, or last (backfilled from
// the cold tier), give the same answers.
TEST_F(CohortsTest, ABackfilledCohortAnswersLikeOneDefinedFirst) {
  testing::TempDir other;
  auto load = [&](bool define_first) {
    for (const char* u : {"u0", "u1", "u2", "u3", "u4", "u5"}) {
      const int n = u[1] - '0';
      user(u, n % 2 ? "US" : "DE", 18 + n);
    }
    if (define_first) q("CREATE COHORT us WHERE country = 'US'");
    for (int i = 0; i < 300; ++i) {
      like("v" + std::to_string(i % 17), "u" + std::to_string(i % 6), (i * 7) % 600);
    }
    if (!define_first) {
      q("CREATE COHORT us WHERE country = 'US'");
      wait();
    }
    std::vector<std::vector<std::string>> answers;
    for (const char* tql : {"TRENDING items FOR COHORT us BY like WINDOW 1h LIMIT 50",
                            "TRENDING items FOR COHORT us BY like WINDOW 24h LIMIT 50",
                            "RANK items FOR COHORT us BY hot(like) LIMIT 50",
                            "RANK items FOR COHORT us BY rising(like, 1h) LIMIT 50"}) {
      answers.push_back(keys(tql));
    }
    return answers;
  };
  auto first = load(true);
  open(other.str());
  auto last = load(false);
  EXPECT_EQ(first, last);
  auto info = db_->cohort("us");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->backfilling);
  EXPECT_EQ(info->backfill_events_read, 300u);
  EXPECT_EQ(info->backfill_events_counted, 150u);
}

TEST_F(CohortsTest, CohortsSurviveCheckpointsAndRestarts) {
  user("ann", "US", 20);
  q("CREATE COHORT us WHERE country = 'US'");
  q("CREATE COHORT old WHERE age > 60");
  like("v1", "ann");
  ASSERT_TRUE(db_->checkpoint().ok());
  like("v2", "ann");
  like("v2", "ann");
  q("DROP COHORT old");
  auto before = keys("TRENDING items FOR COHORT us BY like WINDOW 1h");
  open();  // close checkpoints; reopen restores
  EXPECT_EQ(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"), before);
  EXPECT_EQ(db_->cohorts().size(), 1u);
  EXPECT_THAT(cohorts_of("ann"), ElementsAre("us"));
  like("v3", "ann");
  q("CREATE COHORT old WHERE age > 60");
  q("CREATE COHORT twenties WHERE age BETWEEN 20 AND 29");
  auto before_close = keys("TRENDING items FOR COHORT us BY like WINDOW 1h");
  open();
  EXPECT_EQ(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"), before_close);
  wait();
  EXPECT_THAT(keys("TRENDING items FOR COHORT twenties BY like WINDOW 1h"),
              ElementsAre("v2=2.000000", "v1=1.000000", "v3=1.000000"));
}

TEST_F(CohortsTest, BadDefinitionsAreClearErrorsAndChangeNothing) {
  user("ann", "US", 20);
  auto err = [&](const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_FALSE(r.ok()) << tql;
    return r.ok() ? std::string() : r.status().to_string();
  };
  EXPECT_THAT(err("CREATE COHORT x WHERE shoe_size = 3"), HasSubstr("shoe_size"));
  EXPECT_EQ(db_->query("CREATE COHORT x WHERE shoe_size = 3").status().field(), "where.shoe_size");
  EXPECT_THAT(err("CREATE COHORT x WHERE nickname = 'a'"), HasSubstr("nickname"));
  EXPECT_THAT(err("CREATE COHORT x WHERE age = 'old'"), HasSubstr("age"));
  EXPECT_THAT(err("CREATE COHORT Big WHERE age > 3"), HasSubstr("lowercase"));
  q("CREATE COHORT x WHERE age > 3");
  EXPECT_THAT(err("CREATE COHORT x WHERE age > 4"), HasSubstr("exists already"));
  EXPECT_THAT(err("DROP COHORT nope"), HasSubstr("no cohort nope"));
  EXPECT_THAT(err("TRENDING items FOR COHORT nope BY like WINDOW 1h"),
              HasSubstr("no cohort nope (cohorts: x)"));
  EXPECT_EQ(db_->cohorts().size(), 1u);
  EXPECT_EQ(db_->cohort("x")->predicate, "age > 3");
}

// Cohort features in expressions: one expression compares an audience with
// everyone (over-indexing), and cohort_trending ranks by it.
TEST_F(CohortsTest, CohortFeaturesCompareAnAudienceWithEveryone) {
  user("ann", "US", 20);
  user("bob", "DE", 20);
  q("CREATE COHORT us WHERE country = 'US'");
  for (int i = 0; i < 2; ++i) like("v1", "ann");  // c = 2, g = 2
  like("v2", "ann");                              // c = 1, g = 4
  for (int i = 0; i < 3; ++i) like("v2", "bob");
  for (int i = 0; i < 2; ++i) like("v3", "ann");  // c = 2, g = 6
  for (int i = 0; i < 4; ++i) like("v3", "bob");
  like("v4", "bob");  // c = 0

  // cohort_trending = c * (c + 1) / (g + 1).
  EXPECT_THAT(keys("RANK items FOR COHORT us BY cohort_trending(like, 1h) LIMIT 3"),
              ElementsAre("v1=2.000000", "v3=0.857143", "v2=0.400000"));
  EXPECT_THAT(
      q("EXPLAIN RANK items FOR COHORT us BY cohort_trending(like, 1h) LIMIT 2").explain_text(),
      HasSubstr("upper bound"));
  // The same comparison written out, without FOR COHORT.
  EXPECT_THAT(keys("RANK items BY count(like, 1h, cohort = us) / (count(like, 1h) + 1) LIMIT 2"),
              ElementsAre("v1=0.666667", "v3=0.285714"));
  // cohort = all reads everyone's state inside FOR COHORT.
  EXPECT_THAT(keys("RANK items FOR COHORT us BY decay(like, cohort = all) - decay(like) LIMIT 1"),
              ElementsAre(HasSubstr("v3=4.0")));
  // A bare scoped feature is served from that cohort's trending index.
  EXPECT_THAT(keys("RANK items BY count(like, 1h, cohort = us) LIMIT 2"),
              ElementsAre("v1=2.000000", "v3=2.000000"));
  EXPECT_THAT(q("EXPLAIN RANK items BY count(like, 1h, cohort = us) LIMIT 2").explain_text(),
              HasSubstr("trending index"));

  // Stored profiles may name a cohort, which then cannot be dropped.
  q("CREATE PROFILE over_us AS count(like, 24h, cohort = us) / (count(like, 24h) + 1)");
  EXPECT_THAT(keys("RANK items BY over_us LIMIT 1"), ElementsAre("v1=0.666667"));
  auto drop = db_->query("DROP COHORT us");
  ASSERT_FALSE(drop.ok());
  EXPECT_THAT(drop.status().message(), HasSubstr("profile over_us reads cohort us"));
  EXPECT_EQ(drop.status().field(), "name");
  q("CREATE PROFILE over_us AS count(like, 24h)");
  q("DROP COHORT us");

  auto err = [&](const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_FALSE(r.ok()) << tql;
    return r.ok() ? Status::Ok() : r.status();
  };
  EXPECT_THAT(err("RANK items BY cohort_trending").message(), HasSubstr("needs FOR COHORT"));
  Status unknown = err("RANK items BY count(like, 1h, cohort = us)");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.field(), "sort");
  EXPECT_THAT(err("CREATE PROFILE p AS decay(like, cohort = nope)").message(),
              HasSubstr("no cohort nope"));
  EXPECT_THAT(err("RANK items BY log1p(like, cohort = all)").message(),
              HasSubstr("only a signal feature"));
  EXPECT_THAT(err("RANK items BY decay(like, cohort = 3)").message(), HasSubstr("cohort = takes"));
  EXPECT_THAT(err("CREATE COHORT all WHERE age > 1").message(), HasSubstr("reserved"));
}

TEST_F(CohortsTest, RankUsersInACohort) {
  user("ann", "US", 20);
  user("bob", "US", 40);
  user("cat", "DE", 22);
  user("dan", "US", 30);
  q("CREATE COHORT us WHERE country = 'US'");
  q("CREATE COHORTS by_country BY country");
  EXPECT_THAT(keys("RANK users BY age WHERE IN COHORT us LIMIT 10"),
              ElementsAre("bob=40.000000", "dan=30.000000", "ann=20.000000"));
  EXPECT_THAT(keys("RANK users BY age ASC WHERE age < 35 AND IN COHORT us LIMIT 10"),
              ElementsAre("ann=20.000000", "dan=30.000000"));
  EXPECT_THAT(keys("RANK users BY age WHERE IN COHORT 'by_country:DE' LIMIT 10"),
              ElementsAre("cat=22.000000"));
  EXPECT_THAT(q("EXPLAIN RANK users BY age WHERE IN COHORT us").explain_text(),
              HasSubstr("IN COHORT us (3 members)"));
  // Membership follows user writes at once.
  user("dan", "DE", 30);
  EXPECT_THAT(keys("RANK users BY age WHERE IN COHORT us LIMIT 10"),
              ElementsAre("bob=40.000000", "ann=20.000000"));

  auto err = [&](const std::string& tql) {
    auto r = db_->query(tql);
    EXPECT_FALSE(r.ok()) << tql;
    return r.ok() ? Status::Ok() : r.status();
  };
  EXPECT_THAT(err("RANK items BY hot WHERE IN COHORT us").message(), HasSubstr("set of users"));
  EXPECT_THAT(err("RANK users BY age WHERE IN COHORT nope").message(), HasSubstr("no cohort nope"));
  EXPECT_THAT(err("RANK users BY age WHERE age > 3 OR IN COHORT us").message(),
              HasSubstr("IN COHORT under OR or NOT"));
}

TEST_F(CohortsTest, ADroppedCohortCanBeDefinedAgainFromScratch) {
  user("ann", "US", 20);
  q("CREATE COHORT us WHERE country = 'US'");
  like("v1", "ann");
  q("DROP COHORT us");
  q("CREATE COHORT us WHERE country = 'DE'");
  wait();
  EXPECT_THAT(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"), IsEmpty());
  ASSERT_TRUE(db_->checkpoint().ok());
  open();
  EXPECT_THAT(keys("TRENDING items FOR COHORT us BY like WINDOW 1h"), IsEmpty());
  EXPECT_EQ(db_->cohort("us")->predicate, "country = 'DE'");
}

TEST_F(CohortsTest, AFamilyHasACohortPerValueAndPerBucket) {
  user("ann", "US", 20);
  user("bob", "DE", 40);
  like("v1", "ann");
  like("v2", "bob");
  q("CREATE COHORTS by_country BY country");
  q("CREATE COHORTS by_age BY age BUCKETS (13, 18, 25, 35, 50)");
  wait();
  std::vector<std::string> names;
  for (const CohortInfo& c : db_->cohorts()) names.push_back(c.name + "=" + c.predicate);
  EXPECT_THAT(names, ElementsAre("by_age:18-25=age >= 18 AND age < 25",
                                 "by_age:35-50=age >= 35 AND age < 50",
                                 "by_country:DE=country = 'DE'", "by_country:US=country = 'US'"));
  EXPECT_THAT(cohorts_of("ann"), ElementsAre("by_age:18-25", "by_country:US"));
  // Backfilled: the events from before the families.
  EXPECT_THAT(keys("TRENDING items FOR COHORT 'by_country:US' BY like WINDOW 1h"),
              ElementsAre("v1=1.000000"));
  // A new value gets its cohort when a user first has it; earlier events
  // of that user were not a member's.
  like("v3", "cat");
  user("cat", "BR", 70);
  like("v4", "cat");
  EXPECT_THAT(cohorts_of("cat"), ElementsAre("by_age:50+", "by_country:BR"));
  EXPECT_THAT(keys("TRENDING items FOR COHORT 'by_country:BR' BY like WINDOW 1h"),
              ElementsAre("v4=1.000000"));
  auto err = db_->query("DROP COHORT 'by_country:BR'");
  ASSERT_FALSE(err.ok());
  EXPECT_THAT(err.status().to_string(), HasSubstr("belongs to the cohort family by_country"));
  err = db_->query("CREATE COHORTS by_age2 BY age");
  ASSERT_FALSE(err.ok());
  EXPECT_THAT(err.status().to_string(), HasSubstr("BUCKETS"));
  err = db_->query("CREATE COHORTS x BY age BUCKETS (18, 13)");
  ASSERT_FALSE(err.ok());
  EXPECT_THAT(err.status().to_string(), HasSubstr("must increase"));
  err = db_->query("CREATE COHORTS x BY nickname");
  ASSERT_FALSE(err.ok());
  EXPECT_THAT(err.status().to_string(), HasSubstr("not filterable"));
  // Families and their cohorts survive a restart.
  open();
  EXPECT_EQ(db_->cohorts().size(), 6u);
  user("dan", "FR", 30);
  EXPECT_THAT(cohorts_of("dan"), ElementsAre("by_age:25-35", "by_country:FR"));
  q("DROP COHORT by_country");
  EXPECT_THAT(cohorts_of("dan"), ElementsAre("by_age:25-35"));
  open();
  EXPECT_THAT(cohorts_of("dan"), ElementsAre("by_age:25-35"));
  user("eve", "FR", 30);
  EXPECT_THAT(cohorts_of("eve"), ElementsAre("by_age:25-35"));
}

}  // namespace
}  // namespace tidal
