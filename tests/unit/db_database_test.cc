#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;

constexpr int64_t kStart = 1'700'000'000'000'000;  // 2023-11-14, in microseconds

template <typename D>
int64_t us(D d) {
  return std::chrono::duration_cast<Duration>(d).count();
}

Schema test_schema() {
  return SchemaBuilder::with_default_signals().build().value();
}

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(DatabaseOptions o = {}) {
    db_.reset();
    o.clock = &clock_;
    o.background_checkpoints = false;
    auto r = Database::open(dir_.str(), test_schema(), o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }

  SignalEvent ev(std::string item, std::string signal, int64_t t_us, double value = 1.0,
                 std::string user = "u1") {
    SignalEvent e;
    e.item = std::move(item);
    e.user = std::move(user);
    e.signal = std::move(signal);
    e.timestamp = from_micros(t_us);
    e.value = value;
    return e;
  }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, IngestIsVisibleToTheNextRead) {
  ASSERT_TRUE(db_->ingest(ev("a", "like", kStart)).ok());
  auto s = db_->item_signals("a");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_FALSE(s->registered);
  const SignalSnapshot& like = s->signals[1];
  EXPECT_EQ(like.signal, "like");
  EXPECT_DOUBLE_EQ(like.decayed, 1.0);
  ASSERT_EQ(like.windows.size(), 3u);
  EXPECT_EQ(like.windows[0].count, 1u);
  EXPECT_EQ(like.windows[0].velocity, 1.0);
}

TEST_F(DatabaseTest, DecayFollowsTheHalfLife) {
  ASSERT_TRUE(db_->ingest(ev("a", "like", kStart)).ok());  // like: half-life 12h
  clock_.advance(hours(12));
  auto s = db_->item_signals("a").value();
  EXPECT_NEAR(s.signals[1].decayed, 0.5, 1e-12);
  clock_.advance(hours(12));
  EXPECT_NEAR(db_->item_signals("a")->signals[1].decayed, 0.25, 1e-12);
}

TEST_F(DatabaseTest, DuplicatesAreAppliedOnce) {
  auto first = db_->ingest(ev("a", "view", kStart));
  auto again = db_->ingest(ev("a", "view", kStart));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);
  EXPECT_EQ(db_->item_signals("a")->signals[0].windows[0].count, 1u);
}

TEST_F(DatabaseTest, TrendingHotTopAndRising) {
  std::vector<SignalEvent> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(ev("a", "share", kStart - us(minutes(30)) + i));
  for (int i = 0; i < 3; ++i) batch.push_back(ev("b", "share", kStart - i));
  batch.push_back(ev("c", "share", kStart - us(hours(2))));
  BatchIngestResult r = db_->ingest(batch);
  ASSERT_EQ(r.rejected, 0u) << r.errors[0].to_string();

  auto hot = db_->trending({TrendingKind::kHot, "share", {}, 10});
  ASSERT_TRUE(hot.ok());
  ASSERT_EQ(hot->size(), 3u);
  EXPECT_EQ((*hot)[0].item, "a");
  EXPECT_EQ((*hot)[1].item, "b");
  EXPECT_EQ((*hot)[2].item, "c");

  auto top = db_->trending({TrendingKind::kTop, "share", hours(1), 10}).value();
  ASSERT_EQ(top.size(), 2u);  // c is outside the last hour
  EXPECT_EQ(top[0].item, "a");
  EXPECT_EQ(top[0].score, 5);
  EXPECT_EQ(top[1].score, 3);

  auto rising = db_->trending({TrendingKind::kRising, "share", hours(1), 10}).value();
  EXPECT_EQ(rising[0].item, "a");

  // Two hours later the 1h windows are empty again.
  clock_.advance(hours(2));
  EXPECT_TRUE(db_->trending({TrendingKind::kTop, "share", hours(1), 10})->empty());
}

TEST_F(DatabaseTest, BadInputNamesFieldValueAndRule) {
  auto unknown = db_->ingest(ev("a", "poke", kStart));
  EXPECT_THAT(unknown.status().message(), HasSubstr("signal = \"poke\""));
  auto nan = db_->ingest(ev("a", "dwell_time", kStart, std::nan("")));
  EXPECT_THAT(nan.status().message(), HasSubstr("must be finite"));
  auto negative = db_->ingest(ev("a", "dwell_time", kStart, -3));
  EXPECT_THAT(negative.status().message(), HasSubstr("must be >= 0"));
  auto counted = db_->ingest(ev("a", "like", kStart, 2));
  EXPECT_THAT(counted.status().message(), HasSubstr("counts events"));
  auto old = db_->ingest(ev("a", "like", kStart - us(hours(24 * 8))));
  EXPECT_EQ(old.status().field(), "timestamp");
  auto future = db_->ingest(ev("a", "like", kStart + us(minutes(6))));
  EXPECT_EQ(future.status().field(), "timestamp");
  auto empty = db_->ingest(ev("", "like", kStart));
  EXPECT_EQ(empty.status().field(), "item");
  auto bad_utf8 = db_->ingest(ev("\xff\xfe", "like", kStart));
  EXPECT_THAT(bad_utf8.status().message(), HasSubstr("UTF-8"));
  auto window = db_->trending({TrendingKind::kTop, "like", hours(2), 10});
  EXPECT_THAT(window.status().message(), HasSubstr("its windows: 1h, 1d, 7d"));
  auto rising = db_->trending({TrendingKind::kRising, "skip", hours(24), 10});
  EXPECT_THAT(rising.status().message(), HasSubstr("velocity"));
  EXPECT_EQ(db_->stats().events_applied, 0u);
}

