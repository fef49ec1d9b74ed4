#include "signals/signal_ledger.h"

#include <algorithm>
#include <cmath>

#include "core/coding.h"

namespace tidal::signals {

namespace {
// Rebase once e^{λ(t−L)} would exceed e^200 (~7e86): far from overflow
// (1.8e308) even for scores summed over billions of events.
constexpr double kRebaseExponent = 200.0;

// s·e^{−x}, rounded once. e^{−x} alone leaves the normal doubles once x passes
// 708 and keeps fewer digits the further it goes, although s·e^{−x} may still
// be a normal number (a score read months after the landmark): then the
// product is taken in logarithms. Scores are never negative.
double scale_down(double s, double x) {
  if (x < 700) return s * std::exp(-x);
  return s > 0 ? std::exp(std::log(s) - x) : 0.0;
}
}  // namespace

SignalLedger::SignalLedger(SignalTypeDefinition def, size_t trending_capacity,
                           int64_t future_slack_us, Keying keying)
    : def_(std::move(def)),
      plan_(BucketPlan::for_signal(def_, future_slack_us)),
      lambda_per_us_(def_.lambda_per_second / 1e6),
      capacity_(trending_capacity),
      sparse_(keying == Keying::kSparse),
      hot_top_(trending_capacity) {
  if (!sparse_) {
    hot_ = std::make_unique<ChunkedArray<std::atomic<double>>>();
    warm_ = std::make_unique<ChunkedArray<WarmState*>>();
  }
  for (size_t w = 0; w < plan_.windows.size(); ++w) {
    count_top_.emplace_back(trending_capacity);
    if (plan_.velocity) rising_top_.emplace_back(trending_capacity);
  }
}

SignalLedger::~SignalLedger() {
  compact_active();
  for (uint32_t slot : active_) WarmState::destroy(warm_at(slot));
}

uint32_t SignalLedger::find_slot(uint32_t item) const {
  if (!sparse_) return item < hot_->size() ? item : kNoSlot;
  auto it = slot_of_.find(item);
  return it == slot_of_.end() ? kNoSlot : it->second;
}

uint32_t SignalLedger::slot_for(uint32_t item) {
  if (!sparse_) {
    if (item >= hot_->size()) {
      hot_->ensure(item);
      warm_->ensure(item);
    }
    return item;
  }
  auto [it, added] = slot_of_.try_emplace(item, kNoSlot);
  if (!added) return it->second;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(sparse_slots_.size());
    sparse_slots_.emplace_back();
  }
  sparse_slots_[slot].item = item;
  it->second = slot;
  item_bound_ = std::max(item_bound_, item + 1);
  return slot;
}

void SignalLedger::free_slot(uint32_t slot) {
  SparseSlot& s = sparse_slots_[slot];
  if (s.warm != nullptr) {
    WarmState::destroy(s.warm);
    s.warm = nullptr;
    active_has_erased_ = true;
  }
  s.score.store(0, std::memory_order_relaxed);
  slot_of_.erase(s.item);
  s.item = kNoSlot;
  free_slots_.push_back(slot);
}

const WarmState* SignalLedger::warm_of(uint32_t item) const {
  uint32_t slot = find_slot(item);
  return slot == kNoSlot ? nullptr : warm_at(slot);
}

uint32_t SignalLedger::item_capacity() const {
  return sparse_ ? static_cast<uint32_t>(slot_of_.size()) : hot_->size();
}

size_t SignalLedger::hot_bytes() const {
  if (!sparse_) return size_t{hot_->size()} * sizeof(double);
  // The slots, and the map's node and bucket per item (approximately).
  return sparse_slots_.size() * sizeof(SparseSlot) + slot_of_.size() * 32 +
         free_slots_.capacity() * sizeof(uint32_t);
}

std::vector<ScoredItem> SignalLedger::positive_scores() const {
  std::vector<ScoredItem> all;
  const uint32_t n = slot_end();
  for (uint32_t slot = 0; slot < n; ++slot) {
    double s = score_at(slot).load(std::memory_order_acquire);
    if (s > 0) all.push_back({item_of(slot), s});
  }
  return all;
}

