#include "apply/entity_record.h"

#include "core/coding.h"

namespace tidal::apply {

namespace {

constexpr uint8_t kUpsertFormat = 2;
constexpr uint8_t kUpsertFormatKeyOnly = 1;
constexpr uint8_t kRecordFormat = 1;

}  // namespace

namespace {

void put_kind_and_key(uint8_t format, EntityKind kind, std::string_view key, std::string* out) {
  out->push_back(static_cast<char>(format));
  out->push_back(static_cast<char>(kind));
  put_length_prefixed(out, key);
}

bool read_kind(ByteReader* rd, EntityKind* kind) {
  uint8_t k;
  if (!rd->read_u8(&k) || k > 2) return false;
  *kind = static_cast<EntityKind>(k);
  return true;
}

}  // namespace

void encode_upsert_record(EntityKind kind, std::string_view key, std::string_view list,
                          std::string* out) {
  put_kind_and_key(kUpsertFormat, kind, key, out);
  out->append(list);
}

void encode_patch_record(EntityKind kind, std::string_view key, std::string_view list,
                         std::span<const uint16_t> removed, std::string* out) {
  put_kind_and_key(kRecordFormat, kind, key, out);
  put_length_prefixed(out, list);
  put_varint64(out, removed.size());
  for (uint16_t s : removed) put_varint64(out, s);
}

void encode_delete_record(EntityKind kind, std::string_view key, std::string* out) {
  put_kind_and_key(kRecordFormat, kind, key, out);
}

bool decode_entity_record(wal::RecordType type, std::string_view payload, EntityRecord* out) {
  ByteReader rd(payload);
  uint8_t format;
  out->type = type;
  out->removed.clear();
  out->list = {};
  if (!rd.read_u8(&format) || !read_kind(&rd, &out->kind) || !rd.read_length_prefixed(&out->key)) {
    return false;
  }
  switch (type) {
    case wal::RecordType::kEntityUpsert:
      if (format == kUpsertFormatKeyOnly) return rd.empty();
      if (format != kUpsertFormat) return false;
      out->list = rd.rest();
      return true;
    case wal::RecordType::kEntityPatch: {
      uint64_t n;
      if (format != kRecordFormat || !rd.read_length_prefixed(&out->list) ||
          !rd.read_varint64(&n) || n > kMaxAttributesPerWrite) {
        return false;
      }
      for (uint64_t k = 0; k < n; ++k) {
        uint32_t slot;
        if (!rd.read_varint32(&slot) || slot > UINT16_MAX) return false;
        if (!out->removed.empty() && slot <= out->removed.back()) return false;
        out->removed.push_back(static_cast<uint16_t>(slot));
      }
      return rd.empty();
    }
    case wal::RecordType::kEntityDelete: return format == kRecordFormat && rd.empty();
    default: return false;
  }
}

void encode_relationship_record(const RelationshipRecord& r, std::string* out) {
  out->push_back(static_cast<char>(kRecordFormat));
  out->push_back(static_cast<char>(r.relation));
  out->push_back(r.active ? 1 : 0);
  put_length_prefixed(out, r.user);
  out->push_back(static_cast<char>(r.target_kind));
  put_length_prefixed(out, r.target);
}

bool decode_relationship_record(std::string_view payload, RelationshipRecord* out) {
  ByteReader rd(payload);
  uint8_t format, relation, active;
  if (!rd.read_u8(&format) || format != kRecordFormat || !rd.read_u8(&relation) || relation > 2 ||
      !rd.read_u8(&active) || active > 1 || !rd.read_length_prefixed(&out->user) ||
      !read_kind(&rd, &out->target_kind) || !rd.read_length_prefixed(&out->target) || !rd.empty()) {
    return false;
  }
  out->relation = static_cast<Relation>(relation);
  out->active = active == 1;
  return true;
}

}  // namespace tidal::apply
