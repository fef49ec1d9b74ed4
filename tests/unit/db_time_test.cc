// The database's present and decayed scores across restarts (docs/time.md):
// regressions of issue 18's findings, each failing before its fix.
#include <gtest/gtest.h>

#include <cmath>

#include "db/present.h"
#include "signals/global_ledger.h"
#include "storage/memory_engine.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kNow = 1'765'000'000'000'000;  // 2025-12-06

Schema schema() {
  return SchemaBuilder::with_default_signals().build().value();
}

SignalEvent view(std::string item, int64_t t_us, std::string user = "u1") {
  return {.item = std::move(item),
          .user = std::move(user),
          .signal = "view",
          .timestamp = from_micros(t_us)};
}

DatabaseOptions options(const Clock* clock, bool historical) {
  DatabaseOptions o;
  o.clock = clock;
  o.historical_import = historical;
  o.background_checkpoints = false;
  o.sweep_interval = Duration(0);
  o.durability = Durability::kNone;
  return o;
}

double decayed(Database& db, const std::string& item, std::string_view signal = "view") {
  ItemSignals signals = db.item_signals(item).value();
  for (const SignalSnapshot& s : signals.signals) {
    if (s.signal == signal) return s.decayed;
  }
  return -1;
}

// Finding 1: items a and b get events 80 days before c. c's event moves the
// landmark of `view` (6h half-life: 320 half-lives > 200/ln 2); the
// checkpoint used to save the new landmark with only c's score, so a and b
// came back scored relative to the old landmark, e^222 too high.
TEST(DatabaseTime, DecayedScoresSurviveARestartAfterALandmarkRebase) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kNow));
  {
    auto db = Database::open(dir.str(), schema(), options(&clock, true)).value();
    ASSERT_TRUE(db->ingest(view("a", kNow - 80 * kDay)).ok());
    ASSERT_TRUE(db->ingest(view("b", kNow - 80 * kDay)).ok());
    ASSERT_TRUE(db->ingest(view("b", kNow - 80 * kDay, "u2")).ok());
    ASSERT_TRUE(db->close().ok());
  }
  {
    auto db = Database::open(dir.str(), schema(), options(&clock, true)).value();
    ASSERT_TRUE(db->ingest(view("c", kNow - kHour)).ok());
    ASSERT_TRUE(db->close().ok());
  }
  auto db = Database::open(dir.str(), schema(), options(&clock, false)).value();
  // The present is c's event time (the database is historical).
  EXPECT_EQ(to_micros(db->now()), kNow - kHour);
  const double a = std::exp2(-(80.0 * 24 - 1) / 6);  // 2^-(1919 h / 6 h) ≈ 1e-96
  EXPECT_NEAR(decayed(*db, "a") / a, 1.0, 1e-9);
  EXPECT_NEAR(decayed(*db, "b") / (2 * a), 1.0, 1e-9);
  EXPECT_NEAR(decayed(*db, "c"), 1.0, 1e-12);
  auto top = db->trending({.kind = TrendingKind::kHot, .signal = "view", .limit = 3}).value();
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, "c");
  EXPECT_EQ(top[1].item, "b");
}

