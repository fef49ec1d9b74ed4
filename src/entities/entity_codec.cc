#include "entities/entity_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/coding.h"
#include "core/time_text.h"
#include "entities/key_rules.h"

namespace tidal::entities {

namespace {

// A value for an error message: at most 64 bytes of it.
std::string shown(std::string_view s) {
  if (s.size() <= 64) return std::string(s);
  return std::string(s.substr(0, 61)) + "...";
}

std::string field_of(std::string_view name) {
  return "attributes." + std::string(name);
}

std::string_view alternative_name(const AttributeValue& v) {
  switch (v.index()) {
    case 0: return "no value";
    case 1: return "a string";
    case 2: return "an int";
    case 3: return "a float";
    case 4: return "a bool";
    case 5: return "a timestamp";
    case 6: return "a list of strings";
    case 7: return "a list of floats";
  }
  return "an unknown value";
}

std::string value_text(const AttributeValue& v) {
  switch (v.index()) {
    case 1: return shown(std::get<std::string>(v));
    case 2: return std::to_string(std::get<int64_t>(v));
    case 3: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v));
      return buf;
    }
    case 4: return std::get<bool>(v) ? "true" : "false";
    case 5: return format_timestamp(to_micros(std::get<Timestamp>(v)));
    case 6: return "[" + std::to_string(std::get<std::vector<std::string>>(v).size()) + " strings]";
    case 7: return "[" + std::to_string(std::get<std::vector<float>>(v).size()) + " floats]";
  }
  return "";
}

Status wrong_type(const AttributeDefinition& def, const AttributeValue& v) {
  std::string want(attribute_type_name(def.type));
  if (def.type == AttributeType::kVector) want += "(" + std::to_string(def.vector_dim) + ")";
  return Status::Invalid(Subsystem::kEntities, field_of(def.name), value_text(v),
                         "must be " + want + " (the schema's type for " + def.name + "), not " +
                             std::string(alternative_name(v)));
}

Status check_string(const AttributeDefinition& def, std::string_view s, size_t limit,
                    std::string_view what) {
  if (s.size() > limit) {
    return Status::Invalid(Subsystem::kEntities, field_of(def.name), shown(s),
                           std::string(what) + " is " + std::to_string(s.size()) +
                               " bytes; the limit is " + std::to_string(limit));
  }
  if (!is_valid_utf8(s)) {
    return Status::Invalid(Subsystem::kEntities, field_of(def.name), shown(s),
                           std::string(what) + " is not valid UTF-8");
  }
  return Status::Ok();
}

