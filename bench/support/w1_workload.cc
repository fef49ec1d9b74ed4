#include "support/w1_workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <string>

namespace tidal::bench {

namespace {

constexpr int64_t kMinuteUs = 60'000'000;
constexpr int kMinutesPerDay = 24 * 60;

// W1's mix, in the order of default_signal_specs().
constexpr const char* kSignalNames[] = {"view",  "like",       "skip",
                                        "share", "completion", "dwell_time"};
constexpr double kSignalShare[] = {0.60, 0.12, 0.15, 0.03, 0.07, 0.03};
constexpr uint8_t kDwellSignal = 5;
// dwell_time seconds: log-normal with a median of 20 s and sigma 1 (a long
// tail of people who watch to the end and beyond).
constexpr double kDwellLogMedian = 2.995732273553991;  // ln 20
constexpr double kDwellLogSigma = 1.0;

// Uniform in [0, 1) from 53 random bits: the same on every standard library,
// unlike std::uniform_real_distribution.
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Traffic weight of a moment of the day: 3 at 20:00, 1 at 08:00 (the busiest
// hour carries 3x the quietest), a cosine between.
double daily_rhythm(double hour_of_day) {
  return 2.0 + std::cos(2.0 * std::numbers::pi * (hour_of_day - 20.0) / 24.0);
}

// "i123": a letter and a decimal number.
std::string numbered_key(char letter, uint32_t n) {
  char buf[16];
  buf[0] = letter;
  char* end = std::to_chars(buf + 1, buf + sizeof buf, n).ptr;
  return std::string(buf, static_cast<size_t>(end - buf));
}

}  // namespace

W1Config W1Config::full(uint64_t seed) {
  W1Config c;
  c.seed = seed;
  return c;
}

W1Config W1Config::quick(uint64_t seed) {
  W1Config c;
  c.seed = seed;
  c.items = 10'000;
  c.events = 100'000;
  c.days = 1;
  return c;
}

ZipfSampler::ZipfSampler(size_t n, double s) : cdf_(std::max<size_t>(n, 1)) {
  double sum = 0;
  for (size_t k = 0; k < cdf_.size(); ++k) {
    sum += std::pow(static_cast<double>(k + 1), -s);
    cdf_[k] = sum;
  }
  for (double& c : cdf_) c /= sum;
  cdf_.back() = 1.0;
}

size_t ZipfSampler::operator()(std::mt19937_64& rng) const {
  double u = unit(rng);
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
}

double ZipfSampler::probability(size_t k) const {
  return k == 0 ? cdf_[0] : cdf_[k] - cdf_[k - 1];
}

W1Generator::W1Generator(const W1Config& config)
    : config_(config),
      rng_(config.seed),
      items_(config.items, config.item_zipf),
      creators_(config.creators, config.creator_zipf) {
  // Popularity is a property of a random item, not of its number: ranks are
  // mapped through a seeded permutation.
  item_of_rank_.resize(config_.items);
  for (size_t i = 0; i < item_of_rank_.size(); ++i) item_of_rank_[i] = static_cast<uint32_t>(i);
  for (size_t i = item_of_rank_.size(); i > 1; --i) {
    std::swap(item_of_rank_[i - 1], item_of_rank_[rng_() % i]);
  }

  // Breakouts come from the middle of the head (ranks 10 .. items/100): an
  // item whose popularity x50 becomes a visible trend, not the tail item a
  // uniform pick would nearly always be (x50 of almost nothing).
  const size_t lo = std::min<size_t>(10, config_.items / 10);
  const size_t hi = std::max<size_t>(config_.items / 100, lo + config_.breakouts);
  const int64_t span_us = static_cast<int64_t>(config_.days) * kMinutesPerDay * kMinuteUs -
                          config_.breakout_length.count();
  for (size_t b = 0; b < config_.breakouts && hi <= config_.items; ++b) {
    size_t rank = lo + rng_() % (hi - lo);
    breakout_rank_.push_back(rank);
    Breakout br;
    br.item = item_of_rank_[rank];
    br.begins =
        config_.start + Duration(static_cast<int64_t>(unit(rng_) * std::max<int64_t>(span_us, 0)));
    breakouts_.push_back(br);
  }

  // How many events end in each minute: the daily rhythm, rounded so that
  // the total is exact.
  const size_t minutes = static_cast<size_t>(config_.days) * kMinutesPerDay;
  std::vector<double> weight(minutes);
  double total = 0;
  for (size_t m = 0; m < minutes; ++m) {
    weight[m] = daily_rhythm(static_cast<double>(m % kMinutesPerDay) / 60.0 + 1.0 / 120.0);
    total += weight[m];
  }
  minute_end_.resize(minutes);
  double cumulative = 0;
  for (size_t m = 0; m < minutes; ++m) {
    cumulative += weight[m];
    minute_end_[m] = static_cast<uint64_t>(
        std::llround(cumulative / total * static_cast<double>(config_.events)));
  }
  if (!minute_end_.empty()) minute_end_.back() = config_.events;
}

Timestamp W1Generator::end() const {
  return config_.start + Duration(static_cast<int64_t>(minute_end_.size()) * kMinuteUs);
}

size_t W1Generator::creator_of(size_t item) const {
  uint64_t h = splitmix64(config_.seed ^ splitmix64(item));
  std::mt19937_64 one(h);
  return creators_(one);
}

size_t W1Generator::draw_item(int64_t time_us) {
  // An active breakout item has factor x its usual probability: the extra
  // (factor - 1) x p is a second mixture component drawn first.
  auto active = [&](size_t b) {
    int64_t begins = to_micros(breakouts_[b].begins);
    return time_us >= begins && time_us < begins + config_.breakout_length.count();
  };
  double extra = 0;
  for (size_t b = 0; b < breakouts_.size(); ++b) {
    if (active(b)) extra += (config_.breakout_factor - 1) * items_.probability(breakout_rank_[b]);
  }
  if (extra > 0 && unit(rng_) * (1 + extra) >= 1) {
    double pick = unit(rng_) * extra;
    for (size_t b = 0; b < breakouts_.size(); ++b) {
      if (!active(b)) continue;
      pick -= (config_.breakout_factor - 1) * items_.probability(breakout_rank_[b]);
      if (pick < 0) return breakouts_[b].item;
    }
  }
  return item_of_rank_[items_(rng_)];
}

void W1Generator::generate_minute() {
  pending_.clear();
  pending_pos_ = 0;
  uint64_t first = minute_ == 0 ? 0 : minute_end_[minute_ - 1];
  uint64_t count = minute_end_[minute_] - first;
  int64_t minute_start = to_micros(config_.start) + static_cast<int64_t>(minute_) * kMinuteUs;
  ++minute_;
  std::vector<int64_t> times(count);
  for (int64_t& t : times) t = minute_start + static_cast<int64_t>(unit(rng_) * kMinuteUs);
  std::sort(times.begin(), times.end());
  pending_.reserve(count);
  for (int64_t t : times) {
    Pending p;
    p.time_us = t;
    p.item = static_cast<uint32_t>(draw_item(t));
    p.user = static_cast<uint32_t>(rng_() % config_.users);
    double u = unit(rng_);
    p.signal = 0;
    while (size_t{p.signal} + 1 < std::size(kSignalShare) && u >= kSignalShare[p.signal]) {
      u -= kSignalShare[p.signal];
      ++p.signal;
    }
    p.value = 1.0;
    if (p.signal == kDwellSignal) {
      // Box-Muller, to stay independent of the library's normal_distribution.
      double u1 = 1.0 - unit(rng_), u2 = unit(rng_);
      double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      p.value = std::round(std::exp(kDwellLogMedian + kDwellLogSigma * z) * 1000.0) / 1000.0;
    }
    pending_.push_back(p);
  }
}

size_t W1Generator::next(std::vector<SignalEvent>* out, size_t max) {
  out->clear();
  while (out->size() < max) {
    if (pending_pos_ == pending_.size()) {
      if (minute_ == minute_end_.size()) break;
      generate_minute();
      continue;
    }
    const Pending& p = pending_[pending_pos_++];
    SignalEvent& e = out->emplace_back();
    e.item = numbered_key('i', p.item);
    e.user = numbered_key('u', p.user);
    e.signal = kSignalNames[p.signal];
    e.timestamp = from_micros(p.time_us);
    e.value = p.value;
  }
  return out->size();
}

}  // namespace tidal::bench
