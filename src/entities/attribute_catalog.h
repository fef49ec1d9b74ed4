// AttributeCatalog: one entity kind's attributes as the entity code sees
// them — the schema's declared attributes plus, for items, the built-ins
// `creator` (keyword) and `created_at` (timestamp), both filterable.
//
// Attributes are named in records and storage by slot: a declared
// attribute's slot is its schema id; the built-ins have the two highest
// slots, which no declared attribute can take (kMaxAttributesPerKind is far
// below them).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tidal/schema.h"

namespace tidal::entities {

inline constexpr uint16_t kCreatorSlot = 0xFFFF;
inline constexpr uint16_t kCreatedAtSlot = 0xFFFE;
inline constexpr std::string_view kCreatorName = "creator";
inline constexpr std::string_view kCreatedAtName = "created_at";

class AttributeCatalog {
 public:
  AttributeCatalog(const Schema& schema, EntityKind kind);
  // Holds pointers into itself.
  AttributeCatalog(const AttributeCatalog&) = delete;
  AttributeCatalog& operator=(const AttributeCatalog&) = delete;

  EntityKind kind() const { return kind_; }
  // nullptr for an unknown name or slot.
  const AttributeDefinition* find(std::string_view name) const;
  const AttributeDefinition* at_slot(uint16_t slot) const;
  // Built-ins first, then declared attributes in id order.
  const std::vector<const AttributeDefinition*>& all() const { return ordered_; }
  static uint16_t slot_of(const AttributeDefinition& def) { return def.id; }

 private:
  EntityKind kind_;
  std::vector<AttributeDefinition> declared_;
  std::array<AttributeDefinition, 2> builtins_;
  bool has_builtins_ = false;
  std::vector<const AttributeDefinition*> ordered_;
  std::unordered_map<std::string_view, const AttributeDefinition*> by_name_;
};

// The three kinds' catalogs of one schema.
class AttributeCatalogs {
 public:
  explicit AttributeCatalogs(const Schema& schema)
      : catalogs_{AttributeCatalog(schema, EntityKind::kItem),
                  AttributeCatalog(schema, EntityKind::kUser),
                  AttributeCatalog(schema, EntityKind::kCreator)} {}
  const AttributeCatalog& operator[](EntityKind kind) const {
    return catalogs_[static_cast<size_t>(kind)];
  }

 private:
  std::array<AttributeCatalog, 3> catalogs_;
};

}  // namespace tidal::entities
