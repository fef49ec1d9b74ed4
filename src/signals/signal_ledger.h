// SignalLedger: everything the global ledger knows about one signal type.
//
// Hot tier — the forward-decayed score (Cormode et al., ICDE 2009). For each
// item we keep S = Σ wᵢ·e^{λ(tᵢ−L)} for a landmark L; the decayed score at
// time t is S·e^{−λ(t−L)}. Adding an event is one atomic addition (lock-free,
// correct in any order of arrival), and the order of items by S — which is
// the order by decayed score at any t — changes only when events arrive, so
// the hot top-k is maintained incrementally. When λ(t−L) grows large, L moves
// forward and every S is rescaled by the same factor (a rebase): relative
// precision is unchanged because doubles are scale-free.
//
// Warm tier — WarmState rings per active item: windowed counts, sums and
// velocity. Allocated when an item gets an event, freed by sweep() once the
// item has been quiet for longer than every ring reaches.
//
// Trending — one TopKSet for hot, and per window one for top (count) and,
// with velocity, one for rising (count − previous window's count). Window
// scores only change when an event arrives (up) or when `now` crosses a bucket
// boundary (either way); each window index is maintained incrementally within
// a bucket and rebuilt from the active items when the bucket changes.
//
// Keying — dense (the global ledger): state lives in arrays indexed by the
// item's dense index, so hot() needs no lock. Sparse (a cohort's ledger,
// docs/cohorts.md): state lives in slots handed out as (item, signal) pairs
// become active and taken back when they are quiet — every window's ring has
// passed and the decayed score is below kNegligibleScore — so memory follows
// the pairs with activity, not the item count. Both keyings run the same
// code: every access goes through a slot (the item itself when dense).
//
// Thread safety: the owner (GlobalLedger, CohortStore) serializes writers and
// holds its lock shared for reads and exclusively for apply(); hot() alone may
// be read without any lock, in a dense ledger only. The trending indexes have
// their own mutex so that concurrent readers can rebuild them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "signals/bucket_plan.h"
#include "signals/chunked_array.h"
#include "signals/top_k_set.h"
#include "signals/warm_state.h"
#include "tidal/schema.h"

namespace tidal::signals {

enum class Keying : uint8_t { kDense, kSparse };

class SignalLedger {
 public:
  // A sparse ledger frees a quiet pair once its decayed score is below this
  // (scores are in units of an event's value: 1e-12 of one event).
  static constexpr double kNegligibleScore = 1e-12;

  // `future_slack_us`: how far ahead of the present event times may be (see
  // BucketPlan::for_signal).
  SignalLedger(SignalTypeDefinition def, size_t trending_capacity, int64_t future_slack_us = 0,
               Keying keying = Keying::kDense);
  ~SignalLedger();
  SignalLedger(const SignalLedger&) = delete;
  SignalLedger& operator=(const SignalLedger&) = delete;

  const SignalTypeDefinition& definition() const { return def_; }
  const BucketPlan& plan() const { return plan_; }

  // Adds one event for `item` at event time t_us with weight `value`
  // (1 for count signals). `now_us` is the database's present, which the
  // trending indexes are kept at. Exclusive lock held.
  void apply(uint32_t item, int64_t t_us, double value);

  // The decayed score S·e^{−λ(now−L)}. Lock-free when dense; a sparse
  // ledger's reader holds the shared lock.
  double hot(uint32_t item, int64_t now_us) const;
  bool sparse() const { return sparse_; }
  // Shared lock held for these.
  uint64_t count(uint32_t item, size_t window, int64_t now_us) const;
  uint64_t prev_count(uint32_t item, size_t window, int64_t now_us) const;
  double sum(uint32_t item, size_t window, int64_t now_us) const;
  // count − prev_count (0 without velocity).
  double velocity(uint32_t item, size_t window, int64_t now_us) const;
  // Hints the CPU to load `item`'s warm state: a query scoring many items
  // calls it a few items ahead, so the cache misses overlap.
  void prefetch(uint32_t item) const {
    if (!sparse_ && item < warm_->size()) __builtin_prefetch((*warm_)[item]);
  }

