// TopKSet (src/signals/top_k_set.h) against a brute-force model: after any
// sequence of offers whose scores only rise per item — with rebuilds and
// rescales in between, as the ledger does — top(k) is exactly the best k of
// every item's current score (ties by the smaller item index).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

#include "signals/top_k_set.h"

namespace tidal::signals {
namespace {

std::vector<ScoredItem> best(const std::map<uint32_t, double>& scores, size_t k) {
  std::vector<ScoredItem> all;
  for (const auto& [item, score] : scores) all.push_back({item, score});
  std::sort(all.begin(), all.end(), [](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

RC_GTEST_PROP(TopKSetProp, HoldsTheBestWhileScoresRise, ()) {
  const size_t capacity = *rc::gen::inRange<size_t>(0, 40);
  const uint32_t items = *rc::gen::inRange<uint32_t>(1, 120);
  const int steps = *rc::gen::inRange(1, 400);
  TopKSet set(capacity);
  std::map<uint32_t, double> model;  // every item's current score
  for (int step = 0; step < steps; ++step) {
    const int what = *rc::gen::inRange(0, 100);
    if (what < 2) {
      // A rescale, as a landmark rebase does: every score times a factor.
      const double factor = *rc::gen::element(0.5, 0.25, 1e-3);
      set.rescale(factor);
      for (auto it = model.begin(); it != model.end();) {
        it->second *= factor;
        it = it->second > 0 ? std::next(it) : model.erase(it);
      }
    } else if (what < 4) {
      // A rebuild from all scores (some may have fallen, as a window slides).
      for (auto& [item, score] : model) score = std::floor(score / 2);
      std::erase_if(model, [](const auto& e) { return !(e.second > 0); });
      std::vector<ScoredItem> all;
      for (const auto& [item, score] : model) all.push_back({item, score});
      set.rebuild(std::move(all));
    } else {
      // An increase (small integer steps make ties common).
      const uint32_t item = *rc::gen::inRange<uint32_t>(0, items);
      const double now = model.contains(item) ? model[item] : 0;
      const double score = now + *rc::gen::element(0.0, 1.0, 1.0, 2.0, 0.5);
      if (!(score > 0)) continue;
      model[item] = score;
      set.offer(item, score);
    }
    const size_t k = *rc::gen::inRange<size_t>(0, capacity + 2);
    const std::vector<ScoredItem> got = set.top(k);
    const std::vector<ScoredItem> want = best(model, std::min(k, capacity));
    RC_ASSERT(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      RC_ASSERT(got[i].item == want[i].item);
      RC_ASSERT(got[i].score == want[i].score);
    }
    RC_ASSERT(set.size() == std::min(model.size(), capacity));
  }
}

}  // namespace
}  // namespace tidal::signals