// Appends `v`, checked against `def`, to `out` (value bytes only).
Status encode_value(const AttributeDefinition& def, const AttributeValue& v, std::string* out) {
  switch (def.type) {
    case AttributeType::kKeyword:
    case AttributeType::kText: {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr) return wrong_type(def, v);
      bool keyword = def.type == AttributeType::kKeyword;
      TIDAL_RETURN_IF_ERROR(check_string(def, *s, keyword ? kMaxKeywordBytes : kMaxTextBytes,
                                         keyword ? "the keyword" : "the text"));
      put_length_prefixed(out, *s);
      return Status::Ok();
    }
    case AttributeType::kInt: {
      const auto* i = std::get_if<int64_t>(&v);
      if (i == nullptr) return wrong_type(def, v);
      put_varsint64(out, *i);
      return Status::Ok();
    }
    case AttributeType::kFloat: {
      double d;
      if (const auto* f = std::get_if<double>(&v)) {
        d = *f;
      } else if (const auto* i = std::get_if<int64_t>(&v)) {
        d = static_cast<double>(*i);
      } else {
        return wrong_type(def, v);
      }
      if (!std::isfinite(d)) {
        return Status::Invalid(Subsystem::kEntities, field_of(def.name), value_text(v),
                               "must be a finite number (not NaN or infinite)");
      }
      put_double_le(out, d);
      return Status::Ok();
    }
    case AttributeType::kBool: {
      const auto* b = std::get_if<bool>(&v);
      if (b == nullptr) return wrong_type(def, v);
      out->push_back(*b ? 1 : 0);
      return Status::Ok();
    }
    case AttributeType::kTimestamp: {
      const auto* t = std::get_if<Timestamp>(&v);
      if (t == nullptr) return wrong_type(def, v);
      put_varsint64(out, to_micros(*t));
      return Status::Ok();
    }
    case AttributeType::kTags: {
      const auto* tags = std::get_if<std::vector<std::string>>(&v);
      if (tags == nullptr) return wrong_type(def, v);
      if (tags->size() > kMaxTagsPerValue) {
        return Status::Invalid(Subsystem::kEntities, field_of(def.name), value_text(v),
                               "holds " + std::to_string(tags->size()) + " tags; the limit is " +
                                   std::to_string(kMaxTagsPerValue));
      }
      std::vector<std::string_view> sorted;
      sorted.reserve(tags->size());
      for (const std::string& t : *tags) {
        TIDAL_RETURN_IF_ERROR(check_string(def, t, kMaxKeywordBytes, "a tag"));
        sorted.push_back(t);
      }
      std::sort(sorted.begin(), sorted.end());
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      put_varint64(out, sorted.size());
      for (std::string_view t : sorted) put_length_prefixed(out, t);
      return Status::Ok();
    }
    case AttributeType::kVector: {
      const auto* vec = std::get_if<std::vector<float>>(&v);
      if (vec == nullptr) return wrong_type(def, v);
      if (vec->size() != def.vector_dim) {
        return Status::Invalid(Subsystem::kEntities, field_of(def.name), value_text(v),
                               "must have " + std::to_string(def.vector_dim) +
                                   " components (the schema's dimension), not " +
                                   std::to_string(vec->size()));
      }
      double norm = 0;
      for (size_t k = 0; k < vec->size(); ++k) {
        float c = (*vec)[k];
        if (!std::isfinite(c)) {
          return Status::Invalid(
              Subsystem::kEntities, field_of(def.name) + "[" + std::to_string(k) + "]",
              std::to_string(c), "must be a finite number (not NaN or infinite)");
        }
        norm += static_cast<double>(c) * c;
      }
      if (def.metric == VectorMetric::kCosine && norm == 0) {
        return Status::Invalid(Subsystem::kEntities, field_of(def.name), value_text(v),
                               "is the zero vector, which has no direction for the cosine metric");
      }
      put_varint64(out, vec->size());
      for (float c : *vec) {
        uint32_t bits;
        std::memcpy(&bits, &c, 4);
        put_fixed32_le(out, bits);
      }
      return Status::Ok();
    }
  }
  return Status::Internal(Subsystem::kEntities, "unknown attribute type");
}

bool read_value(AttributeType type, ByteReader* rd, ValueView* v) {
  v->type = type;
  switch (type) {
    case AttributeType::kKeyword:
    case AttributeType::kText: return rd->read_length_prefixed(&v->str);
    case AttributeType::kInt:
    case AttributeType::kTimestamp: return rd->read_varsint64(&v->i);
    case AttributeType::kFloat: return rd->read_double_le(&v->f);
    case AttributeType::kBool: {
      uint8_t b;
      if (!rd->read_u8(&b) || b > 1) return false;
      v->b = b == 1;
      return true;
    }
    case AttributeType::kTags: {
      if (!rd->read_varint32(&v->count) || v->count > kMaxTagsPerValue) return false;
      std::string_view start = rd->rest();
      for (uint32_t k = 0; k < v->count; ++k) {
        std::string_view t;
        if (!rd->read_length_prefixed(&t)) return false;
      }
      v->raw = start.substr(0, start.size() - rd->rest().size());
      return true;
    }
    case AttributeType::kVector: {
      if (!rd->read_varint32(&v->count) || v->count > kMaxVectorDim) return false;
      return rd->read_bytes(size_t{v->count} * 4, &v->raw);
    }
  }
  return false;
}

}  // namespace