TEST_F(DatabaseTest, BatchAppliesValidEventsOrNone) {
  std::vector<SignalEvent> batch = {ev("a", "like", kStart), ev("b", "nope", kStart),
                                    ev("c", "like", kStart)};
  BatchIngestResult some = db_->ingest(batch);
  EXPECT_EQ(some.accepted, 2u);
  EXPECT_EQ(some.rejected, 1u);
  EXPECT_EQ(some.errors[1].field(), "signal");
  batch[0].item = "d";
  batch[2].item = "e";
  BatchIngestResult none = db_->ingest(batch, BatchMode::kAllOrNothing);
  EXPECT_EQ(none.accepted, 0u);
  EXPECT_FALSE(db_->item_signals("d").ok());
  EXPECT_FALSE(db_->item_signals("e").ok());
}

TEST_F(DatabaseTest, StrictItemsRejectsUnknownItems) {
  DatabaseOptions o;
  o.strict_items = true;
  open(o);
  auto r = db_->ingest(ev("a", "like", kStart));
  EXPECT_THAT(r.status().message(), HasSubstr("not a registered item"));
  ASSERT_TRUE(db_->upsert({.key = "a"}).ok());
  EXPECT_TRUE(db_->ingest(ev("a", "like", kStart)).ok());
  EXPECT_TRUE(db_->item_signals("a")->registered);
}

TEST_F(DatabaseTest, RecoversWithAndWithoutCheckpoint) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(db_->ingest(ev("item" + std::to_string(i % 7), "view", kStart - i * 1000)).ok());
  }
  ASSERT_TRUE(db_->checkpoint().ok());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(
        db_->ingest(ev("item" + std::to_string(i % 5), "dwell_time", kStart - i, 2.5)).ok());
  }
  auto before = db_->trending({TrendingKind::kHot, "view", {}, 10}).value();
  auto dwell = db_->item_signals("item3").value();
  open();  // the destructor closes; the WAL after the checkpoint is replayed
  auto after = db_->trending({TrendingKind::kHot, "view", {}, 10}).value();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].item, after[i].item);
    EXPECT_DOUBLE_EQ(before[i].score, after[i].score);
  }
  auto dwell2 = db_->item_signals("item3").value();
  EXPECT_DOUBLE_EQ(dwell.signals[5].windows[0].sum, dwell2.signals[5].windows[0].sum);
  EXPECT_DOUBLE_EQ(dwell.signals[5].decayed, dwell2.signals[5].decayed);
}

TEST_F(DatabaseTest, HistoricalImportFollowsEventTime) {
  DatabaseOptions o;
  o.historical_import = true;
  open(o);
  int64_t y2000 = 946'684'800'000'000;
  ASSERT_TRUE(db_->ingest(ev("old", "like", y2000)).ok());
  EXPECT_EQ(to_micros(db_->now()), y2000);
  EXPECT_EQ(db_->item_signals("old")->signals[1].windows[0].count, 1u);
}

}  // namespace
}  // namespace tidal

namespace tidal {
namespace {

TEST(DatabaseBackgroundTest, CheckpointsByAgeWithoutBeingAsked) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kStart));
  DatabaseOptions o;
  o.clock = &clock;
  o.checkpoint_interval = std::chrono::seconds(1);
  auto db = Database::open(dir.str(), test_schema(), o).value();
  SignalEvent e;
  e.item = "a";
  e.signal = "view";
  e.timestamp = from_micros(kStart);
  ASSERT_TRUE(db->ingest(e).ok());
  EXPECT_EQ(db->stats().checkpoint_sequence, 0u);
  // The background thread looks once a second; give it a few chances.
  for (int i = 0; i < 50 && db->stats().checkpoint_sequence == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(db->stats().checkpoint_sequence, 1u);
}

TEST(DatabaseBackgroundTest, CheckpointsByWalSize) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kStart));
  DatabaseOptions o;
  o.clock = &clock;
  o.checkpoint_wal_bytes = 1;  // any write is enough
  o.checkpoint_interval = std::chrono::hours(1);
  auto db = Database::open(dir.str(), test_schema(), o).value();
  SignalEvent e;
  e.item = "a";
  e.signal = "like";
  e.timestamp = from_micros(kStart);
  ASSERT_TRUE(db->ingest(e).ok());
  for (int i = 0; i < 50 && db->stats().checkpoint_sequence == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(db->stats().checkpoint_sequence, 1u);
}

}  // namespace
}  // namespace tidal