void SignalLedger::compact_active() {
  if (!active_has_erased_) return;
  std::erase_if(active_, [&](uint32_t slot) { return warm_at(slot) == nullptr; });
  active_has_erased_ = false;
}

void SignalLedger::erase(uint32_t item) {
  const uint32_t slot = find_slot(item);
  if (slot == kNoSlot) return;
  if (sparse_) {
    free_slot(slot);
  } else {
    score_at(slot).store(0, std::memory_order_release);
    if (warm_at(slot) != nullptr) {
      WarmState::destroy(warm_at(slot));
      warm_at(slot) = nullptr;
      active_has_erased_ = true;
    }
  }
  if (has_columns_) update_columns(item);
  std::lock_guard<std::mutex> lk(index_mu_);
  hot_stale_ = true;
  for (auto& idx : count_top_) idx.bucket = INT64_MIN;
  for (auto& idx : rising_top_) idx.bucket = INT64_MIN;
}

void SignalLedger::set_landmark(int64_t landmark_us) {
  landmark_us_.store(landmark_us, std::memory_order_release);
}

void SignalLedger::rebase(int64_t new_landmark_us) {
  int64_t old = landmark_us_.load(std::memory_order_relaxed);
  const double exponent = lambda_per_us_ * static_cast<double>(new_landmark_us - old);
  const double factor = std::exp(-exponent);
  // A seqlock around the rescale: hot() retries if it overlapped.
  rebase_epoch_.fetch_add(1, std::memory_order_acq_rel);
  const uint32_t n = slot_end();
  rescaled_.clear();  // the owner took the previous rebase's list, if it wanted it
  for (uint32_t slot = 0; slot < n; ++slot) {
    std::atomic<double>& score = score_at(slot);
    double v = score.load(std::memory_order_relaxed);
    if (v == 0) continue;
    score.store(scale_down(v, exponent), std::memory_order_relaxed);
    rescaled_.push_back(item_of(slot));
  }
  landmark_us_.store(new_landmark_us, std::memory_order_release);
  rebase_epoch_.fetch_add(1, std::memory_order_acq_rel);
  ++rebases_;
  std::lock_guard<std::mutex> lk(index_mu_);
  if (exponent < 700) {
    hot_top_.rescale(factor);
  } else {
    hot_stale_ = true;  // scores were rescaled one by one: rebuild from them
  }
}

void SignalLedger::apply(uint32_t item, int64_t t_us, double value) {
  const uint32_t slot = slot_for(item);
  int64_t landmark = landmark_us_.load(std::memory_order_relaxed);
  if (landmark == INT64_MIN) {
    landmark = t_us;
    landmark_us_.store(landmark, std::memory_order_release);
  } else if (lambda_per_us_ * static_cast<double>(t_us - landmark) > kRebaseExponent) {
    rebase(t_us);
    landmark = t_us;
  }
  double weight = value * std::exp(lambda_per_us_ * static_cast<double>(t_us - landmark));
  double s = score_at(slot).fetch_add(weight, std::memory_order_acq_rel) + weight;

  WarmState* state = warm_at(slot);
  if (state == nullptr && !plan_.windows.empty()) {
    compact_active();
    state = WarmState::create(plan_).release();
    warm_at(slot) = state;
    active_.push_back(slot);
  }
  if (state) state->add(plan_, t_us, value);
  if (has_columns_) update_columns(item);
  if (bulk_load_) return;

  std::lock_guard<std::mutex> lk(index_mu_);
  // The indexes hold the same candidates a scan or a rebuild would: items
  // with a positive score (hot, top) or with windowed state (rising).
  if (s > 0) hot_top_.offer(item, s);
  if (!state) return;
  for (size_t w = 0; w < plan_.windows.size(); ++w) {
    if (count_top_[w].bucket != INT64_MIN) {
      double score = window_score(*state, w, false, count_top_[w].bucket);
      if (score > 0) count_top_[w].set.offer(item, score);
    }
    WindowIndex* rising = plan_.velocity ? &rising_top_[w] : nullptr;
    if (rising == nullptr || rising->bucket == INT64_MIN) continue;
    const WindowPlan& wp = plan_.windows[w];
    int64_t b = bucket_of(t_us, wp.width_us);
    if (b > rising->bucket - 2 * int64_t{wp.buckets} && b <= rising->bucket - wp.buckets) {
      // A late event in the previous window lowers the item's velocity; the
      // set is exact only while scores rise, so rebuild it at the next read.
      rising->bucket = INT64_MIN;
    } else if (!state->quiet(plan_, rising->bucket * wp.width_us)) {
      rising->set.offer(item, window_score(*state, w, true, rising->bucket));
    }
  }
}