  // Window columns: one windowed value of every item in a dense array, exact
  // for one bucket of the window (so for any time in it). A query scoring
  // many items reads the column instead of each item's warm-state block —
  // a cache miss per item and signal. A column is built on first use and
  // again when a read's `now` is in a newer bucket (O(active items)); in
  // between, apply() and erase() keep it exact. Only columns a query asked
  // for exist. Shared lock held; builders exclude each other.
  enum class ColumnKind : uint8_t { kCount, kPrevCount, kSum };
  struct WindowColumn {
    int64_t bucket = INT64_MIN;
    std::vector<double> values;  // by item; an item past the end has 0
    double at(uint32_t item) const { return item < values.size() ? values[item] : 0.0; }
  };
  std::shared_ptr<const WindowColumn> column(size_t window, ColumnKind kind, int64_t now_us);

  // The best k items, best first, ties by smaller item index. Shared lock held.
  std::vector<ScoredItem> top_hot(size_t k, int64_t now_us);
  std::vector<ScoredItem> top_count(size_t window, size_t k, int64_t now_us);
  std::vector<ScoredItem> top_rising(size_t window, size_t k, int64_t now_us);

  // Forgets everything about `item` (a deleted item): its score drops to 0
  // and it leaves every trending index. O(1); the next trending read
  // rebuilds the indexes. Exclusive lock held.
  void erase(uint32_t item);

  // Frees the warm state of items quiet at now_us and appends them to
  // `freed` (a sparse ledger also frees their slot once the decayed score is
  // negligible, and lists those too). Exclusive lock held.
  void sweep(int64_t now_us, std::vector<uint32_t>* freed);

  // Memory and activity figures.
  size_t active_states() const { return active_.size(); }
  size_t warm_bytes() const { return active_.size() * WarmState::block_bytes(plan_); }
  // Dense: one past the highest item index; sparse: the slots in use.
  uint32_t item_capacity() const;
  // Bytes held for scores and slots (the warm blocks are warm_bytes()).
  size_t hot_bytes() const;
  int64_t landmark_us() const { return landmark_us_.load(std::memory_order_acquire); }
  // How many times the landmark moved and every score was rescaled.
  uint64_t rebases() const { return rebases_; }
  // The items whose score the last rebase rescaled (to zero, for some): a
  // stored score is relative to the stored landmark, so each must be written
  // again with the new one. Exclusive lock held.
  std::vector<uint32_t> take_rescaled() { return std::exchange(rescaled_, {}); }

  // Checkpoint form of one item's state, and its inverse; an item without
  // state (has_state() false) is not stored. Exclusive lock held for restore.
  // Layout: docs/formats/storage.md#signal-state
  bool has_state(uint32_t item) const;
  void encode_item(uint32_t item, std::string* out) const;
  Status restore_item(uint32_t item, std::string_view in);
  void set_landmark(int64_t landmark_us);
  // Rebuilds every trending index from the restored state.
  void rebuild_indexes();

  // Bulk loading (recovery): while on, apply() leaves the trending indexes
  // alone — keeping them exact costs an ordered-set update on most events —
  // and turning it off rebuilds them once. Exclusive lock held.
  void set_bulk_load(bool on);

 private:
  struct WindowIndex {
    explicit WindowIndex(size_t capacity) : set(capacity) {}
    TopKSet set;
    int64_t bucket = INT64_MIN;  // the bucket of `now` the scores are exact for
  };