// The same at the ledger: after a rebase the checkpoint writes every item.
TEST(DatabaseTime, ALedgerCheckpointAfterARebaseWritesEveryItem) {
  Schema s = schema();
  signals::GlobalLedger ledger(s, 10);
  MemoryEngine engine;
  auto apply = [&](uint32_t item, int64_t t) {
    apply::SignalRecord e{.signal = 0, .item = "x", .user = "", .time_us = t, .value = 1};
    apply::AppliedRecord r{.type = wal::RecordType::kSignalEvent, .signal = &e, .item = item};
    ASSERT_TRUE(ledger.apply(r).ok());
  };
  auto checkpoint = [&]() -> size_t {
    WriteBatch batch;
    EXPECT_TRUE(ledger.checkpoint(&batch).ok());
    EXPECT_TRUE(engine.write(batch, WriteMode::kDerived).ok());
    ledger.end_checkpoint(true);
    return batch.ops().size();
  };
  for (uint32_t i = 0; i < 5; ++i) apply(i, kNow - 80 * kDay);
  checkpoint();
  apply(5, kNow);  // rebases `view`
  EXPECT_EQ(ledger.ledger(0).rebases(), 1u);
  // Six items plus one landmark per signal type.
  EXPECT_EQ(checkpoint(), 6 + s.signals().size());
  signals::GlobalLedger restored(s, 10);
  ASSERT_TRUE(restored.restore(engine).ok());
  for (uint32_t i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(restored.ledger(0).hot(i, kNow), ledger.ledger(0).hot(i, kNow)) << i;
  }
  // A checkpoint that did not reach storage is written again next time.
  apply(0, kNow);
  WriteBatch lost;
  ASSERT_TRUE(ledger.checkpoint(&lost).ok());
  ledger.end_checkpoint(false);
  EXPECT_EQ(checkpoint(), 1 + s.signals().size());
}

// Finding 2: a historical database opened without the flag (as `tidal serve`
// and `tidal query` do) used to answer at the wall clock — every window empty
// — and its sweep freed the windows, which the next checkpoint saved.
TEST(DatabaseTime, AHistoricalDatabaseStaysHistoricalAndItsSweepsKeepItsWindows) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kNow));
  const int64_t t2018 = 1'537'000'000'000'000;
  {
    auto db = Database::open(dir.str(), schema(), options(&clock, true)).value();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(db->ingest(view("x", t2018 - i * kMinute)).ok());
    ASSERT_TRUE(db->close().ok());
  }
  for (int round = 0; round < 2; ++round) {
    DatabaseOptions o = options(&clock, false);
    o.sweep_interval = std::chrono::milliseconds(1);  // sweep at once, every time it looks
    auto db = Database::open(dir.str(), schema(), o).value();
    Present p = db->present();
    EXPECT_EQ(p.mode, PresentMode::kHistorical);
    EXPECT_EQ(to_micros(p.now), t2018);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a sweep ran
    ItemSignals s = db->item_signals("x").value();
    EXPECT_EQ(s.signals[0].windows[0].count, 5u) << "round " << round;  // 1h window
    // Old events are accepted: the database is historical.
    EXPECT_TRUE(db->ingest(view("y", t2018 - 30 * kDay)).ok());
    ASSERT_TRUE(db->close().ok());
  }
}

TEST(DatabaseTime, SwitchingThePresentIsDurableAndChecked) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kNow));
  auto db = Database::open(dir.str(), schema(), options(&clock, false)).value();
  EXPECT_EQ(db->present().mode, PresentMode::kLive);
  // A live database refuses an old event and says how to load it.
  Result<IngestResult> old = db->ingest(view("a", kNow - 30 * kDay));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("historical"), std::string::npos) << old.status().message();
  ASSERT_TRUE(db->ingest(view("a", kNow - kHour)).ok());

  ASSERT_TRUE(db->set_present(PresentMode::kHistorical).ok());
  EXPECT_EQ(to_micros(db->now()), kNow - kHour);
  ASSERT_TRUE(db->ingest(view("a", kNow - 30 * kDay)).ok());
  // Pinned: not before the newest event time, and no later events.
  Result<uint64_t> early = db->set_present(PresentMode::kHistorical, from_micros(kNow - kDay));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().field(), "at");
  ASSERT_TRUE(db->set_present(PresentMode::kHistorical, from_micros(kNow + kDay)).ok());
  EXPECT_EQ(to_micros(db->now()), kNow + kDay);
  EXPECT_FALSE(db->ingest(view("a", kNow + 2 * kDay)).ok());
  ASSERT_TRUE(db->close().ok());

  // Reopened (without the flag), it is still pinned.
  db.reset();
  db = Database::open(dir.str(), schema(), options(&clock, false)).value();
  Present p = db->present();
  EXPECT_EQ(p.mode, PresentMode::kHistorical);
  ASSERT_TRUE(p.pinned.has_value());
  EXPECT_EQ(to_micros(*p.pinned), kNow + kDay);
  // Live again is refused while the newest event is ahead of the clock; not here.
  ASSERT_TRUE(db->set_present(PresentMode::kLive).ok());
  EXPECT_EQ(to_micros(db->now()), kNow);
  EXPECT_FALSE(db->set_present(PresentMode::kLive, from_micros(kNow)).ok());
}

