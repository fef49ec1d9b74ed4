// SignalOracle: a brute-force model of one signal type's ledger, written from
// the documented semantics (docs/signals.md) and independent of src/signals.
//
// It keeps every event and recomputes every answer from the raw list:
//   hot(now)        = Σ w·e^(−ln2/half_life·(now − t))
//   count(w, now)   = events with floor(t/width) in (floor(now/width) − n, floor(now/width)]
//   prev_count      = the n buckets before those (velocity signal types)
//   sum             = values of the events counted by count (sum signal types)
// where width is the largest ladder step dividing w into ≥ 12 buckets and
// n = w / width. Trending orders are the ledger's: score descending, ties by
// the item's dense index.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "tidal/database.h"
#include "tidal/schema.h"

namespace tidal::testing {

inline int64_t oracle_floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// The bucket width of a window, from the ladder in docs/signals.md.
inline int64_t oracle_bucket_width(int64_t window_us) {
  constexpr int64_t kMin = 60'000'000;
  constexpr std::array<int64_t, 12> kLadder = {1, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440};
  int64_t best = kMin;
  for (int64_t m : kLadder) {
    int64_t step = m * kMin;
    if (window_us % step == 0 && window_us / step >= 12) best = std::max(best, step);
  }
  return best;
}

struct OracleRanked {
  uint32_t item;
  double score;
};

class SignalOracle {
 public:
  explicit SignalOracle(const SignalTypeDefinition& def)
      : half_life_s_(static_cast<double>(def.half_life.count()) / 1e6),
        velocity_(def.velocity),
        sums_(def.value_kind == ValueKind::kSum) {
    for (Duration w : def.windows) windows_.push_back(w.count());
  }

  void add(uint32_t item, int64_t t_us, double value) { events_[item].push_back({t_us, value}); }

  size_t windows() const { return windows_.size(); }
  const std::map<uint32_t, std::vector<std::pair<int64_t, double>>>& events() const {
    return events_;
  }

  double hot(uint32_t item, int64_t now_us) const {
    auto it = events_.find(item);
    if (it == events_.end()) return 0;
    double total = 0;
    for (const auto& [t, v] : it->second) {
      total +=
          v * std::exp(-std::log(2.0) / half_life_s_ * (static_cast<double>(now_us - t) / 1e6));
    }
    return total;
  }

  // Events (and their values) whose bucket lies `lag` windows back:
  // lag 0 is the current window, lag 1 the previous one.
  std::pair<uint64_t, double> window(uint32_t item, size_t w, int64_t now_us, int lag) const {
    auto it = events_.find(item);
    if (it == events_.end()) return {0, 0};
    int64_t width = oracle_bucket_width(windows_[w]);
    int64_t n = windows_[w] / width;
    int64_t hi = oracle_floor_div(now_us, width) - lag * n;
    int64_t lo = hi - n;  // exclusive
    uint64_t c = 0;
    double s = 0;
    for (const auto& [t, v] : it->second) {
      int64_t b = oracle_floor_div(t, width);
      if (b > lo && b <= hi) {
        ++c;
        s += v;
      }
    }
    return {c, s};
  }
  uint64_t count(uint32_t item, size_t w, int64_t now_us) const {
    return window(item, w, now_us, 0).first;
  }
  uint64_t prev_count(uint32_t item, size_t w, int64_t now_us) const {
    return velocity_ ? window(item, w, now_us, 1).first : 0;
  }
  double sum(uint32_t item, size_t w, int64_t now_us) const {
    return sums_ ? window(item, w, now_us, 0).second : 0;
  }
  double velocity(uint32_t item, size_t w, int64_t now_us) const {
    if (!velocity_) return 0;
    return static_cast<double>(count(item, w, now_us)) -
           static_cast<double>(prev_count(item, w, now_us));
  }

  // Whether the item has windowed state at now: an event within the reach of
  // some window's ring (n buckets, 2n with velocity).
  bool has_windowed_state(uint32_t item, int64_t now_us) const {
    auto it = events_.find(item);
    if (it == events_.end() || windows_.empty()) return false;
    int64_t newest = INT64_MIN;
    for (const auto& e : it->second) newest = std::max(newest, e.first);
    for (int64_t w : windows_) {
      int64_t width = oracle_bucket_width(w);
      int64_t ring = (w / width) * (velocity_ ? 2 : 1);
      if (oracle_floor_div(newest, width) > oracle_floor_div(now_us, width) - ring) return true;
    }
    return false;
  }

