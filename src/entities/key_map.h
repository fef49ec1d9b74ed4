// KeyMap: one entity kind's application keys <-> dense indexes.
//
// Dense indexes are assigned 0, 1, 2, ... in the order keys are first seen
// while records are applied (WAL order), so replaying the WAL assigns the same
// indexes. The EntityId of an entity is its kind in the top byte and its dense
// index below, so EntityId order within a kind is first-seen order.
//
// Persistence: checkpoint() writes the entries added or changed since the last
// checkpoint into a batch (meta keyspace, "keys/<kind>/<key>" -> index, flags);
// restore() loads them all.
//
// Not synchronized: the database guards it with its state lock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  // Precondition: index < size().
  const std::string& key_of(uint32_t index) const { return *keys_[index]; }
  bool registered(uint32_t index) const { return flags_[index] & kRegistered; }
  void set_registered(uint32_t index);
  void clear_registered(uint32_t index);
  size_t size() const { return keys_.size(); }
  EntityKind kind() const { return kind_; }

  void checkpoint(WriteBatch* batch);
  Status restore(StorageEngine& engine);

 private:
  static constexpr uint8_t kRegistered = 1;
  std::string prefix() const;

  EntityKind kind_;
  // Transparent hashing: lookups by string_view allocate nothing.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const noexcept {
      return std::hash<std::string_view>()(k);
    }
  };
  std::unordered_map<std::string, uint32_t, KeyHash, std::equal_to<>> index_of_;
  std::vector<const std::string*> keys_;  // point into index_of_'s nodes (stable)
  std::vector<uint8_t> flags_;
  std::vector<uint32_t> dirty_;
};

}  // namespace tidal
