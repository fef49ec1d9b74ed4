// The binary forms of entity attributes and of the WAL records that write
// entities and relationships; the validation that turns an application's
// EntityWrite into them.
//
// Attribute list (a record's attributes, and an entity's stored state):
//   varint n | n × (varint slot | value)        slots strictly ascending
// Values by the slot's type:
//   keyword, text   bytes (varint length + data)
//   int, timestamp  varsint
//   float           f64 LE
//   bool            u8 0 | 1
//   tags            varint n | n × bytes         distinct, ascending
//   vector          varint dim | dim × f32 LE
//
// Records (docs/formats/wal.md):
//   kEntityUpsert   u8 format (2) | u8 kind | bytes key | attribute list
//                   (format 1, written before attributes existed: no list)
//   kEntityPatch    u8 format (1) | u8 kind | bytes key | bytes attribute list
//                   (set) | varint n | n × varint slot (removed, ascending)
//   kEntityDelete   u8 format (1) | u8 kind | bytes key
//   kRelationship   u8 format (1) | u8 relation | u8 active | bytes user |
//                   u8 target kind | bytes target
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "entities/attribute_catalog.h"
#include "tidal/entity.h"
#include "tidal/options.h"
#include "tidal/status.h"
#include "wal/wal_format.h"

namespace tidal::entities {

// One stored value, pointing into the encoded bytes.
struct ValueView {
  AttributeType type = AttributeType::kKeyword;
  std::string_view str;  // keyword, text
  int64_t i = 0;         // int, timestamp
  double f = 0;          // float
  bool b = false;        // bool
  std::string_view raw;  // tags: n × bytes; vector: dim × f32 LE
  uint32_t count = 0;    // tags: n; vector: dim

  // Calls fn(std::string_view) for every tag.
  template <typename Fn>
  void for_each_tag(Fn&& fn) const;
  float vector_at(uint32_t k) const;
  // Compares numeric values (int, float, timestamp) as doubles.
  double number() const { return type == AttributeType::kFloat ? f : static_cast<double>(i); }
};

// Iterates an attribute list. The list was validated when it was written;
// next() still checks every bound and returns false (with ok() false) on
// malformed bytes or an unknown slot.
class AttributeReader {
 public:
  AttributeReader(const AttributeCatalog& catalog, std::string_view list);
  // The next attribute; `entry` is its whole encoded form (slot included).
  bool next(uint16_t* slot, ValueView* value, std::string_view* entry = nullptr);
  bool ok() const { return ok_; }
  // True once every entry has been read and no bytes are left over.
  bool done() const { return ok_ && read_ == count_ && in_.empty(); }
  uint64_t size() const { return count_; }

 private:
  const AttributeCatalog& catalog_;
  std::string_view in_;
  uint64_t count_ = 0;
  uint64_t read_ = 0;
  int last_slot_ = -1;
  bool ok_ = true;
};

// Checks a whole list (for storage restore and replay): false when malformed.
bool validate_attribute_list(const AttributeCatalog& catalog, std::string_view list);

// The value as the public API returns it.
AttributeValue to_value(const ValueView& v);

// How a write is checked.
enum class WriteKind : uint8_t { kUpsert, kPatch };

// The validated, encoded form of an EntityWrite.
struct EncodedWrite {
  std::string list;               // the attributes set, as an attribute list
  std::vector<uint16_t> removed;  // patch: slots set to "no value", ascending
  std::string_view creator;       // items: the creator key set (points into the write)
  bool has_creator = false;
};

// Validates `write`'s attributes against the catalog. Every error names the
// attribute (`attributes.<name>`), the value and the rule; the first broken
// rule is returned. `default_created_at_us` fills created_at of an item upsert
// that does not give it.
Status encode_write(const AttributeCatalog& catalog, const EntityWrite& write, WriteKind kind,
                    UnknownAttributes unknown, int64_t default_created_at_us, EncodedWrite* out);

// The stored list after a patch: `base` with `set` written over it and
// `removed` dropped. All three ascending by slot; the result is too.
bool merge_attribute_lists(const AttributeCatalog& catalog, std::string_view base,
                           std::string_view set, std::span<const uint16_t> removed,
                           std::string* out);

// OK when `relation` may point at `target_kind` (follow: creator or user;
// block and mute: creator or item); otherwise an error naming the field.
Status check_relationship_target(Relation relation, EntityKind target_kind);

// The creator key an item's attribute list sets, if it sets one.
std::optional<std::string_view> creator_in(const AttributeCatalog& item_catalog,
                                           std::string_view list);

// OK when `kind` is item, user or creator; otherwise an error naming "kind".
Status check_entity_kind(EntityKind kind);

// The rules of one relationship write: a known relation, valid keys, a
// target of a kind the relation may point at, and no user relating to
// itself. Errors name the field.
Status check_relationship_write(const RelationshipWrite& w);

// ---------------------------------------------------------------------------

template <typename Fn>
void ValueView::for_each_tag(Fn&& fn) const {
  std::string_view rest = raw;
  for (uint32_t k = 0; k < count; ++k) {
    // Validated when read: each tag is a varint length and its bytes.
    uint64_t len = 0;
    int shift = 0;
    size_t p = 0;
    while (true) {
      auto c = static_cast<uint8_t>(rest[p++]);
      len |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) break;
      shift += 7;
    }
    fn(rest.substr(p, len));
    rest.remove_prefix(p + len);
  }
}

}  // namespace tidal::entities
