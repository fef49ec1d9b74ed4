// EntityStore: the materializer that holds every entity's attributes and the
// filter indexes over them (docs/entities.md).
//
// Per kind: the stored attribute list of each entity by dense index, the
// bitmap of live (registered, not deleted) entities, one filter index per
// filterable attribute, and for items the creator's dense index. All of it
// is in memory; checkpoints write the entities changed since the last one to
// the `entities` keyspace and restore() reads them back and rebuilds the
// indexes. Layout: docs/formats/storage.md#entity-attributes
//
// apply() runs under the database's exclusive state lock, reads under the
// shared one.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "apply/materializer.h"
#include "core/dirty_list.h"
#include "entities/attribute_catalog.h"
#include "entities/entity_codec.h"
#include "entities/filter_index.h"

namespace tidal::entities {

inline constexpr uint32_t kNoCreator = UINT32_MAX;

class EntityStore final : public apply::Materializer {
 public:
  explicit EntityStore(const Schema& schema);

  std::string_view name() const override { return "entities"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kGlobal; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch* batch) override;
  void end_checkpoint(bool durable) override {
    for (KindState& s : kinds_) s.dirty.end_checkpoint(durable);
  }
  Status restore(StorageEngine& engine) override;
  // After restore(): finds each item's creator index (the key map of
  // creators is the database's).
  void resolve_creators(const std::function<uint32_t(std::string_view creator)>& index_of);

  const AttributeCatalog& catalog(EntityKind kind) const { return (*catalogs_)[kind]; }
  // The catalogs as of now, kept alive for a caller that encodes a write
  // outside the database's state lock (a schema change replaces them; a
  // write encoded against the old ones stays valid, as a change only adds).
  std::shared_ptr<const AttributeCatalogs> catalogs() const { return catalogs_; }
  bool live(EntityKind kind, uint32_t index) const { return state(kind).live.contains(index); }
  const Bitmap& live_set(EntityKind kind) const { return state(kind).live; }
  // The stored attribute list ("" when it has none or is not live).
  std::string_view attributes(EntityKind kind, uint32_t index) const;
  uint32_t creator_of(uint32_t item) const {
    return item < item_creator_.size() ? item_creator_[item] : kNoCreator;
  }
  // The live items whose creator is `creator` (nullptr: none ever had it).
  const Bitmap* items_of(uint32_t creator) const;
  // The filter index of a filterable attribute (nullptr otherwise).
  const AttributeIndex* index(EntityKind kind, uint16_t slot) const;

  // The live entities matching `filter`. InvalidArgument (naming the
  // attribute) for an unknown or non-filterable attribute, an operator its
  // type does not support, or a value of the wrong type.
  Result<Bitmap> evaluate(EntityKind kind, const Filter& filter) const;
  // Whether live entity `index` matches `filter` (checked beforehand with
  // check()): evaluate() restricted to one entity, so the two always agree.
  Result<bool> matches(EntityKind kind, uint32_t index, const Filter& filter) const;
  // Checks `filter` without evaluating it.
  Status check(EntityKind kind, const Filter& filter) const;
  // TQL has no timestamp literal: turns a value compared with a timestamp
  // attribute that is an RFC 3339 string ('2024-01-01T00:00:00Z') or a whole
  // number (seconds since the Unix epoch) into a Timestamp; other values are
  // left for check() to refuse. A string that is not RFC 3339 is an error
  // naming filter.<attribute>.
  Status resolve_literals(EntityKind kind, Filter* filter) const;

  uint64_t live_count(EntityKind kind) const { return state(kind).live.cardinality(); }
  size_t memory_bytes() const;

 private:
  struct KindState {
    std::vector<std::string> lists;  // by dense index
    Bitmap live;
    std::vector<std::unique_ptr<AttributeIndex>> indexes;  // by position in slots
    std::vector<uint16_t> slots;                           // filterable slots, ascending
    DirtyList dirty;
  };

  KindState& state(EntityKind k) { return kinds_[static_cast<size_t>(k)]; }
  const KindState& state(EntityKind k) const { return kinds_[static_cast<size_t>(k)]; }
  AttributeIndex* mutable_index(KindState& s, uint16_t slot);
  // Replaces entity `index`'s list (and index entries) with `list`; `live`
  // false deletes it.
  void replace(EntityKind kind, uint32_t index, std::string list, bool live, uint32_t creator);
  Status evaluate_node(const KindState& s, const AttributeCatalog& c, const Filter& f,
                       const Bitmap* within, Bitmap* out) const;

  // Adds the filter indexes of the catalogs' filterable attributes that have
  // none yet (at construction, every one; after a schema change, those it
  // added, which no entity holds yet).
  void add_indexes();

  std::shared_ptr<const AttributeCatalogs> catalogs_;
  std::array<KindState, 3> kinds_;
  std::vector<uint32_t> item_creator_;
  std::vector<Bitmap> creator_items_;  // by creator: the inverse of item_creator_
};

}  // namespace tidal::entities
