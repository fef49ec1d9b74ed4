#include "signals/warm_state.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/coding.h"

namespace tidal::signals {

namespace {

size_t sums_offset(const BucketPlan& plan) {
  size_t counts_end = sizeof(WarmState) + plan.total_slots * sizeof(uint32_t);
  return (counts_end + alignof(double) - 1) / alignof(double) * alignof(double);
}

}  // namespace

void WarmState::destroy(WarmState* s) {
  if (s == nullptr) return;
  s->~WarmState();
  std::free(s);
}

size_t WarmState::block_bytes(const BucketPlan& plan) {
  if (!plan.sums) return sizeof(WarmState) + plan.total_slots * sizeof(uint32_t);
  return sums_offset(plan) + plan.total_slots * sizeof(double);
}

WarmStatePtr WarmState::create(const BucketPlan& plan) {
  size_t bytes = block_bytes(plan);
  void* mem = std::calloc(1, bytes);
  if (mem == nullptr) throw std::bad_alloc();
  return WarmStatePtr(new (mem) WarmState(), destroy);
}

double* WarmState::sums(const BucketPlan& plan) {
  return reinterpret_cast<double*>(reinterpret_cast<char*>(this) + sums_offset(plan));
}

const double* WarmState::sums(const BucketPlan& plan) const {
  return reinterpret_cast<const double*>(reinterpret_cast<const char*>(this) + sums_offset(plan));
}

void WarmState::add(const BucketPlan& plan, int64_t t_us, double value) {
  uint32_t* c = counts();
  double* s = plan.sums ? sums(plan) : nullptr;
  bool first = newest_us_ == INT64_MIN;
  for (const WindowPlan& wp : plan.windows) {
    int64_t b = bucket_of(t_us, wp.width_us);
    int64_t head = first ? b : bucket_of(newest_us_, wp.width_us);
    if (b > head) {
      // Advance the ring: clear the slots of the buckets (head, b].
      int64_t clear = std::min<int64_t>(b - head, wp.ring);
      for (int64_t i = 1; i <= clear; ++i) {
        uint32_t slot = slot_of(head + i, wp.ring);
        c[wp.offset + slot] = 0;
        if (s) s[wp.offset + slot] = 0;
      }
      head = b;
    }
    if (b <= head - wp.ring) continue;  // older than the ring reaches
    uint32_t slot = slot_of(b, wp.ring);
    ++c[wp.offset + slot];
    if (s) s[wp.offset + slot] += value;
  }
  if (first || t_us > newest_us_) newest_us_ = t_us;
}

template <typename T, typename Slot>
T WarmState::sum_range(const BucketPlan& plan, size_t w, const Slot* slots, int64_t first,
                       int64_t last) const {
  if (newest_us_ == INT64_MIN) return T{};
  const WindowPlan& wp = plan.windows[w];
  int64_t head = bucket_of(newest_us_, wp.width_us);
  first = std::max(first, head - wp.ring + 1);
  last = std::min(last, head);
  T total{};
  if (first > last) return total;
  // One modulo, then walk the ring (reads are on the query path: a
  // division per bucket was most of a window count's cost).
  const Slot* ring = slots + wp.offset;
  uint32_t slot = slot_of(first, wp.ring);
  for (int64_t n = last - first + 1; n > 0; --n) {
    total += ring[slot];
    if (++slot == wp.ring) slot = 0;
  }
  return total;
}

uint64_t WarmState::count(const BucketPlan& plan, size_t w, int64_t now_us) const {
  const WindowPlan& wp = plan.windows[w];
  int64_t now_b = bucket_of(now_us, wp.width_us);
  return sum_range<uint64_t>(plan, w, counts(), now_b - wp.buckets + 1, now_b);
}

uint64_t WarmState::prev_count(const BucketPlan& plan, size_t w, int64_t now_us) const {
  if (!plan.velocity) return 0;
  const WindowPlan& wp = plan.windows[w];
  int64_t now_b = bucket_of(now_us, wp.width_us);
  return sum_range<uint64_t>(plan, w, counts(), now_b - 2 * int64_t{wp.buckets} + 1,
                             now_b - wp.buckets);
}

double WarmState::sum(const BucketPlan& plan, size_t w, int64_t now_us) const {
  if (!plan.sums) return 0;
  const WindowPlan& wp = plan.windows[w];
  int64_t now_b = bucket_of(now_us, wp.width_us);
  return sum_range<double>(plan, w, sums(plan), now_b - wp.buckets + 1, now_b);
}

bool WarmState::quiet(const BucketPlan& plan, int64_t now_us) const {
  if (newest_us_ == INT64_MIN) return true;
  for (const WindowPlan& wp : plan.windows) {
    // The oldest bucket any read at now_us (or later) can use.
    int64_t oldest_read = bucket_of(now_us, wp.width_us) - wp.reach + 1;
    if (bucket_of(newest_us_, wp.width_us) >= oldest_read) return false;
  }
  return true;
}

void WarmState::encode(const BucketPlan& plan, std::string* out) const {
  put_varsint64(out, newest_us_ == INT64_MIN ? 0 : newest_us_);
  put_varint64(out, newest_us_ == INT64_MIN ? 0 : 1);
  const uint32_t* c = counts();
  const double* s = plan.sums ? sums(plan) : nullptr;
  uint32_t nonzero = 0;
  for (uint32_t i = 0; i < plan.total_slots; ++i) nonzero += c[i] != 0;
  put_varint64(out, nonzero);
  if (nonzero == 0) return;
  // Each bucket by its age behind the newest one, so that a state restored
  // with other ring sizes (another max_future_skew) puts it where it belongs.
  for (size_t w = 0; w < plan.windows.size(); ++w) {
    const WindowPlan& wp = plan.windows[w];
    int64_t head = bucket_of(newest_us_, wp.width_us);
    for (uint32_t j = 0; j < wp.ring; ++j) {
      uint32_t i = wp.offset + j;
      if (c[i] == 0) continue;
      put_varint64(out, w);
      put_varint64(out, slot_of(head - j, wp.ring));
      put_varint64(out, c[i]);
      if (s) put_double_le(out, s[i]);
    }
  }
}

Result<WarmStatePtr> WarmState::decode(const BucketPlan& plan, std::string_view in) {
  ByteReader r(in);
  int64_t newest;
  uint64_t has_newest, nonzero;
  if (!r.read_varsint64(&newest) || !r.read_varint64(&has_newest) || has_newest > 1 ||
      !r.read_varint64(&nonzero) || (has_newest == 0 && nonzero > 0)) {
    return Status::Corruption(Subsystem::kStorage, "warm signal state: bad header");
  }
  WarmStatePtr state = create(plan);
  state->newest_us_ = has_newest ? newest : INT64_MIN;
  uint32_t* c = state->counts();
  double* s = plan.sums ? state->sums(plan) : nullptr;
  for (uint64_t i = 0; i < nonzero; ++i) {
    uint64_t w, age, count;
    if (!r.read_varint64(&w) || w >= plan.windows.size() || !r.read_varint64(&age) ||
        !r.read_varint64(&count) || count == 0 || count > UINT32_MAX) {
      return Status::Corruption(Subsystem::kStorage, "warm signal state: bad bucket");
    }
    double value = 0;
    if (s && !r.read_double_le(&value)) {
      return Status::Corruption(Subsystem::kStorage, "warm signal state: truncated sum");
    }
    const WindowPlan& wp = plan.windows[w];
    if (age >= wp.ring) continue;  // beyond this plan's ring: no read reaches it
    uint32_t slot =
        wp.offset + slot_of(bucket_of(newest, wp.width_us) - static_cast<int64_t>(age), wp.ring);
    if (c[slot] != 0) {
      return Status::Corruption(Subsystem::kStorage, "warm signal state: bucket repeated");
    }
    c[slot] = static_cast<uint32_t>(count);
    if (s) s[slot] = value;
  }
  if (!r.empty()) return Status::Corruption(Subsystem::kStorage, "warm signal state: extra bytes");
  return state;
}

}  // namespace tidal::signals
