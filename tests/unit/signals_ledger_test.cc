#include <gtest/gtest.h>

#include <cmath>

#include "signals/signal_ledger.h"

namespace tidal::signals {
namespace {

using std::chrono::hours;

constexpr int64_t kHour = 3'600'000'000;
constexpr int64_t kStart = 1'700'000'000'000'000 / kHour * kHour;

SignalTypeDefinition signal(Duration half_life, std::vector<Duration> windows, bool velocity) {
  SignalTypeDefinition d;
  d.name = "s";
  d.half_life = half_life;
  d.lambda_per_second = std::log(2.0) / (static_cast<double>(half_life.count()) / 1e6);
  d.windows = std::move(windows);
  d.velocity = velocity;
  return d;
}

double closed_form(const std::vector<int64_t>& times, int64_t now, double half_life_hours) {
  double total = 0;
  for (int64_t t : times) {
    total +=
        std::exp(-std::log(2.0) / (half_life_hours * 3600) * (static_cast<double>(now - t) / 1e6));
  }
  return total;
}

TEST(SignalLedger, RebaseKeepsScoresExactOverHundredsOfHalfLives) {
  SignalLedger ledger(signal(hours(1), {hours(24)}, false), 4);
  std::vector<int64_t> a, b;
  // An event every 5 hours for 400 hours (400 half-lives) on item 0; item 1
  // gets every other one, an hour later.
  for (int i = 0; i <= 80; ++i) {
    int64_t t = kStart + i * 5 * kHour;
    ledger.apply(0, t, 1);
    a.push_back(t);
    if (i % 2 == 0) {
      ledger.apply(1, t + kHour, 1);
      b.push_back(t + kHour);
    }
    int64_t now = t + kHour;
    EXPECT_NEAR(ledger.hot(0, now) / closed_form(a, now, 1), 1, 1e-9) << i;
    EXPECT_NEAR(ledger.hot(1, now) / closed_form(b, now, 1), 1, 1e-9) << i;
  }
  EXPECT_GT(ledger.landmark_us(), kStart) << "no rebase happened";
  // A late event from before the landmark still lands where it belongs.
  int64_t late = ledger.landmark_us() - 3 * kHour;
  ledger.apply(0, late, 1);
  a.push_back(late);
  int64_t now = kStart + 401 * kHour;
  EXPECT_NEAR(ledger.hot(0, now) / closed_form(a, now, 1), 1, 1e-9);
  std::vector<ScoredItem> top = ledger.top_hot(2, now);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].item, 1u);  // its last event is the newest
  EXPECT_NEAR(top[0].score / closed_form(b, now, 1), 1, 1e-9);
  EXPECT_NEAR(top[1].score / closed_form(a, now, 1), 1, 1e-9);
}

TEST(SignalLedger, SweepFreesQuietStatesAndRankingsStayRight) {
  SignalLedger ledger(signal(hours(6), {hours(1), hours(24)}, true), 2);
  ledger.apply(0, kStart, 1);
  ledger.apply(1, kStart + 30 * kHour, 1);
  ledger.apply(1, kStart + 30 * kHour, 1);
  ledger.apply(2, kStart + 40 * kHour, 1);
  int64_t now = kStart + 40 * kHour;
  EXPECT_EQ(ledger.active_states(), 3u);
  // Item 0's event is 40h old: beyond the 24h window and its previous one?
  // No — 48h of reach (2 × 24h): still active, velocity −1 in the 24h window.
  std::vector<uint32_t> freed;
  ledger.sweep(now, &freed);
  EXPECT_TRUE(freed.empty());
  auto rising = ledger.top_rising(1, 3, now);
  ASSERT_EQ(rising.size(), 3u);
  EXPECT_EQ(rising[0].item, 1u);
  EXPECT_EQ(rising[1].item, 2u);
  EXPECT_EQ(rising[2].item, 0u);
  EXPECT_EQ(rising[2].score, -1);

  now = kStart + 50 * kHour;  // item 0 is past every reach now
  // Before the sweep, a quiet state is no candidate for rising either.
  EXPECT_EQ(ledger.top_rising(1, 3, now).size(), 2u);
  ledger.sweep(now, &freed);
  ASSERT_EQ(freed, std::vector<uint32_t>{0});
  EXPECT_EQ(ledger.active_states(), 2u);
  EXPECT_EQ(ledger.count(0, 1, now), 0u);
  EXPECT_TRUE(ledger.has_state(0));  // the decayed score remains
  auto top = ledger.top_count(1, 2, now);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].item, 1u);
  EXPECT_EQ(top[0].score, 2);
  EXPECT_EQ(top[1].item, 2u);
  EXPECT_EQ(ledger.top_count(0, 2, now).size(), 0u);  // nothing in the last hour
}

TEST(SignalLedger, ALateEventInThePreviousWindowLowersRising) {
  SignalLedger ledger(signal(hours(6), {hours(1)}, true), 2);
  int64_t now = kStart + 10 * kHour;
  for (int i = 0; i < 3; ++i) ledger.apply(0, now, 1);
  for (int i = 0; i < 2; ++i) ledger.apply(1, now, 1);
  ledger.apply(2, now, 1);
  auto before = ledger.top_rising(0, 2, now);  // builds the index
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[1].item, 1u);
  // Two late events 90 minutes back: item 1's velocity falls to 0.
  ledger.apply(1, now - 90 * 60'000'000LL, 1);
  ledger.apply(1, now - 90 * 60'000'000LL, 1);
  auto after = ledger.top_rising(0, 2, now);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].item, 0u);
  EXPECT_EQ(after[1].item, 2u);
  EXPECT_EQ(after[1].score, 1);
}

TEST(SignalLedger, AnOldEventIsNoCandidateForTop) {
  SignalLedger ledger(signal(hours(6), {hours(1)}, false), 2);
  int64_t now = kStart + 10 * kHour;
  ledger.apply(0, now, 1);
  EXPECT_EQ(ledger.top_count(0, 2, now).size(), 1u);  // builds the index
  ledger.apply(1, now - 2 * kHour, 1);                // outside the window
  EXPECT_EQ(ledger.top_count(0, 2, now).size(), 1u);
  EXPECT_EQ(ledger.top_hot(2, now).size(), 2u);
}

TEST(SignalLedger, StateRoundTripsThroughItsCheckpointForm) {
  SignalLedger ledger(signal(hours(6), {hours(1), hours(24)}, true), 2);
  int64_t now = kStart + 10 * kHour;
  ledger.apply(3, now - kHour, 1);
  ledger.apply(3, now, 1);
  std::string bytes;
  ledger.encode_item(3, &bytes);
  SignalLedger restored(signal(hours(6), {hours(1), hours(24)}, true), 2);
  restored.set_landmark(ledger.landmark_us());
  ASSERT_TRUE(restored.restore_item(3, bytes).ok());
  restored.rebuild_indexes();
  EXPECT_EQ(restored.hot(3, now), ledger.hot(3, now));
  EXPECT_EQ(restored.count(3, 1, now), 2u);
  EXPECT_EQ(restored.prev_count(3, 0, now), 1u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    SignalLedger scratch(signal(hours(6), {hours(1), hours(24)}, true), 2);
    EXPECT_FALSE(scratch.restore_item(3, bytes.substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace tidal::signals
