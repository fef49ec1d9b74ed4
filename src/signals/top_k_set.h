// TopKSet: the best `capacity` items by score, kept exactly while scores only
// rise.
//
// Order: higher score first; equal scores by smaller item index first. While
// every change is an increase reported through offer(), the set always holds
// exactly the best `capacity` items: an item outside the set is never better
// than the worst inside (inside scores only rise, and an item leaves only as
// the worst). When scores may fall (a window slides past a bucket), the owner
// rebuilds the set from all scores.
//
// Not synchronized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tidal::signals {

struct ScoredItem {
  uint32_t item;
  double score;
};

class TopKSet {
 public:
  explicit TopKSet(size_t capacity) : capacity_(capacity) {}

  // `item`'s score is now `score` (not lower than before, if it was inside).
  void offer(uint32_t item, double score);

  // Replaces the contents with the best `capacity` of `all`.
  void rebuild(std::vector<ScoredItem> all);

  // Multiplies every score by `factor` > 0 (order is unchanged); items whose
  // score underflows to 0 leave the set.
  void rescale(double factor);

  // The best min(k, size()) items, best first.
  std::vector<ScoredItem> top(size_t k) const;

  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }
  void clear();

 private:
  struct Better {
    bool operator()(const std::pair<double, uint32_t>& a,
                    const std::pair<double, uint32_t>& b) const {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    }
  };

  size_t capacity_;
  std::set<std::pair<double, uint32_t>, Better> order_;
  std::unordered_map<uint32_t, double> score_of_;
};

}  // namespace tidal::signals