double SignalLedger::raw_score(uint32_t item) const {
  const uint32_t slot = find_slot(item);
  return slot == kNoSlot ? 0.0 : score_at(slot).load(std::memory_order_acquire);
}

double SignalLedger::scaled(double raw, int64_t now_us) const {
  int64_t landmark = landmark_us_.load(std::memory_order_acquire);
  if (raw == 0 || landmark == INT64_MIN) return 0;
  return scale_down(raw, lambda_per_us_ * static_cast<double>(now_us - landmark));
}

double SignalLedger::hot(uint32_t item, int64_t now_us) const {
  if (sparse_) return scaled(raw_score(item), now_us);  // under the owner's lock
  while (true) {
    uint64_t e1 = rebase_epoch_.load(std::memory_order_acquire);
    if (e1 & 1) continue;
    double s = raw_score(item);
    int64_t landmark = landmark_us_.load(std::memory_order_acquire);
    if (rebase_epoch_.load(std::memory_order_acquire) != e1) continue;
    if (s == 0 || landmark == INT64_MIN) return 0;
    return scale_down(s, lambda_per_us_ * static_cast<double>(now_us - landmark));
  }
}

uint64_t SignalLedger::count(uint32_t item, size_t window, int64_t now_us) const {
  const WarmState* s = warm_of(item);
  return s ? s->count(plan_, window, now_us) : 0;
}

uint64_t SignalLedger::prev_count(uint32_t item, size_t window, int64_t now_us) const {
  const WarmState* s = warm_of(item);
  return s ? s->prev_count(plan_, window, now_us) : 0;
}

double SignalLedger::sum(uint32_t item, size_t window, int64_t now_us) const {
  const WarmState* s = warm_of(item);
  return s ? s->sum(plan_, window, now_us) : 0;
}

double SignalLedger::velocity(uint32_t item, size_t window, int64_t now_us) const {
  if (!plan_.velocity) return 0;
  return static_cast<double>(count(item, window, now_us)) -
         static_cast<double>(prev_count(item, window, now_us));
}

double SignalLedger::window_score(const WarmState& s, size_t window, bool rising,
                                  int64_t bucket) const {
  int64_t at = bucket * plan_.windows[window].width_us;
  double c = static_cast<double>(s.count(plan_, window, at));
  return rising ? c - static_cast<double>(s.prev_count(plan_, window, at)) : c;
}

void SignalLedger::rebuild_window(WindowIndex& index, size_t window, bool rising, int64_t bucket) {
  std::vector<ScoredItem> all;
  all.reserve(active_.size());
  for (uint32_t slot : active_) {
    const WarmState* state = warm_at(slot);
    if (state == nullptr) continue;  // erased
    double score = window_score(*state, window, rising, bucket);
    // A count index holds only items with events in the window; a rising
    // index holds every item with windowed state at that time (velocity can
    // be negative), whether or not sweep() has freed the quiet ones yet.
    bool candidate =
        rising ? !state->quiet(plan_, bucket * plan_.windows[window].width_us) : score > 0;
    if (candidate) all.push_back({item_of(slot), score});
  }
  index.set.rebuild(std::move(all));
  index.bucket = bucket;
}

