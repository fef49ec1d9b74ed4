#include "entities/attribute_catalog.h"

namespace tidal::entities {

AttributeCatalog::AttributeCatalog(const Schema& schema, EntityKind kind)
    : kind_(kind), declared_(schema.attributes(kind)) {
  if (kind == EntityKind::kItem) {
    has_builtins_ = true;
    builtins_[0] = AttributeDefinition{.name = std::string(kCreatorName),
                                       .kind = kind,
                                       .type = AttributeType::kKeyword,
                                       .filterable = true,
                                       .id = kCreatorSlot};
    builtins_[1] = AttributeDefinition{.name = std::string(kCreatedAtName),
                                       .kind = kind,
                                       .type = AttributeType::kTimestamp,
                                       .filterable = true,
                                       .sortable = true,
                                       .id = kCreatedAtSlot};
    ordered_.push_back(&builtins_[0]);
    ordered_.push_back(&builtins_[1]);
  }
  for (const AttributeDefinition& d : declared_) ordered_.push_back(&d);
  for (const AttributeDefinition* d : ordered_) by_name_.emplace(d->name, d);
}

const AttributeDefinition* AttributeCatalog::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const AttributeDefinition* AttributeCatalog::at_slot(uint16_t slot) const {
  if (slot < declared_.size()) return &declared_[slot];
  if (has_builtins_ && slot == kCreatorSlot) return &builtins_[0];
  if (has_builtins_ && slot == kCreatedAtSlot) return &builtins_[1];
  return nullptr;
}

}  // namespace tidal::entities
