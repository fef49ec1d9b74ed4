#include <gtest/gtest.h>

#include "signals/bucket_plan.h"

namespace tidal::signals {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr int64_t kMinute = 60'000'000;

SignalTypeDefinition signal(std::vector<Duration> windows, bool velocity,
                            ValueKind kind = ValueKind::kCount) {
  SignalTypeDefinition d;
  d.name = "s";
  d.half_life = hours(1);
  d.windows = std::move(windows);
  d.velocity = velocity;
  d.value_kind = kind;
  return d;
}

TEST(BucketPlan, WidthIsTheLargestLadderStepGivingTwelveBuckets) {
  BucketPlan p = BucketPlan::for_signal(
      signal({minutes(5), hours(1), minutes(90), hours(24), hours(24 * 7)}, false));
  ASSERT_EQ(p.windows.size(), 5u);
  EXPECT_EQ(p.windows[0].width_us, kMinute);  // 5m: nothing gives 12, so 1m
  EXPECT_EQ(p.windows[0].buckets, 5u);
  EXPECT_EQ(p.windows[1].width_us, 5 * kMinute);  // 1h: 12 × 5m
  EXPECT_EQ(p.windows[1].buckets, 12u);
  EXPECT_EQ(p.windows[2].width_us, 5 * kMinute);  // 90m: 18 × 5m (10m gives 9)
  EXPECT_EQ(p.windows[2].buckets, 18u);
  EXPECT_EQ(p.windows[3].width_us, 120 * kMinute);  // 24h: 12 × 2h
  EXPECT_EQ(p.windows[3].buckets, 12u);
  EXPECT_EQ(p.windows[4].width_us, 720 * kMinute);  // 7d: 14 × 12h
  EXPECT_EQ(p.windows[4].buckets, 14u);
  EXPECT_FALSE(p.velocity);
  EXPECT_FALSE(p.sums);
}

TEST(BucketPlan, RingsHoldOneOrTwoWindowsAndAreLaidOutBackToBack) {
  BucketPlan plain = BucketPlan::for_signal(signal({hours(1), hours(24)}, false));
  EXPECT_EQ(plain.windows[0].ring, 12u);
  EXPECT_EQ(plain.windows[1].ring, 12u);
  EXPECT_EQ(plain.windows[1].offset, 12u);
  EXPECT_EQ(plain.total_slots, 24u);
  EXPECT_EQ(plain.horizon_us, 24 * 60 * kMinute);

  BucketPlan vel = BucketPlan::for_signal(signal({hours(1), hours(24)}, true, ValueKind::kSum));
  EXPECT_EQ(vel.windows[0].ring, 24u);
  EXPECT_EQ(vel.windows[0].reach, 24u);
  EXPECT_EQ(vel.windows[1].offset, 24u);
  EXPECT_EQ(vel.total_slots, 48u);
  EXPECT_EQ(vel.horizon_us, 48 * 60 * kMinute);
  EXPECT_TRUE(vel.velocity);
  EXPECT_TRUE(vel.sums);
}

TEST(BucketPlan, FutureSlackAddsBucketsBeyondTheReach) {
  BucketPlan p = BucketPlan::for_signal(signal({minutes(5), hours(1)}, true), 5 * kMinute);
  EXPECT_EQ(p.windows[0].reach, 10u);
  EXPECT_EQ(p.windows[0].ring, 15u);  // five 1m buckets ahead
  EXPECT_EQ(p.windows[1].reach, 24u);
  EXPECT_EQ(p.windows[1].ring, 25u);  // one 5m bucket ahead
  EXPECT_EQ(p.total_slots, 40u);
  EXPECT_EQ(p.horizon_us, 24 * 5 * kMinute);  // the slack is not part of the reach
}

TEST(BucketPlan, BucketOfFloorsForAnySign) {
  EXPECT_EQ(bucket_of(0, 10), 0);
  EXPECT_EQ(bucket_of(9, 10), 0);
  EXPECT_EQ(bucket_of(10, 10), 1);
  EXPECT_EQ(bucket_of(-1, 10), -1);
  EXPECT_EQ(bucket_of(-10, 10), -1);
  EXPECT_EQ(bucket_of(-11, 10), -2);
  EXPECT_EQ(slot_of(-1, 12), 11u);
  EXPECT_EQ(slot_of(25, 12), 1u);
}

}  // namespace
}  // namespace tidal::signals