  static constexpr uint32_t kNoSlot = UINT32_MAX;
  struct SparseSlot {
    std::atomic<double> score{0};
    WarmState* warm = nullptr;
    uint32_t item = kNoSlot;  // kNoSlot: free
  };
  // The slot of `item` (kNoSlot when it has none); the item itself if dense.
  uint32_t find_slot(uint32_t item) const;
  // The slot of `item`, made if needed (exclusive lock held).
  uint32_t slot_for(uint32_t item);
  void free_slot(uint32_t slot);
  uint32_t item_of(uint32_t slot) const { return sparse_ ? sparse_slots_[slot].item : slot; }
  uint32_t slot_end() const {
    return sparse_ ? static_cast<uint32_t>(sparse_slots_.size()) : hot_->size();
  }
  std::atomic<double>& score_at(uint32_t slot) {
    return sparse_ ? sparse_slots_[slot].score : (*hot_)[slot];
  }
  const std::atomic<double>& score_at(uint32_t slot) const {
    return sparse_ ? sparse_slots_[slot].score : (*hot_)[slot];
  }
  WarmState*& warm_at(uint32_t slot) { return sparse_ ? sparse_slots_[slot].warm : (*warm_)[slot]; }
  WarmState* warm_at(uint32_t slot) const {
    return sparse_ ? sparse_slots_[slot].warm : (*warm_)[slot];
  }
  // The warm state of `item`, or nullptr.
  const WarmState* warm_of(uint32_t item) const;
  // The scores above zero, for rebuilding the hot index.
  std::vector<ScoredItem> positive_scores() const;
  double column_value(const WarmState& s, size_t window, ColumnKind kind, int64_t bucket) const;
  // Re-reads `item`'s value into every column (exclusive lock held).
  void update_columns(uint32_t item);
  void drop_columns();
  // Drops the entries of erased items from active_.
  void compact_active();
  void rebase(int64_t new_landmark_us);
  double raw_score(uint32_t item) const;
  double scaled(double raw, int64_t now_us) const;
  // The index's scores for an item at the index's bucket.
  double window_score(const WarmState& s, size_t window, bool rising, int64_t bucket) const;
  std::vector<ScoredItem> top_window(std::vector<WindowIndex>& indexes, size_t window, size_t k,
                                     int64_t now_us, bool rising);
  void rebuild_window(WindowIndex& index, size_t window, bool rising, int64_t bucket);

  SignalTypeDefinition def_;
  BucketPlan plan_;
  double lambda_per_us_;
  size_t capacity_;
  bool bulk_load_ = false;

  std::atomic<int64_t> landmark_us_{INT64_MIN};  // unset until the first event
  std::atomic<uint64_t> rebase_epoch_{0};        // odd while a rebase runs
  uint64_t rebases_ = 0;                         // exclusive lock
  std::vector<uint32_t> rescaled_;               // exclusive lock
  bool sparse_;
  // Dense keying: by item (allocated only when dense: each array's chunk
  // directory is half a megabyte).
  std::unique_ptr<ChunkedArray<std::atomic<double>>> hot_;
  std::unique_ptr<ChunkedArray<WarmState*>> warm_;
  // Sparse keying: slots, the slot of each item with one, and free slots. A
  // deque never moves its elements as it grows.
  std::deque<SparseSlot> sparse_slots_;
  std::unordered_map<uint32_t, uint32_t> slot_of_;
  std::vector<uint32_t> free_slots_;
  uint32_t item_bound_ = 0;  // sparse: one past the highest item given a slot

  std::vector<uint32_t> active_;    // slots with a warm state, any order
  bool active_has_erased_ = false;  // active_ may name slots whose state was freed

  // Per window, per ColumnKind. Builders hold column_mu_ (under the shared
  // lock); apply() and erase() update the columns in place under the
  // exclusive lock, when no reader can hold one.
  std::mutex column_mu_;
  std::vector<std::array<std::shared_ptr<WindowColumn>, 3>> columns_;
  bool has_columns_ = false;

  std::mutex index_mu_;  // guards the trending indexes
  TopKSet hot_top_;
  bool hot_stale_ = false;               // an item left: rebuild hot_top_ before reading it
  std::vector<WindowIndex> count_top_;   // per window
  std::vector<WindowIndex> rising_top_;  // per window (velocity only)
};

}  // namespace tidal::signals