std::vector<ScoredItem> SignalLedger::top_window(std::vector<WindowIndex>& indexes, size_t window,
                                                 size_t k, int64_t now_us, bool rising) {
  int64_t bucket = bucket_of(now_us, plan_.windows[window].width_us);
  std::lock_guard<std::mutex> lk(index_mu_);
  WindowIndex& index = indexes[window];
  if (k > capacity_) {
    // Deeper than the index keeps: answer from a full scan.
    WindowIndex deep(k);
    rebuild_window(deep, window, rising, bucket);
    return deep.set.top(k);
  }
  if (index.bucket != bucket) rebuild_window(index, window, rising, bucket);
  return index.set.top(k);
}

std::vector<ScoredItem> SignalLedger::top_count(size_t window, size_t k, int64_t now_us) {
  return top_window(count_top_, window, k, now_us, false);
}

std::vector<ScoredItem> SignalLedger::top_rising(size_t window, size_t k, int64_t now_us) {
  if (!plan_.velocity) return {};
  return top_window(rising_top_, window, k, now_us, true);
}

std::vector<ScoredItem> SignalLedger::top_hot(size_t k, int64_t now_us) {
  std::vector<ScoredItem> raw;
  if (k > capacity_) {
    TopKSet deep(k);
    deep.rebuild(positive_scores());
    raw = deep.top(k);
  } else {
    std::lock_guard<std::mutex> lk(index_mu_);
    if (hot_stale_) {
      hot_top_.rebuild(positive_scores());
      hot_stale_ = false;
    }
    raw = hot_top_.top(k);
  }
  int64_t landmark = landmark_us_.load(std::memory_order_acquire);
  if (raw.empty() || landmark == INT64_MIN) return raw;  // no event yet: no landmark
  const double exponent = lambda_per_us_ * static_cast<double>(now_us - landmark);
  for (ScoredItem& s : raw) s.score = scale_down(s.score, exponent);
  return raw;
}

void SignalLedger::sweep(int64_t now_us, std::vector<uint32_t>* freed) {
  compact_active();
  size_t kept = 0;
  for (uint32_t slot : active_) {
    WarmState* s = warm_at(slot);
    if (s->quiet(plan_, now_us)) {
      WarmState::destroy(s);
      warm_at(slot) = nullptr;
      const uint32_t item = item_of(slot);
      freed->push_back(item);
      if (has_columns_) update_columns(item);
    } else {
      active_[kept++] = slot;
    }
  }
  active_.resize(kept);
  bool freed_scores = false;
  if (sparse_) {
    // A pair without windowed state whose score no longer matters gives
    // its slot back.
    const uint32_t n = slot_end();
    for (uint32_t slot = 0; slot < n; ++slot) {
      SparseSlot& s = sparse_slots_[slot];
      if (s.item == kNoSlot || s.warm != nullptr) continue;
      if (scaled(s.score.load(std::memory_order_relaxed), now_us) >= kNegligibleScore) continue;
      const uint32_t item = s.item;
      freed_scores = freed_scores || s.score.load(std::memory_order_relaxed) > 0;
      free_slot(slot);
      freed->push_back(item);
    }
  }
  std::lock_guard<std::mutex> lk(index_mu_);
  if (freed_scores) hot_stale_ = true;
  for (auto& idx : count_top_) idx.bucket = INT64_MIN;
  for (auto& idx : rising_top_) idx.bucket = INT64_MIN;
}

bool SignalLedger::has_state(uint32_t item) const {
  const uint32_t slot = find_slot(item);
  if (slot == kNoSlot) return false;
  return score_at(slot).load(std::memory_order_acquire) != 0 || warm_at(slot) != nullptr;
}

void SignalLedger::encode_item(uint32_t item, std::string* out) const {
  put_double_le(out, raw_score(item));
  const WarmState* s = warm_of(item);
  out->push_back(s ? 1 : 0);
  if (s) s->encode(plan_, out);
}