  std::vector<OracleRanked> top_hot(size_t k, int64_t now_us) const {
    std::vector<OracleRanked> all;
    for (const auto& [item, evs] : events_) {
      double h = hot(item, now_us);
      if (h > 0) all.push_back({item, h});
    }
    return best(std::move(all), k);
  }
  std::vector<OracleRanked> top_count(size_t w, size_t k, int64_t now_us) const {
    std::vector<OracleRanked> all;
    for (const auto& [item, evs] : events_) {
      uint64_t c = count(item, w, now_us);
      if (c > 0) all.push_back({item, static_cast<double>(c)});
    }
    return best(std::move(all), k);
  }
  std::vector<OracleRanked> top_rising(size_t w, size_t k, int64_t now_us) const {
    std::vector<OracleRanked> all;
    if (!velocity_) return all;
    for (const auto& [item, evs] : events_) {
      if (has_windowed_state(item, now_us)) all.push_back({item, velocity(item, w, now_us)});
    }
    return best(std::move(all), k);
  }

 private:
  static std::vector<OracleRanked> best(std::vector<OracleRanked> all, size_t k) {
    std::sort(all.begin(), all.end(), [](const OracleRanked& a, const OracleRanked& b) {
      return a.score != b.score ? a.score > b.score : a.item < b.item;
    });
    if (all.size() > k) all.resize(k);
    return all;
  }

  double half_life_s_;
  bool velocity_;
  bool sums_;
  std::vector<int64_t> windows_;
  std::map<uint32_t, std::vector<std::pair<int64_t, double>>> events_;
};

// Relative closeness for decayed scores: |a − b| ≤ rel · max(|a|, |b|).
inline bool oracle_close(double a, double b, double rel = 1e-9) {
  return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

// Compares a hot ranking with the oracle's. Decayed scores are computed in a
// different order than the oracle sums them, so two items whose exact scores
// are equal may be ranked either way: position by position the scores must
// agree within `rel`, and an item may differ from the oracle's only when the
// oracle scores both within `rel` (or `abs`: a sparse ledger lets go of
// scores below SignalLedger::kNegligibleScore). Empty when they match; otherwise what
// differed.
template <typename OracleScore>
std::string compare_hot_ranking(const std::vector<OracleRanked>& got,
                                const std::vector<OracleRanked>& want, OracleScore oracle_score,
                                double rel = 1e-9, double abs = 0) {
  auto close = [&](double a, double b) {
    return oracle_close(a, b, rel) || std::fabs(a - b) <= abs;
  };
  auto describe = [](const std::vector<OracleRanked>& v) {
    std::string out;
    for (const OracleRanked& r : v) {
      out += " " + std::to_string(r.item) + ":" + std::to_string(r.score);
    }
    return out;
  };
  auto fail = [&](const std::string& why) {
    return why + "\n  got:" + describe(got) + "\n  want:" + describe(want);
  };
  if (got.size() != want.size()) return fail("sizes differ");
  for (size_t i = 0; i < got.size(); ++i) {
    if (!close(got[i].score, want[i].score)) {
      return fail("score differs at " + std::to_string(i));
    }
    if (got[i].item != want[i].item && !close(oracle_score(got[i].item), want[i].score)) {
      return fail("item differs at " + std::to_string(i));
    }
    for (size_t j = 0; j < i; ++j) {
      if (got[j].item == got[i].item) return fail("item repeated");
    }
  }
  return "";
}

// One oracle per signal type of a schema, and the items' dense indexes as
// the database assigns them (first seen first).
struct OracleModel {
  explicit OracleModel(const Schema& schema) {
    for (const auto& def : schema.signals()) oracles.emplace_back(def);
  }
  void add(const std::string& item, uint16_t signal, int64_t t_us, double value) {
    auto [it, fresh] = index_of.try_emplace(item, static_cast<uint32_t>(keys.size()));
    if (fresh) keys.push_back(item);
    oracles[signal].add(it->second, t_us, value);
  }
  // Trending entries by dense index (UINT32_MAX for a key never added).
  std::vector<OracleRanked> ranked(const std::vector<TrendingEntry>& entries) const {
    std::vector<OracleRanked> out;
    for (const TrendingEntry& e : entries) {
      auto it = index_of.find(e.item);
      out.push_back({it == index_of.end() ? UINT32_MAX : it->second, e.score});
    }
    return out;
  }
  // " key:score" per entry, for exact comparison and messages.
  std::string show(const std::vector<OracleRanked>& v) const {
    std::string out;
    for (const OracleRanked& r : v) {
      out += " " + (r.item < keys.size() ? keys[r.item] : "?") + ":" + std::to_string(r.score);
    }
    return out;
  }

  std::vector<SignalOracle> oracles;
  std::unordered_map<std::string, uint32_t> index_of;
  std::vector<std::string> keys;
};

}  // namespace tidal::testing
