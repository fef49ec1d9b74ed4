// The representation behind tidal::Schema, and the one door (SchemaAccess)
// through which the builder and the decoder make Schemas. Internal.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidal/schema.h"

namespace tidal {

struct Schema::Rep {
  uint32_t version = 1;
  std::vector<SignalTypeDefinition> signals;
  // Indexed by EntityKind.
  std::array<std::vector<AttributeDefinition>, 3> attributes;
  // Name → id, for find_signal / find_attribute.
  std::map<std::string, uint16_t, std::less<>> signal_ids;
  std::array<std::map<std::string, uint16_t, std::less<>>, 3> attribute_ids;
};

class SchemaAccess {
 public:
  static Schema make(std::shared_ptr<const Schema::Rep> rep) { return Schema(std::move(rep)); }
  static const Schema::Rep& rep(const Schema& schema) { return *schema.rep_; }
};

inline size_t kind_index(EntityKind kind) {
  return static_cast<size_t>(kind);
}

// The spec that validates back into `def` (used to extend a schema and by tests).
SignalTypeSpec to_spec(const SignalTypeDefinition& def);
AttributeSpec to_spec(const AttributeDefinition& def);

}  // namespace tidal