Status SignalLedger::restore_item(uint32_t item, std::string_view in) {
  ByteReader r(in);
  double score;
  uint8_t has_warm;
  if (!r.read_double_le(&score) || !r.read_u8(&has_warm) || has_warm > 1) {
    return Status::Corruption(Subsystem::kStorage, "signal state of item " + std::to_string(item) +
                                                       " for \"" + def_.name + "\" is malformed");
  }
  const uint32_t slot = slot_for(item);
  if (has_columns_) drop_columns();
  score_at(slot).store(score, std::memory_order_release);
  if (has_warm) {
    TIDAL_ASSIGN_OR_RETURN(WarmStatePtr state, WarmState::decode(plan_, r.rest()));
    if (warm_at(slot) == nullptr) {
      compact_active();
      active_.push_back(slot);
    }
    WarmState::destroy(warm_at(slot));
    warm_at(slot) = state.release();
  }
  return Status::Ok();
}

double SignalLedger::column_value(const WarmState& s, size_t window, ColumnKind kind,
                                  int64_t bucket) const {
  const int64_t at = bucket * plan_.windows[window].width_us;
  switch (kind) {
    case ColumnKind::kCount: return static_cast<double>(s.count(plan_, window, at));
    case ColumnKind::kPrevCount: return static_cast<double>(s.prev_count(plan_, window, at));
    case ColumnKind::kSum: return s.sum(plan_, window, at);
  }
  return 0;
}

std::shared_ptr<const SignalLedger::WindowColumn> SignalLedger::column(size_t window,
                                                                       ColumnKind kind,
                                                                       int64_t now_us) {
  const int64_t bucket = bucket_of(now_us, plan_.windows[window].width_us);
  std::lock_guard<std::mutex> lk(column_mu_);
  if (columns_.empty()) columns_.resize(plan_.windows.size());
  std::shared_ptr<WindowColumn>& slot = columns_[window][static_cast<size_t>(kind)];
  if (slot && slot->bucket == bucket) return slot;
  auto col = std::make_shared<WindowColumn>();
  col->bucket = bucket;
  col->values.assign(sparse_ ? item_bound_ : warm_->size(), 0.0);
  for (uint32_t slot : active_) {
    const WarmState* s = warm_at(slot);
    if (s != nullptr) col->values[item_of(slot)] = column_value(*s, window, kind, bucket);
  }
  // Readers of the previous column keep their copy alive until they finish.
  slot = col;
  has_columns_ = true;
  return col;
}

void SignalLedger::update_columns(uint32_t item) {
  const WarmState* s = warm_of(item);
  for (size_t w = 0; w < columns_.size(); ++w) {
    for (size_t k = 0; k < 3; ++k) {
      WindowColumn* col = columns_[w][k].get();
      if (col == nullptr) continue;
      const double v = s ? column_value(*s, w, static_cast<ColumnKind>(k), col->bucket) : 0.0;
      if (item >= col->values.size()) {
        if (v == 0) continue;
        col->values.resize(std::max<size_t>(item + 1, col->values.size() * 5 / 4), 0.0);
      }
      col->values[item] = v;
    }
  }
}

void SignalLedger::drop_columns() {
  std::lock_guard<std::mutex> lk(column_mu_);
  columns_.clear();
  has_columns_ = false;
}

void SignalLedger::set_bulk_load(bool on) {
  if (on) drop_columns();  // replay would keep them exact one event at a time
  if (bulk_load_ && !on) rebuild_indexes();
  bulk_load_ = on;
}

void SignalLedger::rebuild_indexes() {
  std::vector<ScoredItem> all = positive_scores();
  std::lock_guard<std::mutex> lk(index_mu_);
  hot_top_.rebuild(std::move(all));
  hot_stale_ = false;
  for (auto& idx : count_top_) idx.bucket = INT64_MIN;
  for (auto& idx : rising_top_) idx.bucket = INT64_MIN;
}

}  // namespace tidal::signals
