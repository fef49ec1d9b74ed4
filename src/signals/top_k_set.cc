#include "signals/top_k_set.h"

#include <algorithm>

namespace tidal::signals {

uint32_t* TopKSet::SlotMap::find(uint32_t item) {
  if (keys_.empty()) return nullptr;
  for (size_t pos = home(item);; pos = (pos + 1) & (keys_.size() - 1)) {
    if (keys_[pos] == item) return &values_[pos];
    if (keys_[pos] == kEmpty) return nullptr;
  }
}

void TopKSet::SlotMap::set(uint32_t item, uint32_t slot) {
  if ((size_ + 1) * 4 > keys_.size() * 3) grow();
  size_t pos = home(item);
  while (keys_[pos] != kEmpty && keys_[pos] != item) pos = (pos + 1) & (keys_.size() - 1);
  if (keys_[pos] == kEmpty) {
    keys_[pos] = item;
    ++size_;
  }
  values_[pos] = slot;
}

void TopKSet::SlotMap::erase(uint32_t item) {
  if (keys_.empty()) return;
  const size_t mask = keys_.size() - 1;
  size_t pos = home(item);
  while (keys_[pos] != item) {
    if (keys_[pos] == kEmpty) return;
    pos = (pos + 1) & mask;
  }
  // Backward shift: move later entries of the probe run into the hole when
  // their home is not between the hole and them.
  size_t hole = pos;
  for (size_t next = (hole + 1) & mask; keys_[next] != kEmpty; next = (next + 1) & mask) {
    const size_t h = home(keys_[next]);
    const bool stays = hole <= next ? (hole < h && h <= next) : (hole < h || h <= next);
    if (stays) continue;
    keys_[hole] = keys_[next];
    values_[hole] = values_[next];
    hole = next;
  }
  keys_[hole] = kEmpty;
  --size_;
}

void TopKSet::SlotMap::grow() {
  std::vector<uint32_t> keys = std::move(keys_);
  std::vector<uint32_t> values = std::move(values_);
  keys_.assign(keys.empty() ? 16 : keys.size() * 2, kEmpty);
  values_.assign(keys_.size(), 0);
  size_ = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] != kEmpty) set(keys[i], values[i]);
  }
}

void TopKSet::place(size_t slot, const Entry& e) {
  heap_[slot] = e;
  slot_of_.set(e.item, static_cast<uint32_t>(slot));
}

// Moves the entry at `slot` toward the root while it is worse than its parent.
void TopKSet::sift_up(size_t slot) {
  const Entry e = heap_[slot];
  while (slot > 0) {
    const size_t parent = (slot - 1) / 2;
    if (!worse(e, heap_[parent])) break;
    place(slot, heap_[parent]);
    slot = parent;
  }
  place(slot, e);
}

// Moves the entry at `slot` toward the leaves while a child is worse.
void TopKSet::sift_down(size_t slot) {
  const Entry e = heap_[slot];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * slot + 1;
    if (child >= n) break;
    if (child + 1 < n && worse(heap_[child + 1], heap_[child])) ++child;
    if (!worse(heap_[child], e)) break;
    place(slot, heap_[child]);
    slot = child;
  }
  place(slot, e);
}

void TopKSet::offer(uint32_t item, double score) {
  if (capacity_ == 0) return;
  if (const uint32_t* at = slot_of_.find(item)) {
    const size_t slot = *at;
    const bool lower = score < heap_[slot].score;
    heap_[slot].score = score;
    if (lower) {
      sift_up(slot);
    } else {
      sift_down(slot);
    }
    return;
  }
  const Entry entry{score, item};
  if (heap_.size() >= capacity_) {
    // Full: it enters only if better than the worst, which leaves.
    if (!worse(heap_[0], entry)) return;
    slot_of_.erase(heap_[0].item);
    heap_[0] = entry;
    sift_down(0);
    return;
  }
  heap_.push_back(entry);
  sift_up(heap_.size() - 1);
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
  heap_.reserve(all.size());
  for (const ScoredItem& s : all) heap_.push_back({s.score, s.item});
  // Worst at the root: a max-heap under "better".
  std::make_heap(heap_.begin(), heap_.end(),
                 [](const Entry& a, const Entry& b) { return worse(b, a); });
  for (size_t i = 0; i < heap_.size(); ++i) slot_of_.set(heap_[i].item, static_cast<uint32_t>(i));
}

void TopKSet::rescale(double factor) {
  std::vector<ScoredItem> all;
  all.reserve(heap_.size());
  for (const Entry& e : heap_) {
    // A score that underflows to 0 leaves the set, as it would a rebuild
    // from the owner's positive scores.
    if (e.score * factor > 0) all.push_back({e.item, e.score * factor});
  }
  rebuild(std::move(all));
}

std::vector<ScoredItem> TopKSet::top(size_t k) const {
  std::vector<ScoredItem> out;
  out.reserve(heap_.size());
  for (const Entry& e : heap_) out.push_back({e.item, e.score});
  auto better = [](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  };
  const size_t n = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(), better);
  out.resize(n);
  return out;
}

void TopKSet::clear() {
  heap_.clear();
  slot_of_.clear();
}

}  // namespace tidal::signals
