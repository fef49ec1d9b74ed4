#include "entities/key_map.h"

#include "core/coding.h"

namespace tidal {

std::string KeyMap::prefix() const {
  std::string p = "keys/";
  p += static_cast<char>('0' + static_cast<int>(kind_));
  p += '/';
  return p;
}

std::optional<uint32_t> KeyMap::find(std::string_view key) const {
  auto it = index_of_.find(key);
  if (it == index_of_.end()) return std::nullopt;
  return it->second;
}

uint32_t KeyMap::assign(std::string_view key) {
  auto [it, inserted] =
      index_of_.try_emplace(std::string(key), static_cast<uint32_t>(keys_.size()));
  if (inserted) {
    keys_.push_back(&it->first);
    flags_.push_back(0);
    dirty_.push_back(it->second);
  }
  return it->second;
}

void KeyMap::set_registered(uint32_t index) {
  if (flags_[index] & kRegistered) return;
  flags_[index] |= kRegistered;
  dirty_.push_back(index);
}

void KeyMap::clear_registered(uint32_t index) {
  if (!(flags_[index] & kRegistered)) return;
  flags_[index] &= static_cast<uint8_t>(~kRegistered);
  dirty_.push_back(index);
}

void KeyMap::checkpoint(WriteBatch* batch) {
  std::string p = prefix();
  std::string value;
  for (uint32_t index : dirty_) {
    value.clear();
    put_varint64(&value, index);
    value.push_back(static_cast<char>(flags_[index]));
    batch->put(Keyspace::kMeta, p + *keys_[index], value);
  }
  dirty_.clear();
}

Status KeyMap::restore(StorageEngine& engine) {
  std::string p = prefix();
  std::vector<std::pair<uint32_t, std::pair<std::string, uint8_t>>> entries;
  auto it = engine.scan_prefix(Keyspace::kMeta, p);
  for (; it->valid(); it->next()) {
    ByteReader r(it->value());
    uint32_t index;
    uint8_t flags;
    if (!r.read_varint32(&index) || !r.read_u8(&flags) || !r.empty()) {
      return Status::Corruption(Subsystem::kStorage,
                                "key map entry \"" + std::string(it->key()) + "\" is malformed");
    }
    entries.push_back({index, {std::string(it->key().substr(p.size())), flags}});
  }
  TIDAL_RETURN_IF_ERROR(it->status());
  keys_.assign(entries.size(), nullptr);
  flags_.assign(entries.size(), 0);
  for (auto& [index, kf] : entries) {
    if (index >= entries.size() || keys_[index] != nullptr) {
      return Status::Corruption(Subsystem::kStorage, "key map indexes are not dense: index " +
                                                         std::to_string(index) + " of " +
                                                         std::to_string(entries.size()));
    }
    auto [pos, inserted] = index_of_.try_emplace(std::move(kf.first), index);
    keys_[index] = &pos->first;
    flags_[index] = kf.second;
  }
  dirty_.clear();
  return Status::Ok();
}

}  // namespace tidal
