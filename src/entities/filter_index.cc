#include "entities/filter_index.h"

#include <algorithm>

namespace tidal::entities {

// ---------------------------------------------------------------------------
// ValueBitmapIndex

void ValueBitmapIndex::add_value(uint32_t id, std::string_view value) {
  auto it = by_value_.find(value);
  if (it == by_value_.end()) it = by_value_.emplace(std::string(value), Bitmap()).first;
  it->second.add(id);
}

void ValueBitmapIndex::remove_value(uint32_t id, std::string_view value) {
  auto it = by_value_.find(value);
  if (it == by_value_.end()) return;
  it->second.remove(id);
  if (it->second.isEmpty()) by_value_.erase(it);
}

void ValueBitmapIndex::add(uint32_t id, const ValueView& v) {
  switch (v.type) {
    case AttributeType::kTags: v.for_each_tag([&](std::string_view t) { add_value(id, t); }); break;
    case AttributeType::kBool: add_value(id, v.b ? "true" : "false"); break;
    default: add_value(id, v.str); break;
  }
  present_.add(id);
}

void ValueBitmapIndex::remove(uint32_t id, const ValueView& v) {
  switch (v.type) {
    case AttributeType::kTags:
      v.for_each_tag([&](std::string_view t) { remove_value(id, t); });
      break;
    case AttributeType::kBool: remove_value(id, v.b ? "true" : "false"); break;
    default: remove_value(id, v.str); break;
  }
  present_.remove(id);
}

const Bitmap* ValueBitmapIndex::find(std::string_view value) const {
  auto it = by_value_.find(value);
  return it == by_value_.end() ? nullptr : &it->second;
}

size_t ValueBitmapIndex::memory_bytes() const {
  size_t bytes = present_.getSizeInBytes(false);
  for (const auto& [value, bitmap] : by_value_) {
    bytes += value.capacity() + sizeof(value) + bitmap.getSizeInBytes(false) + 32;
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// NumericIndex

template <typename T>
NumericIndex<T>::NumericIndex() : lower_(1), buckets_(1), sizes_(1, 0), rebuilt_sizes_(1, 0) {}

template <typename T>
T NumericIndex<T>::value_of(const ValueView& v) {
  if constexpr (std::is_same_v<T, double>) {
    return v.f;
  } else {
    return v.i;
  }
}

template <typename T>
size_t NumericIndex<T>::bucket_of(T v) const {
  // The last bucket whose lower bound is <= v (bucket 0 has no lower bound).
  auto it = std::upper_bound(lower_.begin() + 1, lower_.end(), v);
  return static_cast<size_t>(it - lower_.begin()) - 1;
}

template <typename T>
void NumericIndex<T>::set(uint32_t id, T value) {
  if (present_.contains(id)) {
    if (values_[id] == value) return;
    erase(id);
  }
  if (values_.size() <= id) values_.resize(std::max<size_t>(id + 1, values_.size() * 3 / 2));
  values_[id] = value;
  present_.add(id);
  size_t b = bucket_of(value);
  buckets_[b].add(id);
  ++sizes_[b];
  ++changes_since_rebuild_;
  maybe_rebuild(b);
}

template <typename T>
void NumericIndex<T>::erase(uint32_t id) {
  if (!present_.contains(id)) return;
  size_t b = bucket_of(values_[id]);
  buckets_[b].remove(id);
  --sizes_[b];
  present_.remove(id);
  ++changes_since_rebuild_;
}

template <typename T>
void NumericIndex<T>::maybe_rebuild(size_t bucket) {
  uint64_t n = present_.cardinality();
  uint64_t share = std::max<uint64_t>(kMinBucketSize, n / kBuckets);
  // A bucket that a rebuild left large holds one value (equal values share a
  // bucket): it cannot be split, so it must double again before the next
  // attempt, or a column of few values would be rebuilt every n/8 changes.
  uint64_t limit = 2 * std::max(share, rebuilt_sizes_[bucket]);
  if (sizes_[bucket] > limit && changes_since_rebuild_ >= n / 8) rebuild();
}

template <typename T>
void NumericIndex<T>::rebuild() {
  ++rebuilds_;
  changes_since_rebuild_ = 0;
  std::vector<T> sorted;
  sorted.reserve(present_.cardinality());
  for_each_member(present_, [&](uint32_t id) { sorted.push_back(values_[id]); });
  std::sort(sorted.begin(), sorted.end());
  // Quantile bounds, distinct: equal values always share a bucket.
  std::vector<T> lower(1);
  size_t target = std::max<size_t>(kMinBucketSize, sorted.size() / kBuckets + 1);
  for (size_t i = target; i < sorted.size(); i += target) {
    if (lower.size() == 1 || sorted[i] > lower.back()) {
      if (sorted[i] > sorted.front()) lower.push_back(sorted[i]);
    }
  }
  lower_ = std::move(lower);
  buckets_.assign(lower_.size(), Bitmap());
  sizes_.assign(lower_.size(), 0);
  std::vector<std::vector<uint32_t>> members(lower_.size());
  for_each_member(present_, [&](uint32_t id) { members[bucket_of(values_[id])].push_back(id); });
  for (size_t b = 0; b < members.size(); ++b) {
    buckets_[b].addMany(members[b].size(), members[b].data());
    sizes_[b] = members[b].size();
  }
  rebuilt_sizes_ = sizes_;
}

template <typename T>
size_t NumericIndex<T>::select(T lo, T hi, const Bitmap& from, uint32_t* out) const {
  // Branch-free: every id is written, and kept only when its value is in
  // range (half of the members failing at random costs a branch mispredict
  // each otherwise).
  const T* values = values_.data();
  size_t kept = 0;
  for_each_member(from, [&](uint32_t id) {
    T v = values[id];
    out[kept] = id;
    kept += static_cast<size_t>((lo <= v) & (v <= hi));
  });
  return kept;
}

template <typename T>
Bitmap NumericIndex<T>::range(T lo, T hi) const {
  Bitmap out;
  if (!(lo <= hi)) return out;
  size_t first = bucket_of(lo), last = bucket_of(hi);
  std::vector<const Bitmap*> whole;
  for (size_t b = first + 1; b < last; ++b) whole.push_back(&buckets_[b]);
  if (!whole.empty()) out = Bitmap::fastunion(whole.size(), whole.data());
  // The boundary buckets, member by member; each scan yields ascending ids.
  std::vector<uint32_t> edge(buckets_[first].cardinality() +
                             (last != first ? buckets_[last].cardinality() : 0));
  size_t first_end = select(lo, hi, buckets_[first], edge.data());
  size_t end = first_end;
  if (last != first) end += select(lo, hi, buckets_[last], edge.data() + first_end);
  std::inplace_merge(edge.begin(), edge.begin() + static_cast<ptrdiff_t>(first_end),
                     edge.begin() + static_cast<ptrdiff_t>(end));
  out.addMany(end, edge.data());
  return out;
}

template <typename T>
Bitmap NumericIndex<T>::range_within(T lo, T hi, const Bitmap& candidates) const {
  Bitmap scope = candidates & present_;
  std::vector<uint32_t> ids(scope.cardinality());
  size_t kept = select(lo, hi, scope, ids.data());
  Bitmap out;
  out.addMany(kept, ids.data());
  return out;
}

template <typename T>
uint64_t NumericIndex<T>::estimate(T lo, T hi) const {
  if (!(lo <= hi)) return 0;
  size_t first = bucket_of(lo), last = bucket_of(hi);
  uint64_t n = 0;
  for (size_t b = first; b <= last; ++b) n += sizes_[b];
  return n;
}

template <typename T>
size_t NumericIndex<T>::memory_bytes() const {
  size_t bytes = values_.capacity() * sizeof(T) + present_.getSizeInBytes(false);
  for (const Bitmap& b : buckets_) bytes += b.getSizeInBytes(false);
  return bytes + lower_.capacity() * sizeof(T);
}

template class NumericIndex<int64_t>;
template class NumericIndex<double>;

std::unique_ptr<AttributeIndex> make_attribute_index(const AttributeDefinition& def) {
  switch (def.type) {
    case AttributeType::kKeyword:
    case AttributeType::kTags:
    case AttributeType::kBool: return std::make_unique<ValueBitmapIndex>();
    case AttributeType::kInt:
    case AttributeType::kTimestamp: return std::make_unique<NumericIndex<int64_t>>();
    case AttributeType::kFloat: return std::make_unique<NumericIndex<double>>();
    case AttributeType::kText:
    case AttributeType::kVector: return nullptr;
  }
  return nullptr;
}

}  // namespace tidal::entities
