// Filter indexes: for each filterable attribute, which entities (by dense
// index) hold which values.
//
// keyword, tags, bool — one roaring bitmap per distinct value (bool: "true"
// and "false"), plus the bitmap of entities with any value.
//
// int, float, timestamp — NumericIndex: the values in an array by dense index,
// and the entities partitioned into up to kBuckets buckets by value range,
// one bitmap each. A range query is the union of the buckets wholly inside
// the range plus the members of the (at most two) boundary buckets whose
// values fall inside, checked against the array. Bucket bounds are value
// quantiles, recomputed when a bucket has grown to twice its share (n /
// kBuckets, at least kMinBucketSize): so the buckets multiply as the column
// grows, keeping the boundary scans small, and a column of ever-later
// timestamps does not pile into the last bucket. Recomputation is
// O(n log n) and happens at most once per n/8 changes.
//
// Not synchronized: guarded by the database's state lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <roaring/roaring.hh>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "entities/entity_codec.h"

namespace tidal::entities {

using Bitmap = Roaring;

// Calls fn(id) for every member of `b`, ascending. Reads the bitmap in blocks:
// several times faster than Roaring's element-by-element iterator.
template <typename Fn>
void for_each_member(const Bitmap& b, Fn&& fn) {
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&b.roaring, &it);
  uint32_t block[256];
  while (uint32_t n = roaring_read_uint32_iterator(&it, block, 256)) {
    for (uint32_t k = 0; k < n; ++k) fn(block[k]);
  }
}

class AttributeIndex {
 public:
  virtual ~AttributeIndex() = default;
  virtual void add(uint32_t id, const ValueView& v) = 0;
  virtual void remove(uint32_t id, const ValueView& v) = 0;
  // Entities with any value.
  virtual const Bitmap& present() const = 0;
  virtual size_t memory_bytes() const = 0;
};

// keyword, tags and bool attributes.
class ValueBitmapIndex final : public AttributeIndex {
 public:
  void add(uint32_t id, const ValueView& v) override;
  void remove(uint32_t id, const ValueView& v) override;
  const Bitmap& present() const override { return present_; }
  size_t memory_bytes() const override;

  // nullptr when no entity holds `value`. Bool values are "true" / "false".
  const Bitmap* find(std::string_view value) const;
  size_t distinct_values() const { return by_value_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    // Not noexcept on purpose: libstdc++ then keeps each node's hash (as it
    // does for std::hash<std::string>), so a lookup does not rehash the keys
    // of the nodes it passes to find the end of its bucket.
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void add_value(uint32_t id, std::string_view value);
  void remove_value(uint32_t id, std::string_view value);

  std::unordered_map<std::string, Bitmap, Hash, std::equal_to<>> by_value_;
  Bitmap present_;
};

// int and timestamp attributes (T = int64_t) and float ones (T = double).
template <typename T>
class NumericIndex final : public AttributeIndex {
 public:
  static constexpr size_t kBuckets = 256;
  static constexpr size_t kMinBucketSize = 2048;

  NumericIndex();
  void add(uint32_t id, const ValueView& v) override { set(id, value_of(v)); }
  void remove(uint32_t id, const ValueView&) override { erase(id); }
  const Bitmap& present() const override { return present_; }
  size_t memory_bytes() const override;

  void set(uint32_t id, T value);
  void erase(uint32_t id);
  // Precondition: present().contains(id).
  T value(uint32_t id) const { return values_[id]; }

  // Entities whose value v has lo <= v <= hi.
  Bitmap range(T lo, T hi) const;
  // The members of `candidates` whose value v has lo <= v <= hi.
  Bitmap range_within(T lo, T hi, const Bitmap& candidates) const;
  // An estimate of range(lo, hi).cardinality(), from bucket sizes.
  uint64_t estimate(T lo, T hi) const;

  size_t bucket_count() const { return buckets_.size(); }
  uint64_t rebuilds() const { return rebuilds_; }

 private:
  static T value_of(const ValueView& v);
  // Writes the members of `from` whose value v has lo <= v <= hi to `out`
  // (room for from.cardinality() ids), ascending; returns how many.
  size_t select(T lo, T hi, const Bitmap& from, uint32_t* out) const;
  size_t bucket_of(T v) const;
  void maybe_rebuild(size_t bucket);
  void rebuild();

  std::vector<T> values_;  // by id; meaningful where present_ holds the id
  Bitmap present_;
  std::vector<T> lower_;  // lower_[b]: the least value of bucket b (lower_[0] unused)
  std::vector<Bitmap> buckets_;
  std::vector<uint64_t> sizes_;
  std::vector<uint64_t> rebuilt_sizes_;  // sizes_ as the last rebuild left them
  uint64_t changes_since_rebuild_ = 0;
  uint64_t rebuilds_ = 0;
};

extern template class NumericIndex<int64_t>;
extern template class NumericIndex<double>;

// The index a filterable attribute of `def`'s type gets; nullptr for a type
// that cannot be filtered (text, vector).
std::unique_ptr<AttributeIndex> make_attribute_index(const AttributeDefinition& def);

}  // namespace tidal::entities
