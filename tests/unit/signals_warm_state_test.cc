#include <gtest/gtest.h>

#include "signals/warm_state.h"

namespace tidal::signals {
namespace {

using std::chrono::hours;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kWidth = 5 * kMinute;                             // the 1h window's buckets
constexpr int64_t kBase = 1'700'000'100'000'000 / kWidth * kWidth;  // a bucket edge

// One 1h window (12 × 5m) with velocity and sums.
BucketPlan plan(bool velocity = true, int64_t slack = 0) {
  SignalTypeDefinition d;
  d.name = "s";
  d.half_life = hours(1);
  d.windows = {hours(1)};
  d.velocity = velocity;
  d.value_kind = ValueKind::kSum;
  return BucketPlan::for_signal(d, slack);
}

TEST(WarmState, CountsAtBucketEdges) {
  BucketPlan p = plan();
  WarmStatePtr s = WarmState::create(p);
  s->add(p, kBase, 2.5);                 // first microsecond of bucket B
  s->add(p, kBase + kWidth - 1, 1);      // last microsecond of bucket B
  s->add(p, kBase + kWidth, 4);          // bucket B+1
  EXPECT_EQ(s->count(p, 0, kBase), 2u);  // B+1 is in the future
  EXPECT_EQ(s->count(p, 0, kBase + kWidth), 3u);
  EXPECT_EQ(s->sum(p, 0, kBase + kWidth), 7.5);
  // The window is the 12 buckets ending with now's: B leaves it when now
  // reaches B+12, and enters the previous window.
  int64_t leave = kBase + 12 * kWidth;
  EXPECT_EQ(s->count(p, 0, leave - 1), 3u);
  EXPECT_EQ(s->count(p, 0, leave), 1u);
  EXPECT_EQ(s->prev_count(p, 0, leave), 2u);
  EXPECT_EQ(s->sum(p, 0, leave), 4);
  EXPECT_EQ(s->prev_count(p, 0, leave + kWidth), 3u);
  EXPECT_EQ(s->prev_count(p, 0, kBase + 24 * kWidth), 1u);
  EXPECT_EQ(s->prev_count(p, 0, kBase + 25 * kWidth), 0u);
}

TEST(WarmState, LateEventsLandInTheirBucketOrAreDropped) {
  BucketPlan p = plan();
  WarmStatePtr s = WarmState::create(p);
  int64_t now = kBase + 30 * kWidth;
  s->add(p, now, 1);
  s->add(p, now - 3 * kWidth, 1);   // in the window
  s->add(p, now - 13 * kWidth, 1);  // in the previous window
  s->add(p, now - 24 * kWidth, 1);  // older than the ring: dropped
  EXPECT_EQ(s->count(p, 0, now), 2u);
  EXPECT_EQ(s->prev_count(p, 0, now), 1u);
  EXPECT_EQ(s->newest_us(), now);
  EXPECT_EQ(s->prev_count(p, 0, now + 12 * kWidth), 2u);
}

TEST(WarmState, ABigJumpForwardClearsTheRing) {
  BucketPlan p = plan();
  WarmStatePtr s = WarmState::create(p);
  for (int i = 0; i < 24; ++i) s->add(p, kBase + i * kWidth, 1);
  int64_t later = kBase + 1000 * kWidth;
  s->add(p, later, 1);
  EXPECT_EQ(s->count(p, 0, later), 1u);
  EXPECT_EQ(s->prev_count(p, 0, later), 0u);
  // A jump of exactly one ring clears every slot too.
  s->add(p, later + 24 * kWidth, 1);
  EXPECT_EQ(s->count(p, 0, later + 24 * kWidth), 1u);
  EXPECT_EQ(s->prev_count(p, 0, later + 24 * kWidth), 0u);
}

TEST(WarmState, EventsAheadOfThePresentKeepTheOldestBucketWithSlack) {
  BucketPlan p = plan(true, 5 * kMinute);
  WarmStatePtr s = WarmState::create(p);
  int64_t now = kBase + 30 * kWidth;
  s->add(p, now - 23 * kWidth, 1);  // the oldest bucket of the previous window
  s->add(p, now - 11 * kWidth, 1);  // the oldest bucket of the window
  s->add(p, now + kWidth, 1);       // 5 minutes ahead
  EXPECT_EQ(s->count(p, 0, now), 1u);
  EXPECT_EQ(s->prev_count(p, 0, now), 1u);
  EXPECT_EQ(s->count(p, 0, now + kWidth), 1u);
}

TEST(WarmState, NegativeTimesWork) {
  BucketPlan p = plan();
  WarmStatePtr s = WarmState::create(p);
  s->add(p, -60 * kMinute, 1);
  s->add(p, -30 * kMinute, 1);
  s->add(p, -1, 1);
  EXPECT_EQ(s->count(p, 0, 0), 2u);
  EXPECT_EQ(s->prev_count(p, 0, 0), 1u);
}

TEST(WarmState, QuietOnceNoReadCanSeeAnEvent) {
  BucketPlan p = plan();
  WarmStatePtr s = WarmState::create(p);
  EXPECT_TRUE(s->quiet(p, kBase));
  s->add(p, kBase, 1);
  EXPECT_FALSE(s->quiet(p, kBase));
  EXPECT_FALSE(s->quiet(p, kBase + 24 * kWidth - 1));  // still in the previous window
  EXPECT_TRUE(s->quiet(p, kBase + 24 * kWidth));
  BucketPlan no_velocity = plan(false);
  WarmStatePtr t = WarmState::create(no_velocity);
  t->add(no_velocity, kBase, 1);
  EXPECT_FALSE(t->quiet(no_velocity, kBase + 12 * kWidth - 1));
  EXPECT_TRUE(t->quiet(no_velocity, kBase + 12 * kWidth));
}

TEST(WarmState, EncodeDecodeRoundTripAndTruncation) {
  BucketPlan p = plan();
  WarmStatePtr s = WarmState::create(p);
  int64_t now = kBase + 50 * kWidth;
  for (int i = 0; i < 30; ++i) s->add(p, now - i * kWidth / 2, 0.125 * i);
  std::string bytes;
  s->encode(p, &bytes);
  auto d = WarmState::decode(p, bytes);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  for (int64_t at = now; at < now + 30 * kWidth; at += kWidth) {
    EXPECT_EQ((*d)->count(p, 0, at), s->count(p, 0, at));
    EXPECT_EQ((*d)->prev_count(p, 0, at), s->prev_count(p, 0, at));
    EXPECT_EQ((*d)->sum(p, 0, at), s->sum(p, 0, at));
  }
  EXPECT_EQ((*d)->newest_us(), s->newest_us());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(WarmState::decode(p, bytes.substr(0, n)).ok()) << "prefix of " << n;
  }
  EXPECT_FALSE(WarmState::decode(p, bytes + "x").ok());

  // A plan with another ring size (other future slack) reads it the same.
  BucketPlan wider = plan(true, 15 * kMinute);
  auto w = WarmState::decode(wider, bytes);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ((*w)->count(wider, 0, now), s->count(p, 0, now));
  EXPECT_EQ((*w)->prev_count(wider, 0, now), s->prev_count(p, 0, now));

  // An empty state round-trips too.
  WarmStatePtr empty = WarmState::create(p);
  std::string e;
  empty->encode(p, &e);
  auto de = WarmState::decode(p, e);
  ASSERT_TRUE(de.ok());
  EXPECT_TRUE((*de)->quiet(p, now));
}

}  // namespace
}  // namespace tidal::signals
