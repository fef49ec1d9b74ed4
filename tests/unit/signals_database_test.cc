// Database-level regressions of the signal engine: the present of a
// historical import survives a restart, and an event a few minutes ahead of
// the clock does not push older events out of the windows.
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kStart = 1'700'000'100'000'000 / (5 * kMinute) * (5 * kMinute);

Schema schema() {
  return SchemaBuilder::with_default_signals().build().value();
}

SignalEvent like(std::string item, int64_t t_us) {
  SignalEvent e;
  e.item = std::move(item);
  e.signal = "like";
  e.timestamp = from_micros(t_us);
  return e;
}

TEST(SignalsDatabase, HistoricalImportKeepsItsPresentAcrossARestart) {
  testing::TempDir dir;
  DatabaseOptions o;
  o.historical_import = true;
  o.durability = Durability::kNone;
  o.background_checkpoints = false;
  const int64_t t = 1'000'000'000'000'000;  // 2001
  {
    auto db = Database::open(dir.str(), schema(), o).value();
    ASSERT_TRUE(db->ingest(like("a", t - 10 * kMinute)).ok());
    ASSERT_TRUE(db->ingest(like("a", t)).ok());
    EXPECT_EQ(to_micros(db->now()), t);
    ASSERT_TRUE(db->close().ok());  // checkpoints: the WAL is empty after it
  }
  auto db = Database::open(dir.str(), schema(), o).value();
  EXPECT_EQ(to_micros(db->now()), t);
  auto s = db->item_signals("a").value();
  EXPECT_EQ(s.signals[1].windows[0].count, 2u);
  EXPECT_NEAR(s.signals[1].decayed, 1 + std::exp2(-10.0 / 720), 1e-12);
}

TEST(SignalsDatabase, AnEventAheadOfTheClockKeepsTheWindowWhole) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kStart));
  DatabaseOptions o;
  o.clock = &clock;
  o.durability = Durability::kNone;
  o.background_checkpoints = false;
  auto db = Database::open(dir.str(), schema(), o).value();
  // The oldest 5-minute bucket of the 1h window, and of the one before it.
  ASSERT_TRUE(db->ingest(like("a", kStart - 55 * kMinute)).ok());
  ASSERT_TRUE(db->ingest(like("a", kStart - 115 * kMinute)).ok());
  ASSERT_TRUE(db->ingest(like("a", kStart + 5 * kMinute)).ok());  // the next bucket
  WindowSignal w = db->item_signals("a")->signals[1].windows[0];
  EXPECT_EQ(w.count, 1u);
  EXPECT_EQ(w.previous_count, 1u);
  db.reset();  // closes (with a checkpoint) and unlocks the folder
  // Restored with another max_future_skew, the buckets are where they were.
  o.max_future_skew = std::chrono::minutes(30);
  auto again = Database::open(dir.str(), schema(), o);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  w = (*again)->item_signals("a")->signals[1].windows[0];
  EXPECT_EQ(w.count, 1u);
  EXPECT_EQ(w.previous_count, 1u);
}

}  // namespace
}  // namespace tidal