TEST(DatabaseTime, AsOfAnswersAtALaterTimeAndRefusesAnEarlierOne) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kNow));
  auto db = Database::open(dir.str(), schema(), options(&clock, true)).value();
  ASSERT_TRUE(db->ingest(view("a", kNow - 2 * kDay)).ok());
  ASSERT_TRUE(db->ingest(view("b", kNow - 2 * kDay + kHour)).ok());
  const std::string later = "2025-12-06T05:46:40Z";  // kNow
  auto r = db->query("RANK items BY hot(view) LIMIT 5 AS OF '" + later + "'").value();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_NEAR(r.rows[0].score, std::exp2(-47.0 / 6), 1e-12);  // b, 47 h before
  auto top = db->query("TRENDING items BY view WINDOW 1d LIMIT 5 AS OF '" + later + "'").value();
  for (const QueryRow& row : top.rows) EXPECT_EQ(row.score, 0) << row.key;  // over a day old then
  auto before = db->query("RANK items BY hot(view) LIMIT 5 AS OF '2025-12-01T00:00:00Z'");
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().field(), "as_of");
  EXPECT_NE(before.status().message().find("must not be before"), std::string::npos);
}

// Finding 5: sums must stay finite.
TEST(DatabaseTime, AValueThatWouldOverflowASumIsRefused) {
  testing::TempDir dir;
  ManualClock clock(from_micros(kNow));
  auto db = Database::open(dir.str(), schema(), options(&clock, false)).value();
  SignalEvent huge{.item = "a", .user = "", .signal = "dwell_time", .value = 1e308};
  Result<IngestResult> r = db->ingest(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "value");
  EXPECT_NE(r.status().message().find("at most 1e15"), std::string::npos) << r.status().message();
  for (int i = 0; i < 3; ++i) {
    SignalEvent big{
        .item = "a", .user = "u" + std::to_string(i), .signal = "dwell_time", .value = 1e15};
    ASSERT_TRUE(db->ingest(big).ok());
  }
  EXPECT_NEAR(decayed(*db, "a", "dwell_time"), 3e15, 1);
}

TEST(PresentRecord, RoundTripsAndRejectsDamage) {
  for (const db::PresentRecord& r :
       {db::PresentRecord{.mode = PresentMode::kLive},
        db::PresentRecord{.mode = PresentMode::kHistorical},
        db::PresentRecord{.mode = PresentMode::kHistorical, .pinned_us = -5},
        db::PresentRecord{.mode = PresentMode::kHistorical, .since_us = kNow},
        db::PresentRecord{.mode = PresentMode::kHistorical, .pinned_us = kNow, .since_us = 1}}) {
    std::string bytes = db::encode_present_record(r);
    db::PresentRecord back;
    ASSERT_TRUE(db::decode_present_record(bytes, &back));
    EXPECT_EQ(back.mode, r.mode);
    EXPECT_EQ(back.pinned_us, r.pinned_us);
    EXPECT_EQ(back.since_us, r.since_us);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(db::decode_present_record(bytes.substr(0, cut), &back)) << cut;
    }
    EXPECT_FALSE(db::decode_present_record(bytes + "x", &back));
  }
  // A live present is never pinned.
  std::string live = db::encode_present_record(
      db::PresentRecord{.mode = PresentMode::kHistorical, .pinned_us = 1});
  live[1] = 0;
  db::PresentRecord back;
  EXPECT_FALSE(db::decode_present_record(live, &back));
}

}  // namespace
}  // namespace tidal
