// Clock: where tidalDB reads "now". Production code uses SystemClock; tests use
// ManualClock so decay, windows and rotation are deterministic.
#pragma once

#include <atomic>

#include "tidal/types.h"

namespace tidal {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time. Must be safe to call from any thread.
  virtual Timestamp now() const = 0;
};

// Wall-clock time (CLOCK_REALTIME) at microsecond resolution.
class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
  // A process-wide instance; never destroyed.
  static SystemClock* instance();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = from_micros(0)) : now_us_(to_micros(start)) {}
  Timestamp now() const override { return from_micros(now_us_.load(std::memory_order_acquire)); }
  void set(Timestamp t) { now_us_.store(to_micros(t), std::memory_order_release); }
  void advance(Duration d) { now_us_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace tidal