float ValueView::vector_at(uint32_t k) const {
  uint32_t bits = decode_fixed32_le(raw.data() + size_t{k} * 4);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

AttributeReader::AttributeReader(const AttributeCatalog& catalog, std::string_view list)
    : catalog_(catalog), in_(list) {
  if (list.empty()) return;  // an empty list: no attributes
  ByteReader rd(in_);
  if (!rd.read_varint64(&count_)) {
    ok_ = false;
    count_ = 0;
    return;
  }
  in_ = rd.rest();
}

bool AttributeReader::next(uint16_t* slot, ValueView* value, std::string_view* entry) {
  if (!ok_ || read_ == count_) return false;
  ByteReader rd(in_);
  uint32_t s;
  const AttributeDefinition* def = nullptr;
  if (!rd.read_varint32(&s) || s > UINT16_MAX || static_cast<int>(s) <= last_slot_ ||
      (def = catalog_.at_slot(static_cast<uint16_t>(s))) == nullptr ||
      !read_value(def->type, &rd, value)) {
    ok_ = false;
    return false;
  }
  if (entry != nullptr) *entry = in_.substr(0, in_.size() - rd.rest().size());
  in_ = rd.rest();
  last_slot_ = static_cast<int>(s);
  *slot = static_cast<uint16_t>(s);
  ++read_;
  return true;
}

bool validate_attribute_list(const AttributeCatalog& catalog, std::string_view list) {
  AttributeReader r(catalog, list);
  uint16_t slot;
  ValueView v;
  while (r.next(&slot, &v)) {
  }
  return r.done();
}

AttributeValue to_value(const ValueView& v) {
  switch (v.type) {
    case AttributeType::kKeyword:
    case AttributeType::kText: return std::string(v.str);
    case AttributeType::kInt: return v.i;
    case AttributeType::kFloat: return v.f;
    case AttributeType::kBool: return v.b;
    case AttributeType::kTimestamp: return from_micros(v.i);
    case AttributeType::kTags: {
      std::vector<std::string> tags;
      tags.reserve(v.count);
      v.for_each_tag([&](std::string_view t) { tags.emplace_back(t); });
      return tags;
    }
    case AttributeType::kVector: {
      std::vector<float> out(v.count);
      for (uint32_t k = 0; k < v.count; ++k) out[k] = v.vector_at(k);
      return out;
    }
  }
  return std::monostate{};
}

Status encode_write(const AttributeCatalog& catalog, const EntityWrite& write, WriteKind kind,
                    UnknownAttributes unknown, int64_t default_created_at_us, EncodedWrite* out) {
  TIDAL_RETURN_IF_ERROR(validate_key("key", write.key));
  if (write.attributes.size() > kMaxAttributesPerWrite) {
    return Status::Invalid(
        Subsystem::kEntities, "attributes", std::to_string(write.attributes.size()),
        "a write may set at most " + std::to_string(kMaxAttributesPerWrite) + " attributes");
  }
  struct Encoded {
    uint16_t slot;
    size_t offset, length;
  };
  std::vector<Encoded> entries;
  entries.reserve(write.attributes.size() + 1);
  std::string values;
  out->removed.clear();
  out->has_creator = false;
  bool has_created_at = false;
  for (const Attribute& a : write.attributes) {
    const AttributeDefinition* def = catalog.find(a.name);
    if (def == nullptr) {
      if (unknown == UnknownAttributes::kIgnore) continue;
      return Status::Invalid(Subsystem::kEntities, field_of(a.name), value_text(a.value),
                             "is not an attribute of " +
                                 std::string(entity_kind_name(catalog.kind())) + " in the schema");
    }
    uint16_t slot = AttributeCatalog::slot_of(*def);
    for (const Encoded& e : entries) {
      if (e.slot == slot) {
        return Status::Invalid(Subsystem::kEntities, field_of(a.name), value_text(a.value),
                               "is given more than once in one write");
      }
    }
    if (std::find(out->removed.begin(), out->removed.end(), slot) != out->removed.end()) {
      return Status::Invalid(Subsystem::kEntities, field_of(a.name), "no value",
                             "is given more than once in one write");
    }
    if (std::holds_alternative<std::monostate>(a.value)) {
      // No value: absent in an upsert, removed by a patch. Noted either way,
      // so that naming the attribute again is caught as a repeat.
      out->removed.push_back(slot);
      continue;
    }
    if (slot == kCreatorSlot) {
      const auto* s = std::get_if<std::string>(&a.value);
      if (s == nullptr) return wrong_type(*def, a.value);
      TIDAL_RETURN_IF_ERROR(validate_key(field_of(def->name), *s));
      out->creator = *s;
      out->has_creator = true;
    }
    if (slot == kCreatedAtSlot) has_created_at = true;
    size_t offset = values.size();
    TIDAL_RETURN_IF_ERROR(encode_value(*def, a.value, &values));
    entries.push_back({slot, offset, values.size() - offset});
  }
  if (kind == WriteKind::kUpsert && catalog.kind() == EntityKind::kItem && !has_created_at) {
    size_t offset = values.size();
    put_varsint64(&values, default_created_at_us);
    entries.push_back({kCreatedAtSlot, offset, values.size() - offset});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Encoded& a, const Encoded& b) { return a.slot < b.slot; });
  if (kind == WriteKind::kUpsert) out->removed.clear();
  std::sort(out->removed.begin(), out->removed.end());
  out->list.clear();
  if (!entries.empty()) {
    put_varint64(&out->list, entries.size());
    for (const Encoded& e : entries) {
      put_varint64(&out->list, e.slot);
      out->list.append(values, e.offset, e.length);
    }
  }
  return Status::Ok();
}

