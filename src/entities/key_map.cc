#include "entities/key_map.h"

#include <functional>

#include "core/coding.h"
#include "storage/meta_keys.h"

namespace tidal {

std::string KeyMap::prefix() const {
  std::string p(meta_keys::kKeyMapPrefix);
  p += static_cast<char>('0' + static_cast<int>(kind_));
  p += '/';
  return p;
}

namespace {

uint32_t hash_of(std::string_view key) {
  uint64_t h = std::hash<std::string_view>()(key);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

}  // namespace

size_t KeyMap::probe(std::string_view key, uint32_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t pos = hash & mask;; pos = (pos + 1) & mask) {
    const Slot& s = slots_[pos];
    if (s.index_plus_one == 0 || (s.hash == hash && keys_[s.index_plus_one - 1] == key)) {
      return pos;
    }
  }
}

void KeyMap::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.index_plus_one == 0) continue;
    size_t pos = s.hash & mask;
    while (slots_[pos].index_plus_one != 0) pos = (pos + 1) & mask;
    slots_[pos] = s;
  }
}

std::optional<uint32_t> KeyMap::find(std::string_view key) const {
  if (slots_.empty()) return std::nullopt;
  const Slot& s = slots_[probe(key, hash_of(key))];
  if (s.index_plus_one == 0) return std::nullopt;
  return s.index_plus_one - 1;
}

uint32_t KeyMap::assign(std::string_view key) {
  if ((keys_.size() + 1) * 4 > slots_.size() * 3) grow();
  uint32_t hash = hash_of(key);
  Slot& s = slots_[probe(key, hash)];
  if (s.index_plus_one != 0) return s.index_plus_one - 1;
  auto index = static_cast<uint32_t>(keys_.size());
  s = {hash, index + 1};
  keys_.emplace_back(key);
  flags_.push_back(0);
  dirty_.mark(index);
  return index;
}

void KeyMap::set_registered(uint32_t index) {
  if (flags_[index] & kRegistered) return;
  flags_[index] |= kRegistered;
  dirty_.mark(index);
}

void KeyMap::clear_registered(uint32_t index) {
  if (!(flags_[index] & kRegistered)) return;
  flags_[index] &= static_cast<uint8_t>(~kRegistered);
  dirty_.mark(index);
}

void KeyMap::checkpoint(WriteBatch* batch) {
  std::string p = prefix();
  std::string value;
  for (uint32_t index : dirty_.begin_checkpoint()) {
    value.clear();
    put_varint64(&value, index);
    value.push_back(static_cast<char>(flags_[index]));
    batch->put(Keyspace::kMeta, p + keys_[index], value);
  }
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
  // Assigned in index order, so each key gets the index it was stored with.
  std::vector<const std::pair<std::string, uint8_t>*> by_index(entries.size(), nullptr);
  for (const auto& [index, kf] : entries) {
    if (index >= entries.size() || by_index[index] != nullptr) {
      return Status::Corruption(Subsystem::kStorage, "key map indexes are not dense: index " +
                                                         std::to_string(index) + " of " +
                                                         std::to_string(entries.size()));
    }
    by_index[index] = &kf;
  }
  slots_.clear();
  keys_.clear();
  flags_.clear();
  for (uint32_t index = 0; index < by_index.size(); ++index) {
    if (assign(by_index[index]->first) != index) {
      return Status::Corruption(Subsystem::kStorage,
                                "key map holds \"" + by_index[index]->first + "\" twice");
    }
    flags_[index] = by_index[index]->second;
  }
  dirty_.clear();
  return Status::Ok();
}

}  // namespace tidal
