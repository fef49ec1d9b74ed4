#include "progress_bar.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace tidal::cli {

void ProgressBar::update(uint64_t lines, uint64_t bytes) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  draw(lines, bytes, now);
}

void ProgressBar::finish(uint64_t lines, uint64_t bytes) {
  if (!enabled_) return;
  draw(lines, bytes, std::chrono::steady_clock::now());
  std::fprintf(stderr, "\n");
}

void ProgressBar::draw(uint64_t lines, uint64_t bytes, std::chrono::steady_clock::time_point now) {
  constexpr int kWidth = 30;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double frac = total_ > 0 ? std::min(1.0, double(bytes) / double(total_)) : 1.0;
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
  std::fprintf(stderr, "\r[%s] %3.0f%%  %llu %s  %.0f %s/s ", bar.c_str(), frac * 100,
               static_cast<unsigned long long>(lines), unit_, secs > 0 ? double(lines) / secs : 0.0,
               unit_);
  drawn_ = true;
}

}  // namespace tidal::cli
