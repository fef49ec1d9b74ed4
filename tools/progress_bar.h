// ProgressBar: one line on stderr that shows how far a long job is (bytes
// done of the total, lines, lines per second), redrawn in place at most ten
// times a second. Disabled, it prints nothing (for stderr that is not a
// terminal).
#pragma once

#include <chrono>
#include <cstdint>

namespace tidal::cli {

class ProgressBar {
 public:
  // `unit`: what `lines` counts ("lines", "events").
  ProgressBar(uint64_t total_bytes, bool enabled, const char* unit = "lines")
      : total_(total_bytes), enabled_(enabled), unit_(unit) {}

  // Redraws the line unless it was drawn less than 100 ms ago.
  void update(uint64_t lines, uint64_t bytes);
  // Draws the final state and ends the line.
  void finish(uint64_t lines, uint64_t bytes);

 private:
  void draw(uint64_t lines, uint64_t bytes, std::chrono::steady_clock::time_point now);

  uint64_t total_;
  bool enabled_;
  const char* unit_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace tidal::cli
