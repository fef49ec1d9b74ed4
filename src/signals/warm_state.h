// WarmState: the windowed counts of one (item, signal type) — the warm tier.
//
// One heap block per active (item, signal): the newest event time seen, then
// for each window of the signal type a ring of bucket counts (and, for kSum
// signal types, a ring of value sums) laid out by the BucketPlan. The rings'
// heads are not stored: the newest bucket of window w is
// bucket_of(newest_us, width_w), so one timestamp positions every ring.
//
// Events older than a ring's reach are dropped from that window (they still
// count in the hot tier); events newer than the newest advance every ring,
// clearing the buckets they pass.
//
// Not synchronized: SignalLedger guards states with its lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "signals/bucket_plan.h"
#include "tidal/status.h"

namespace tidal::signals {

class WarmState {
 public:
  // A zeroed state for `plan`. Never returns null.
  static std::unique_ptr<WarmState, void (*)(WarmState*)> create(const BucketPlan& plan);
  // Frees a state made by create() or decode() (null is allowed).
  static void destroy(WarmState* state);

  // Adds one event at event time t_us with `value` (1 for count signals).
  void add(const BucketPlan& plan, int64_t t_us, double value);

  // Events in window `w` at `now_us` (see BucketPlan for the semantics).
  uint64_t count(const BucketPlan& plan, size_t w, int64_t now_us) const;
  // Events in the window before that one (velocity plans only; 0 otherwise).
  uint64_t prev_count(const BucketPlan& plan, size_t w, int64_t now_us) const;
  // Sum of values in window `w` (kSum plans only; 0 otherwise).
  double sum(const BucketPlan& plan, size_t w, int64_t now_us) const;

  // True when no window holds any event at `now_us` or later times: the
  // state can be freed.
  bool quiet(const BucketPlan& plan, int64_t now_us) const;

  int64_t newest_us() const { return newest_us_; }

  // Bytes of the block for `plan` (for memory accounting).
  static size_t block_bytes(const BucketPlan& plan);

  // Checkpoint form: varsint newest time | varint has-newest (0/1) | varint
  // n | n × (varint window | varint age: buckets behind the newest bucket |
  // varint count | f64 LE sum, kSum plans only). Ages, not ring slots, so a
  // plan with other ring sizes decodes it (buckets beyond its ring dropped).
  void encode(const BucketPlan& plan, std::string* out) const;
  static Result<std::unique_ptr<WarmState, void (*)(WarmState*)>> decode(const BucketPlan& plan,
                                                                         std::string_view in);

 private:
  WarmState() = default;
  uint32_t* counts() { return reinterpret_cast<uint32_t*>(this + 1); }
  const uint32_t* counts() const { return reinterpret_cast<const uint32_t*>(this + 1); }
  double* sums(const BucketPlan& plan);
  const double* sums(const BucketPlan& plan) const;
  // Sums slots of ring `w` for buckets [first, last] that the ring still holds.
  template <typename T, typename Slot>
  T sum_range(const BucketPlan& plan, size_t w, const Slot* slots, int64_t first,
              int64_t last) const;

  int64_t newest_us_ = INT64_MIN;
};

using WarmStatePtr = std::unique_ptr<WarmState, void (*)(WarmState*)>;

}  // namespace tidal::signals
