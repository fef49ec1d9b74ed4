// SignalLedger against a brute-force oracle (tests/support/signal_oracle.h):
// random events — late ones, ones older than every window, bursts in one
// bucket — and a present that moves forward by random steps across bucket
// edges. After every step every item's decayed score, window counts, previous
// counts, sums and velocity, and the hot / top / rising rankings for a random
// k on both sides of the trending capacity (index path and scan path), must
// equal the oracle's. At the end the ledger is checkpointed into a fresh one,
// which must answer the same. Both keyings run: dense (the global ledger)
// and sparse (a cohort's), whose items get slots in the order their events
// arrive and whose item indexes are spread far apart.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <cmath>

#include "signals/signal_ledger.h"
#include "support/signal_oracle.h"
#include "tidal/schema.h"

namespace tidal::signals {
namespace {

using testing::OracleRanked;
using testing::SignalOracle;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr size_t kCapacity = 3;
constexpr uint32_t kItems = 6;
constexpr int64_t kFutureSlack = 5 * kMinute;  // the default max_future_skew

// The default signal types plus a short-lived one with fine buckets (5m: 1m
// buckets, 90m: 5m buckets), velocity and sums, whose 1h half-life makes the
// landmark rebase within a few simulated days.
const Schema& schema() {
  static const Schema s = [] {
    SchemaBuilder b = SchemaBuilder::with_default_signals();
    b.add_signal({.name = "pulse",
                  .half_life = std::chrono::hours(1),
                  .windows = {std::chrono::minutes(5), std::chrono::minutes(90)},
                  .velocity = true,
                  .value_kind = ValueKind::kSum});
    return b.build().value();
  }();
  return s;
}

std::vector<OracleRanked> ranked(const std::vector<ScoredItem>& v) {
  std::vector<OracleRanked> out;
  for (const ScoredItem& s : v) out.push_back({s.item, s.score});
  return out;
}

std::vector<ScoredItem> scored(const std::vector<uint32_t>& items) {
  std::vector<ScoredItem> out;
  for (uint32_t item : items) out.push_back({item, 0});
  return out;
}

std::string show(const std::vector<OracleRanked>& v) {
  std::string out;
  for (const OracleRanked& r : v)
    out += " " + std::to_string(r.item) + ":" + std::to_string(r.score);
  return out;
}

std::string describe(size_t w, size_t k, const std::vector<OracleRanked>& got,
                     const std::vector<OracleRanked>& want) {
  return "(" + std::to_string(w) + ", " + std::to_string(k) + ")\n  got:" + show(got) +
         "\n  want:" + show(want);
}

// The ledger's index of oracle item `i`: itself when dense; spread apart
// (order kept) when sparse.
uint32_t index_of(const SignalLedger& ledger, uint32_t i) {
  return ledger.sparse() ? i * 700'001 + 3 : i;
}

std::vector<ScoredItem> to_oracle(const SignalLedger& ledger, std::vector<ScoredItem> v) {
  if (ledger.sparse()) {
    for (ScoredItem& s : v) s.item = (s.item - 3) / 700'001;
  }
  return v;
}

// Every answer of `ledger` at `now` equals the oracle's. A sparse ledger
// may have let go of scores below kNegligibleScore (and only such scores).
void check_all(SignalLedger& ledger, const SignalOracle& oracle, int64_t now) {
  const BucketPlan& plan = ledger.plan();
  // What a sparse ledger lets go of adds up to less than this per item.
  const double abs = ledger.sparse() ? SignalLedger::kNegligibleScore : 0.0;
  auto dropped = [&](uint32_t i) {
    return ledger.sparse() && !ledger.has_state(index_of(ledger, i)) &&
           oracle.hot(i, now) < SignalLedger::kNegligibleScore;
  };
  for (uint32_t i = 0; i < kItems; ++i) {
    const uint32_t item = index_of(ledger, i);
    double h = ledger.hot(item, now), want = oracle.hot(i, now);
    RC_ASSERT(testing::oracle_close(h, want) || std::fabs(h - want) <= abs);
    for (size_t w = 0; w < plan.windows.size(); ++w) {
      RC_ASSERT(ledger.count(item, w, now) == oracle.count(i, w, now));
      RC_ASSERT(ledger.prev_count(item, w, now) == oracle.prev_count(i, w, now));
      RC_ASSERT(ledger.sum(item, w, now) == oracle.sum(i, w, now));
      RC_ASSERT(ledger.velocity(item, w, now) == oracle.velocity(i, w, now));
    }
  }
  size_t k = *rc::gen::inRange<size_t>(1, kCapacity + 3);
  std::vector<OracleRanked> want_hot;
  for (const OracleRanked& r : oracle.top_hot(kItems, now)) {
    if (!dropped(r.item) && want_hot.size() < k) want_hot.push_back(r);
  }
  std::string hot = testing::compare_hot_ranking(
      ranked(to_oracle(ledger, ledger.top_hot(k, now))), want_hot,
      [&](uint32_t item) { return oracle.hot(item, now); }, 1e-9, abs);
  if (!hot.empty()) RC_FAIL("top_hot(" + std::to_string(k) + "): " + hot);
  for (size_t w = 0; w < plan.windows.size(); ++w) {
    auto got = ranked(to_oracle(ledger, ledger.top_count(w, k, now)));
    auto want = oracle.top_count(w, k, now);
    if (show(got) != show(want)) RC_FAIL("top_count" + describe(w, k, got, want));
    if (!plan.velocity) continue;
    got = ranked(to_oracle(ledger, ledger.top_rising(w, k, now)));
    want = oracle.top_rising(w, k, now);
    if (show(got) != show(want)) RC_FAIL("top_rising" + describe(w, k, got, want));
  }
}

// Minutes back from the present for a new event: bucket edges, window edges,
// beyond every ring, or anything in eight days.
int64_t gen_age_us() {
  int64_t minutes =
      *rc::gen::oneOf(rc::gen::element<int64_t>(0, 1, 4, 5, 59, 60, 89, 90, 119, 120, 180, 1439,
                                                1440, 2880, 10079, 10080, 20160, 11520),
                      rc::gen::inRange<int64_t>(0, 11520));
  int64_t jitter = *rc::gen::element<int64_t>(0, 0, 1, 30'000'000, kMinute - 1);
  return minutes * kMinute + jitter;
}

int64_t gen_advance_us() {
  return *rc::gen::element<int64_t>(0, 1, kMinute, 5 * kMinute, 37 * kMinute, 2 * 60 * kMinute,
                                    13 * 60 * kMinute, 24 * 60 * kMinute, 3 * 24 * 60 * kMinute);
}

RC_GTEST_PROP(SignalLedgerOracle, EveryAnswerMatchesBruteForce, ()) {
  const auto& signals = schema().signals();
  const SignalTypeDefinition& def = signals[*rc::gen::inRange<size_t>(0, signals.size())];
  const Keying keying = *rc::gen::element(Keying::kDense, Keying::kSparse);
  SignalLedger ledger(def, kCapacity, kFutureSlack, keying);
  SignalOracle oracle(def);
  bool sums = def.value_kind == ValueKind::kSum;

  int64_t now = kStart + *rc::gen::inRange<int64_t>(0, 24 * 60) * kMinute;
  int steps = *rc::gen::inRange(1, 20);
  for (int step = 0; step < steps; ++step) {
    int events = *rc::gen::inRange(0, 5);
    for (int e = 0; e < events; ++e) {
      uint32_t item = *rc::gen::inRange<uint32_t>(0, kItems);
      // Mostly past events; some up to 5 minutes ahead of the present (the
      // default max_future_skew).
      int64_t t = *rc::gen::inRange(0, 8) == 0
                      ? now + *rc::gen::inRange<int64_t>(0, kFutureSlack + 1)
                      : now - gen_age_us();
      // Sum values are whole eighths, so sums add up exactly in any order.
      double value = sums ? *rc::gen::inRange(0, 8000) / 8.0 : 1.0;
      ledger.apply(index_of(ledger, item), t, value);
      oracle.add(item, t, value);
    }
    now += gen_advance_us();
    if (*rc::gen::inRange(0, 4) == 0) {
      std::vector<uint32_t> freed;
      ledger.sweep(now, &freed);
      for (const ScoredItem& f : to_oracle(ledger, scored(freed))) {
        RC_ASSERT(!oracle.has_windowed_state(f.item, now));
      }
      RC_ASSERT(ledger.active_states() <= kItems);
      if (keying == Keying::kSparse) RC_ASSERT(ledger.item_capacity() <= kItems);
    }
    check_all(ledger, oracle, now);
  }

  // Checkpoint form: a fresh ledger restored from every item's state answers
  // the same.
  SignalLedger restored(def, kCapacity, kFutureSlack, keying);
  restored.set_landmark(ledger.landmark_us());
  for (uint32_t i = 0; i < kItems; ++i) {
    const uint32_t item = index_of(ledger, i);
    if (!ledger.has_state(item)) continue;
    std::string state;
    ledger.encode_item(item, &state);
    RC_ASSERT(restored.restore_item(item, state).ok());
  }
  restored.rebuild_indexes();
  check_all(restored, oracle, now);
}

}  // namespace
}  // namespace tidal::signals
