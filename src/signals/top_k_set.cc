#include "signals/top_k_set.h"

#include <algorithm>

namespace tidal::signals {

void TopKSet::offer(uint32_t item, double score) {
  if (capacity_ == 0) return;
  auto it = score_of_.find(item);
  if (it != score_of_.end()) {
    order_.erase({it->second, item});
    it->second = score;
    order_.insert({score, item});
    return;
  }
  std::pair<double, uint32_t> entry{score, item};
  if (order_.size() >= capacity_) {
    auto worst = std::prev(order_.end());
    if (!Better()(entry, *worst)) return;
    score_of_.erase(worst->second);
    order_.erase(worst);
  }
  order_.insert(entry);
  score_of_.emplace(item, score);
}

void TopKSet::rebuild(std::vector<ScoredItem> all) {
  clear();
  auto better = [](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  };
  if (all.size() > capacity_) {
    std::nth_element(all.begin(), all.begin() + static_cast<ptrdiff_t>(capacity_), all.end(),
                     better);
    all.resize(capacity_);
  }
  for (const ScoredItem& s : all) {
    order_.insert({s.score, s.item});
    score_of_.emplace(s.item, s.score);
  }
}

void TopKSet::rescale(double factor) {
  std::vector<ScoredItem> all;
  all.reserve(order_.size());
  for (const auto& [score, item] : order_) {
    // A score that underflows to 0 leaves the set, as it would a rebuild
    // from the owner's positive scores.
    if (score * factor > 0) all.push_back({item, score * factor});
  }
  rebuild(std::move(all));
}

std::vector<ScoredItem> TopKSet::top(size_t k) const {
  std::vector<ScoredItem> out;
  out.reserve(std::min(k, order_.size()));
  for (const auto& [score, item] : order_) {
    if (out.size() == k) break;
    out.push_back({item, score});
  }
  return out;
}

void TopKSet::clear() {
  order_.clear();
  score_of_.clear();
}

}  // namespace tidal::signals
