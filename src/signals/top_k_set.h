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

  size_t size() const { return heap_.size(); }
  size_t capacity() const { return capacity_; }
  void clear();

 private:
  // A binary heap with the worst entry at the root (so eviction and the
  // "better than the worst?" test are O(1) to find), and each item's slot in
  // it. An event raises an item's score, which moves it away from the root:
  // usually a level or two, with no allocation (an ordered tree of nodes
  // spent most of a cohort event's time erasing and re-inserting).
  struct Entry {
    double score;
    uint32_t item;
  };
  // a ranks below b: lower score, or the same score and a larger item index.
  static bool worse(const Entry& a, const Entry& b) {
    return a.score != b.score ? a.score < b.score : a.item > b.item;
  }
  void place(size_t slot, const Entry& e);
  void sift_up(size_t slot);
  void sift_down(size_t slot);

  // Item -> heap slot: an open-addressing table (linear probing, deletion by
  // backward shift) sized to the entries, because sifting updates a moved
  // entry's slot at every level and std::unordered_map's node walk was a
  // third of an offer's time.
  class SlotMap {
   public:
    // A pointer to item's slot, nullptr when absent.
    uint32_t* find(uint32_t item);
    // Sets item's slot (inserting it if absent).
    void set(uint32_t item, uint32_t slot);
    void erase(uint32_t item);
    void clear() {
      keys_.clear();
      values_.clear();
      size_ = 0;
    }

   private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    size_t home(uint32_t item) const {
      return (item * 0x9e3779b1u) & (keys_.size() - 1);  // Fibonacci hashing
    }
    void grow();
    std::vector<uint32_t> keys_;  // kEmpty: a free slot; a power of two in size
    std::vector<uint32_t> values_;
    size_t size_ = 0;
  };

  size_t capacity_;
  std::vector<Entry> heap_;
  SlotMap slot_of_;
};

}  // namespace tidal::signals
