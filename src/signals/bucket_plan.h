// BucketPlan: how one signal type's windowed counts are bucketed.
//
// Each window w of a signal type is counted in a ring of fixed-width time
// buckets. The width is the largest step of a ladder (1m, 5m, 10m, 15m, 30m,
// 1h, 2h, 3h, 4h, 6h, 12h, 1d) that divides w into at least
// kMinBucketsPerWindow buckets — fine buckets for short windows, coarse ones
// for long windows. Bucket b covers [b·width, (b+1)·width) in event time.
//
// Window semantics (docs/signals.md): at time `now`, count(w) is the sum of the
// n = w / width buckets ending with the one that holds `now` — the current,
// partly elapsed bucket and the n−1 before it. prev_count(w) is the n buckets
// before those. A ring reaches n buckets, or 2n when the signal type tracks
// velocity (which compares the two), plus enough slack buckets to hold events
// up to `future_slack_us` ahead of the present: such an event advances the
// ring without pushing out buckets that reads at the present still need.
#pragma once

#include <cstdint>
#include <vector>

#include "tidal/schema.h"

namespace tidal::signals {

inline constexpr int64_t kMinBucketsPerWindow = 12;

struct WindowPlan {
  Duration window{0};
  int64_t width_us = 0;  // bucket width in microseconds
  uint32_t buckets = 0;  // n = window / width
  uint32_t reach = 0;    // buckets reads use: n, or 2n with velocity
  uint32_t ring = 0;     // slots in the ring: reach + slack for future events
  uint32_t offset = 0;   // index of the ring's first slot in the state block
};

struct BucketPlan {
  std::vector<WindowPlan> windows;  // same order as the signal type's windows
  uint32_t total_slots = 0;         // sum of ring sizes
  bool sums = false;                // kSum signal types keep a value sum per slot
  bool velocity = false;
  // Events older than this (relative to the newest bucket) no longer affect
  // any window: a state whose newest event is older is quiet and can be freed.
  int64_t horizon_us = 0;

  // `future_slack_us`: how far ahead of the present event times may be
  // (DatabaseOptions::max_future_skew; 0 when the present follows event time).
  static BucketPlan for_signal(const SignalTypeDefinition& signal, int64_t future_slack_us = 0);
};

// floor(t / width) for any sign of t.
inline int64_t bucket_of(int64_t t_us, int64_t width_us) {
  int64_t q = t_us / width_us;
  return (t_us % width_us != 0 && t_us < 0) ? q - 1 : q;
}

// The ring slot of bucket b: b mod ring, for any sign of b.
inline uint32_t slot_of(int64_t b, uint32_t ring) {
  return static_cast<uint32_t>(((b % ring) + ring) % ring);
}

}  // namespace tidal::signals
