// Payloads of the WAL records that write entities and relationships
// (RecordType kEntityUpsert, kEntityPatch, kEntityDelete, kRelationship).
// The attribute list inside an upsert or patch is entities/entity_codec.h's
// encoding; docs/formats/wal.md describes every payload.
// Decoders return false for anything malformed; replay treats that as corruption.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/entity.h"
#include "wal/wal_format.h"

namespace tidal::apply {

struct EntityRecord {
  wal::RecordType type = wal::RecordType::kEntityUpsert;
  EntityKind kind = EntityKind::kItem;
  std::string_view key;
  std::string_view list;          // upsert, patch
  std::vector<uint16_t> removed;  // patch
};

void encode_upsert_record(EntityKind kind, std::string_view key, std::string_view list,
                          std::string* out);
void encode_patch_record(EntityKind kind, std::string_view key, std::string_view list,
                         std::span<const uint16_t> removed, std::string* out);
void encode_delete_record(EntityKind kind, std::string_view key, std::string* out);
// False when malformed (the attribute list itself is checked when applied).
bool decode_entity_record(wal::RecordType type, std::string_view payload, EntityRecord* out);

struct RelationshipRecord {
  Relation relation = Relation::kFollow;
  bool active = true;
  std::string_view user;
  EntityKind target_kind = EntityKind::kCreator;
  std::string_view target;
};

void encode_relationship_record(const RelationshipRecord& r, std::string* out);
bool decode_relationship_record(std::string_view payload, RelationshipRecord* out);

}  // namespace tidal::apply
