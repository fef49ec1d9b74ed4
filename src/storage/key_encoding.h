// Entity-scoped storage keys. Layout: docs/formats/storage.md#entity-keys
//
// Big-endian ids make byte order equal numeric order, so all keys of one
// entity are adjacent and entities sort by id; the tag groups an entity's
// keys by what they hold (attributes, signal state, ...). prefix_successor()
// turns a prefix into the exclusive end of the range of keys that start with
// it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tidal/types.h"

namespace tidal {

// What an entity-scoped key holds. Stable: part of the on-disk layout
// (docs/formats/storage.md#entity-keys).
enum class KeyTag : uint8_t {
  kAttributes = 0x01,
  kSignalState = 0x02,
  kEvent = 0x03,  // reserved: nothing writes it
  kRelationship = 0x04,
  kKeyMapping = 0x05,  // reserved: nothing writes it
  kUserState = 0x06,   // users: what they engaged with (users/user_state.h)
  kItemLinks = 0x07,   // items: learned co-engagement links (users/user_state.h)
};

// The `signals` keyspace holds the global ledger's state under entity keys
// of items (first byte 0x00) and every cohort's from this byte on
// (docs/formats/storage.md#cohorts).
inline constexpr char kCohortStatePrefix = '\xC0';

inline constexpr size_t kEntityKeyHeaderSize = 10;  // id (8) + separator (1) + tag (1)

// [id BE][0x00][tag][suffix]
std::string encode_entity_key(EntityId id, KeyTag tag, std::string_view suffix = {});

// [id BE][0x00]: the prefix of every key of one entity.
std::string entity_prefix(EntityId id);

// [id BE][0x00][tag]: the prefix of every key of one entity with one tag.
std::string entity_tag_prefix(EntityId id, KeyTag tag);

struct DecodedEntityKey {
  EntityId id;
  uint8_t tag;
  std::string_view suffix;  // points into the decoded key
};

// Splits a key made by encode_entity_key; std::nullopt when it is too short
// or the separator byte is not 0x00.
std::optional<DecodedEntityKey> decode_entity_key(std::string_view key);

// The smallest string greater than every string that starts with `prefix`:
// the prefix with its last non-0xff byte incremented and everything after it
// dropped. Returns "" (meaning "no upper bound") when the prefix is empty or
// all 0xff.
std::string prefix_successor(std::string_view prefix);

}  // namespace tidal
