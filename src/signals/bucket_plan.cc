#include "signals/bucket_plan.h"

#include <algorithm>
#include <array>

namespace tidal::signals {

namespace {
constexpr int64_t kMinute = 60LL * 1000 * 1000;
constexpr std::array<int64_t, 12> kLadder = {
    kMinute,       5 * kMinute,   10 * kMinute,  15 * kMinute,  30 * kMinute,  60 * kMinute,
    120 * kMinute, 180 * kMinute, 240 * kMinute, 360 * kMinute, 720 * kMinute, 1440 * kMinute};
}  // namespace

BucketPlan BucketPlan::for_signal(const SignalTypeDefinition& signal, int64_t future_slack_us) {
  BucketPlan plan;
  plan.sums = signal.value_kind == ValueKind::kSum;
  plan.velocity = signal.velocity;
  for (Duration w : signal.windows) {
    int64_t w_us = w.count();
    // The schema guarantees whole minutes, so the 1-minute step always fits.
    int64_t width = kMinute;
    for (int64_t step : kLadder) {
      if (w_us % step == 0 && w_us / step >= kMinBucketsPerWindow) width = step;
    }
    if (w_us < kMinBucketsPerWindow * kMinute) width = kMinute;
    WindowPlan wp;
    wp.window = w;
    wp.width_us = width;
    wp.buckets = static_cast<uint32_t>(w_us / width);
    wp.reach = wp.buckets * (signal.velocity ? 2 : 1);
    int64_t slack = future_slack_us > 0 ? (future_slack_us + width - 1) / width : 0;
    wp.ring = wp.reach + static_cast<uint32_t>(slack);
    wp.offset = plan.total_slots;
    plan.total_slots += wp.ring;
    plan.horizon_us = std::max(plan.horizon_us, static_cast<int64_t>(wp.reach) * width);
    plan.windows.push_back(wp);
  }
  return plan;
}

}  // namespace tidal::signals
