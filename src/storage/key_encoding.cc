#include "storage/key_encoding.h"

#include "core/coding.h"

namespace tidal {

namespace {
constexpr char kSeparator = '\0';
}  // namespace

std::string entity_prefix(EntityId id) {
  std::string key;
  key.reserve(kEntityKeyHeaderSize);
  put_fixed64_be(&key, id.value);
  key.push_back(kSeparator);
  return key;
}

std::string entity_tag_prefix(EntityId id, KeyTag tag) {
  std::string key = entity_prefix(id);
  key.push_back(static_cast<char>(tag));
  return key;
}

std::string encode_entity_key(EntityId id, KeyTag tag, std::string_view suffix) {
  std::string key;
  key.reserve(kEntityKeyHeaderSize + suffix.size());
  put_fixed64_be(&key, id.value);
  key.push_back(kSeparator);
  key.push_back(static_cast<char>(tag));
  key.append(suffix);
  return key;
}

std::optional<DecodedEntityKey> decode_entity_key(std::string_view key) {
  if (key.size() < kEntityKeyHeaderSize || key[8] != kSeparator) return std::nullopt;
  DecodedEntityKey out;
  out.id = EntityId(decode_fixed64_be(key.data()));
  out.tag = static_cast<uint8_t>(key[9]);
  out.suffix = key.substr(kEntityKeyHeaderSize);
  return out;
}

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto last = static_cast<unsigned char>(out.back());
    if (last != 0xff) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;  // empty or all 0xff: no upper bound
}

}  // namespace tidal
