#include "entities/entity_store.h"

#include <algorithm>

#include "entities/key_map.h"
#include "storage/key_encoding.h"

namespace tidal::entities {

EntityStore::EntityStore(const Schema& schema)
    : catalogs_(std::make_shared<const AttributeCatalogs>(schema)) {
  add_indexes();
}

void EntityStore::add_indexes() {
  for (EntityKind kind : kEntityKinds) {
    KindState& s = state(kind);
    for (const AttributeDefinition* d : (*catalogs_)[kind].all()) {
      const uint16_t slot = AttributeCatalog::slot_of(*d);
      auto at = std::lower_bound(s.slots.begin(), s.slots.end(), slot);
      if (!d->filterable || (at != s.slots.end() && *at == slot)) continue;
      std::unique_ptr<AttributeIndex> index = make_attribute_index(*d);
      if (!index) continue;
      const auto position = at - s.slots.begin();
      s.slots.insert(at, slot);
      s.indexes.insert(s.indexes.begin() + position, std::move(index));
    }
  }
}

std::string_view EntityStore::attributes(EntityKind kind, uint32_t index) const {
  const KindState& s = state(kind);
  return index < s.lists.size() ? std::string_view(s.lists[index]) : std::string_view();
}

const AttributeIndex* EntityStore::index(EntityKind kind, uint16_t slot) const {
  const KindState& s = state(kind);
  auto it = std::lower_bound(s.slots.begin(), s.slots.end(), slot);
  if (it == s.slots.end() || *it != slot) return nullptr;
  return s.indexes[static_cast<size_t>(it - s.slots.begin())].get();
}

AttributeIndex* EntityStore::mutable_index(KindState& s, uint16_t slot) {
  auto it = std::lower_bound(s.slots.begin(), s.slots.end(), slot);
  if (it == s.slots.end() || *it != slot) return nullptr;
  return s.indexes[static_cast<size_t>(it - s.slots.begin())].get();
}

void EntityStore::replace(EntityKind kind, uint32_t index, std::string list, bool live,
                          uint32_t creator) {
  KindState& s = state(kind);
  const AttributeCatalog& c = (*catalogs_)[kind];
  if (s.lists.size() <= index) s.lists.resize(index + 1);
  std::string& old = s.lists[index];
  // Move index entries for every filterable attribute whose value changed.
  AttributeReader a(c, old), b(c, list);
  uint16_t sa = 0, sb = 0;
  ValueView va, vb;
  std::string_view ea, eb;
  bool has_a = a.next(&sa, &va, &ea), has_b = b.next(&sb, &vb, &eb);
  while (has_a || has_b) {
    if (has_a && has_b && sa == sb) {
      if (ea != eb) {
        if (AttributeIndex* ix = mutable_index(s, sa)) {
          ix->remove(index, va);
          ix->add(index, vb);
        }
      }
      has_a = a.next(&sa, &va, &ea);
      has_b = b.next(&sb, &vb, &eb);
    } else if (has_a && (!has_b || sa < sb)) {
      if (AttributeIndex* ix = mutable_index(s, sa)) ix->remove(index, va);
      has_a = a.next(&sa, &va, &ea);
    } else {
      if (AttributeIndex* ix = mutable_index(s, sb)) ix->add(index, vb);
      has_b = b.next(&sb, &vb, &eb);
    }
  }
  old = std::move(list);
  if (live) {
    s.live.add(index);
  } else {
    s.live.remove(index);
    old.clear();
    old.shrink_to_fit();
  }
  if (kind == EntityKind::kItem) {
    if (item_creator_.size() <= index) item_creator_.resize(index + 1, kNoCreator);
    const uint32_t was = item_creator_[index];
    if (was != kNoCreator && was < creator_items_.size()) creator_items_[was].remove(index);
    item_creator_[index] = creator;
    if (creator != kNoCreator && live) {
      if (creator_items_.size() <= creator) creator_items_.resize(creator + 1);
      creator_items_[creator].add(index);
    }
  }
  s.dirty.mark(index);
}

Status EntityStore::apply(const apply::AppliedRecord& record) {
  if (record.type == wal::RecordType::kSchemaChange) {
    catalogs_ = std::make_shared<const AttributeCatalogs>(*record.schema);
    add_indexes();
    return Status::Ok();
  }
  const apply::EntityRecord* e = record.entity;
  if (e == nullptr) return Status::Ok();
  const AttributeCatalog& c = (*catalogs_)[e->kind];
  auto malformed = [&] {
    return Status::Corruption(Subsystem::kWal, "record " + std::to_string(record.sequence) +
                                                   " holds a malformed attribute list");
  };
  uint32_t index = record.entity_index;
  switch (record.type) {
    case wal::RecordType::kEntityUpsert: {
      if (!validate_attribute_list(c, e->list)) return malformed();
      replace(e->kind, index, std::string(e->list), true, record.creator);
      return Status::Ok();
    }
    case wal::RecordType::kEntityPatch: {
      // A patch of an entity deleted after it was validated changes nothing.
      if (!live(e->kind, index)) return Status::Ok();
      if (!validate_attribute_list(c, e->list)) return malformed();
      std::string merged;
      if (!merge_attribute_lists(c, attributes(e->kind, index), e->list, e->removed, &merged)) {
        return malformed();
      }
      uint32_t creator = record.creator_given ? record.creator : creator_of(index);
      replace(e->kind, index, std::move(merged), true,
              e->kind == EntityKind::kItem ? creator : kNoCreator);
      return Status::Ok();
    }
    case wal::RecordType::kEntityDelete:
      if (!live(e->kind, index)) return Status::Ok();
      replace(e->kind, index, std::string(), false, kNoCreator);
      return Status::Ok();
    default: return Status::Ok();
  }
}

Status EntityStore::checkpoint(WriteBatch* batch) {
  for (EntityKind kind : kEntityKinds) {
    KindState& s = state(kind);
    for (uint32_t index : s.dirty.begin_checkpoint()) {
      std::string key = encode_entity_key(entity_id_for(kind, index), KeyTag::kAttributes);
      if (s.live.contains(index)) {
        batch->put(Keyspace::kEntities, key, s.lists[index]);
      } else {
        batch->del(Keyspace::kEntities, key);
      }
    }
  }
  return Status::Ok();
}

Status EntityStore::restore(StorageEngine& engine) {
  auto it = engine.scan_prefix(Keyspace::kEntities, "");
  std::vector<std::vector<uint32_t>> live(3);
  for (; it->valid(); it->next()) {
    std::optional<DecodedEntityKey> k = decode_entity_key(it->key());
    if (!k || k->tag != static_cast<uint8_t>(KeyTag::kAttributes)) continue;
    uint64_t raw = k->id.value;
    uint64_t kind_byte = raw >> 56;
    if (kind_byte > 2 || !k->suffix.empty() || (raw & 0x00FFFFFF00000000ull) != 0) {
      return Status::Corruption(Subsystem::kStorage,
                                "entity key " + std::to_string(raw) + " does not name an entity");
    }
    auto kind = static_cast<EntityKind>(kind_byte);
    auto index = static_cast<uint32_t>(raw);
    std::string_view list = it->value();
    if (!validate_attribute_list((*catalogs_)[kind], list)) {
      return Status::Corruption(Subsystem::kStorage,
                                "the stored attributes of " + std::string(entity_kind_name(kind)) +
                                    " #" + std::to_string(index) + " are malformed");
    }
    KindState& s = state(kind);
    if (s.lists.size() <= index) s.lists.resize(index + 1);
    s.lists[index].assign(list);
    live[static_cast<size_t>(kind)].push_back(index);
  }
  TIDAL_RETURN_IF_ERROR(it->status());
  for (EntityKind kind : kEntityKinds) {
    KindState& s = state(kind);
    const AttributeCatalog& c = (*catalogs_)[kind];
    std::vector<uint32_t>& ids = live[static_cast<size_t>(kind)];
    s.live.addMany(ids.size(), ids.data());
    for (uint32_t index : ids) {
      AttributeReader r(c, s.lists[index]);
      uint16_t slot;
      ValueView v;
      while (r.next(&slot, &v)) {
        if (AttributeIndex* ix = mutable_index(s, slot)) ix->add(index, v);
      }
    }
  }
  return Status::Ok();
}

void EntityStore::resolve_creators(
    const std::function<uint32_t(std::string_view creator)>& index_of) {
  const KindState& s = state(EntityKind::kItem);
  item_creator_.assign(s.lists.size(), kNoCreator);
  for (uint32_t item : s.live) {
    AttributeReader r((*catalogs_)[EntityKind::kItem], s.lists[item]);
    uint16_t slot;
    ValueView v;
    while (r.next(&slot, &v)) {
      if (slot == kCreatorSlot) item_creator_[item] = index_of(v.str);
    }
  }
  creator_items_.clear();
  for (uint32_t item : s.live) {
    const uint32_t c = item_creator_[item];
    if (c == kNoCreator) continue;
    if (creator_items_.size() <= c) creator_items_.resize(c + 1);
    creator_items_[c].add(item);
  }
}

const Bitmap* EntityStore::items_of(uint32_t creator) const {
  return creator < creator_items_.size() ? &creator_items_[creator] : nullptr;
}

size_t EntityStore::memory_bytes() const {
  size_t bytes = item_creator_.capacity() * sizeof(uint32_t);
  for (const KindState& s : kinds_) {
    bytes += s.lists.capacity() * sizeof(std::string) + s.live.getSizeInBytes(false);
    for (const std::string& l : s.lists) {
      if (l.capacity() > 15) bytes += l.capacity() + 1;
    }
    for (const auto& ix : s.indexes) bytes += ix->memory_bytes();
  }
  return bytes;
}

}  // namespace tidal::entities
