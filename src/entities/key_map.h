// KeyMap: one entity kind's application keys <-> dense indexes.
//
// Dense indexes are assigned 0, 1, 2, ... in the order keys are first seen
// while records are applied (WAL order), so replaying the WAL assigns the same
// indexes. The EntityId of an entity is its kind in the top byte and its dense
// index below, so EntityId order within a kind is first-seen order.
//
// Persistence: checkpoint() writes the entries added or changed since the last
// checkpoint into a batch (the meta keyspace); restore() loads them all.
// Layout: docs/formats/storage.md#key-maps
//
// The index is a flat open-addressing table (linear probing) of (hash, index)
// slots over the keys, which live in a deque: looking a key up touches one
// slot and, when the hash matches, the key — not the chain of separately
// allocated nodes of a std::unordered_map, whose cache misses were a quarter
// of an upsert's time at a million keys. Keys are never removed.
//
// Not synchronized: the database guards it with its state lock.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dirty_list.h"
#include "storage/storage_engine.h"
#include "tidal/types.h"

namespace tidal {

inline EntityId entity_id_for(EntityKind kind, uint32_t index) {
  return EntityId((static_cast<uint64_t>(kind) << 56) | index);
}

class KeyMap {
 public:
  explicit KeyMap(EntityKind kind) : kind_(kind) {}

  std::optional<uint32_t> find(std::string_view key) const;
  // The key's index, assigning the next one to a new key.
  uint32_t assign(std::string_view key);
  // Precondition: index < size(). The reference stays valid for the
  // KeyMap's life.
  const std::string& key_of(uint32_t index) const { return keys_[index]; }
  bool registered(uint32_t index) const { return flags_[index] & kRegistered; }
  void set_registered(uint32_t index);
  void clear_registered(uint32_t index);
  size_t size() const { return keys_.size(); }
  EntityKind kind() const { return kind_; }

  // Writes the entries added or changed since the last checkpoint;
  // end_checkpoint(false) makes the next checkpoint write them again.
  void checkpoint(WriteBatch* batch);
  void end_checkpoint(bool durable) { dirty_.end_checkpoint(durable); }
  Status restore(StorageEngine& engine);

 private:
  static constexpr uint8_t kRegistered = 1;
  // A used slot: the key's 32-bit hash (which also picks the slot) and its
  // index + 1. index_plus_one == 0 marks an empty slot.
  struct Slot {
    uint32_t hash = 0;
    uint32_t index_plus_one = 0;
  };
  std::string prefix() const;
  // The slot holding `key`, or the empty slot where it would go.
  size_t probe(std::string_view key, uint32_t hash) const;
  // Doubles the table (or creates it) so that one more key keeps it at most
  // 3/4 full.
  void grow();

  EntityKind kind_;
  std::vector<Slot> slots_;       // a power of two in size, at most 3/4 used
  std::deque<std::string> keys_;  // by index; a deque keeps references stable
  std::vector<uint8_t> flags_;
  DirtyList dirty_;
};

}  // namespace tidal