bool merge_attribute_lists(const AttributeCatalog& catalog, std::string_view base,
                           std::string_view set, std::span<const uint16_t> removed,
                           std::string* out) {
  AttributeReader a(catalog, base), b(catalog, set);
  std::vector<std::string_view> merged;
  uint16_t sa = 0, sb = 0;
  ValueView va, vb;
  std::string_view ea, eb;
  bool has_a = a.next(&sa, &va, &ea), has_b = b.next(&sb, &vb, &eb);
  auto dropped = [&](uint16_t slot) {
    return std::binary_search(removed.begin(), removed.end(), slot);
  };
  while (has_a || has_b) {
    if (has_b && (!has_a || sb <= sa)) {
      merged.push_back(eb);
      if (has_a && sa == sb) has_a = a.next(&sa, &va, &ea);
      has_b = b.next(&sb, &vb, &eb);
    } else {
      if (!dropped(sa)) merged.push_back(ea);
      has_a = a.next(&sa, &va, &ea);
    }
  }
  if (!a.ok() || !b.ok()) return false;
  out->clear();
  if (merged.empty()) return true;
  put_varint64(out, merged.size());
  for (std::string_view e : merged) out->append(e);
  return true;
}

Status check_relationship_target(Relation relation, EntityKind target_kind) {
  bool ok = relation == Relation::kFollow
                ? (target_kind == EntityKind::kCreator || target_kind == EntityKind::kUser)
                : (target_kind == EntityKind::kCreator || target_kind == EntityKind::kItem);
  if (ok) return Status::Ok();
  return Status::Invalid(Subsystem::kEntities, "target_kind", entity_kind_name(target_kind),
                         std::string(relation_name(relation)) +
                             (relation == Relation::kFollow ? " targets a creator or a user"
                                                            : " targets a creator or an item"));
}

std::optional<std::string_view> creator_in(const AttributeCatalog& item_catalog,
                                           std::string_view list) {
  std::optional<std::string_view> creator;
  AttributeReader r(item_catalog, list);
  uint16_t slot;
  ValueView v;
  while (r.next(&slot, &v)) {
    if (slot == kCreatorSlot) creator = v.str;
  }
  return creator;
}

Status check_entity_kind(EntityKind kind) {
  if (static_cast<size_t>(kind) <= static_cast<size_t>(EntityKind::kCreator)) return Status::Ok();
  return Status::Invalid(Subsystem::kEntities, "kind", std::to_string(static_cast<int>(kind)),
                         "must be item, user or creator");
}

Status check_relationship_write(const RelationshipWrite& w) {
  if (static_cast<uint8_t>(w.relation) > static_cast<uint8_t>(Relation::kMute)) {
    return Status::Invalid(Subsystem::kEntities, "relation",
                           std::to_string(static_cast<int>(w.relation)),
                           "must be follow, block or mute");
  }
  TIDAL_RETURN_IF_ERROR(validate_key("user", w.user));
  TIDAL_RETURN_IF_ERROR(validate_key("target", w.target));
  TIDAL_RETURN_IF_ERROR(check_relationship_target(w.relation, w.target_kind));
  if (w.target_kind == EntityKind::kUser && w.target == w.user) {
    return Status::Invalid(Subsystem::kEntities, "target", w.target,
                           "a user cannot " + std::string(relation_name(w.relation)) + " itself");
  }
  return Status::Ok();
}

}  // namespace tidal::entities
