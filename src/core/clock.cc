#include "tidal/clock.h"

namespace tidal {

Timestamp SystemClock::now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

SystemClock* SystemClock::instance() {
  static auto* clock = new SystemClock();
  return clock;
}

}  // namespace tidal
