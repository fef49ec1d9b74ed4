#include "entities/relationships.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/coding.h"
#include "core/dense_table.h"
#include "entities/key_map.h"
#include "storage/key_encoding.h"

namespace tidal::entities {

namespace {

constexpr uint8_t kFormat = 1;
// The bitmaps of a user, in stored order.
enum Set : size_t {
  kFollowCreators,
  kFollowUsers,
  kBlockCreators,
  kBlockItems,
  kMuteCreators,
  kMuteItems,
  kSetCount
};

std::optional<Set> set_for(Relation relation, EntityKind target) {
  switch (relation) {
    case Relation::kFollow:
      if (target == EntityKind::kCreator) return kFollowCreators;
      if (target == EntityKind::kUser) return kFollowUsers;
      return std::nullopt;
    case Relation::kBlock:
      if (target == EntityKind::kCreator) return kBlockCreators;
      if (target == EntityKind::kItem) return kBlockItems;
      return std::nullopt;
    case Relation::kMute:
      if (target == EntityKind::kCreator) return kMuteCreators;
      if (target == EntityKind::kItem) return kMuteItems;
      return std::nullopt;
  }
  return std::nullopt;
}

void grow(std::vector<Bitmap>& v, uint32_t index) {
  if (v.size() <= index) v.resize(index + 1);
}

}  // namespace

struct Relationships::UserState {
  std::array<Bitmap, kSetCount> sets;
  // Affinity cells, ascending by creator: weights has stride
  // affinity_signals_.size().
  std::vector<uint32_t> creators;
  std::vector<int64_t> last_us;
  std::vector<float> weights;

  bool empty() const {
    for (const Bitmap& b : sets) {
      if (!b.isEmpty()) return false;
    }
    return creators.empty();
  }
};

Relationships::Relationships(const Schema& schema) {
  add_signals(schema);
}

void Relationships::add_signals(const Schema& schema) {
  const size_t before = affinity_signals_.size();
  for (size_t id = slot_of_signal_.size(); id < schema.signals().size(); ++id) {
    const SignalTypeDefinition& s = schema.signals()[id];
    slot_of_signal_.push_back(-1);
    if (s.affinity_delta == 0) continue;
    slot_of_signal_[s.id] = static_cast<int>(affinity_signals_.size());
    affinity_signals_.push_back(s.id);
    delta_.push_back(s.affinity_delta);
    half_life_us_.push_back(static_cast<double>(s.half_life.count()));
  }
  const size_t after = affinity_signals_.size();
  if (after == before) return;
  // Each user's affinity cells have one weight per affinity signal: widen
  // them, the new signals' weights zero.
  for (auto& u : users_) {
    if (!u || u->creators.empty()) continue;
    std::vector<float> widened(u->creators.size() * after, 0.0f);
    for (size_t cell = 0; cell < u->creators.size(); ++cell) {
      std::copy_n(u->weights.begin() + static_cast<std::ptrdiff_t>(cell * before), before,
                  widened.begin() + static_cast<std::ptrdiff_t>(cell * after));
    }
    u->weights = std::move(widened);
  }
}

Relationships::~Relationships() = default;

Relationships::UserState& Relationships::user_state(uint32_t user) {
  return dense_at(users_, user);
}

const Relationships::UserState* Relationships::find_user(uint32_t user) const {
  return dense_find(users_, user);
}

Status Relationships::apply(const apply::AppliedRecord& r) {
  switch (r.type) {
    case wal::RecordType::kSchemaChange: add_signals(*r.schema); return Status::Ok();
    case wal::RecordType::kSignalEvent:
      if (r.user != apply::AppliedRecord::kNone && r.creator != apply::AppliedRecord::kNone) {
        apply_signal(r);
      }
      return Status::Ok();
    case wal::RecordType::kRelationship: apply_relationship(r); return Status::Ok();
    case wal::RecordType::kEntityDelete:
      apply_delete(r.entity->kind, r.entity_index);
      return Status::Ok();
    default: return Status::Ok();
  }
}

void Relationships::apply_signal(const apply::AppliedRecord& r) {
  int slot = r.signal->signal < slot_of_signal_.size() ? slot_of_signal_[r.signal->signal] : -1;
  if (slot < 0) return;
  UserState& u = user_state(r.user);
  size_t k = affinity_signals_.size();
  auto it = std::lower_bound(u.creators.begin(), u.creators.end(), r.creator);
  size_t cell = static_cast<size_t>(it - u.creators.begin());
  int64_t t = r.signal->time_us;
  if (it == u.creators.end() || *it != r.creator) {
    u.creators.insert(it, r.creator);
    u.last_us.insert(u.last_us.begin() + static_cast<ptrdiff_t>(cell), t);
    u.weights.insert(u.weights.begin() + static_cast<ptrdiff_t>(cell * k), k, 0.0f);
  }
  float* w = u.weights.data() + cell * k;
  int64_t& last = u.last_us[cell];
  auto s = static_cast<size_t>(slot);
  if (t >= last) {
    double dt = static_cast<double>(t - last);
    if (dt > 0) {
      for (size_t j = 0; j < k; ++j) {
        w[j] = static_cast<float>(w[j] * std::exp2(-dt / half_life_us_[j]));
      }
    }
    last = t;
    w[s] = static_cast<float>(w[s] + delta_[s]);
  } else {
    double dt = static_cast<double>(last - t);
    w[s] = static_cast<float>(w[s] + delta_[s] * std::exp2(-dt / half_life_us_[s]));
  }
  dirty_.mark(r.user);
}

void Relationships::apply_relationship(const apply::AppliedRecord& r) {
  const apply::RelationshipRecord& rel = *r.relationship;
  std::optional<Set> set = set_for(rel.relation, rel.target_kind);
  if (!set) return;  // rejected when written; never in the WAL
  UserState& u = user_state(r.user);
  if (rel.active) {
    u.sets[*set].add(r.target);
  } else {
    u.sets[*set].remove(r.target);
  }
  if (*set == kFollowCreators || *set == kFollowUsers) {
    std::vector<Bitmap>& followers = *set == kFollowCreators ? creator_followers_ : user_followers_;
    grow(followers, r.target);
    if (rel.active) {
      followers[r.target].add(r.user);
    } else {
      followers[r.target].remove(r.user);
    }
  }
  dirty_.mark(r.user);
}

void Relationships::apply_delete(EntityKind kind, uint32_t index) {
  switch (kind) {
    case EntityKind::kUser: {
      if (index < users_.size() && users_[index]) {
        UserState& u = *users_[index];
        for (uint32_t c : u.sets[kFollowCreators]) creator_followers_[c].remove(index);
        for (uint32_t f : u.sets[kFollowUsers]) user_followers_[f].remove(index);
        users_[index].reset();
        dirty_.mark(index);
      }
      if (index < user_followers_.size()) {
        for (uint32_t follower : user_followers_[index]) {
          users_[follower]->sets[kFollowUsers].remove(index);
          dirty_.mark(follower);
        }
        user_followers_[index] = Bitmap();
      }
      return;
    }
    case EntityKind::kCreator: {
      if (index < creator_followers_.size()) creator_followers_[index] = Bitmap();
      size_t k = affinity_signals_.size();
      for (uint32_t user = 0; user < users_.size(); ++user) {
        UserState* u = users_[user].get();
        if (u == nullptr) continue;
        bool changed = u->sets[kFollowCreators].removeChecked(index);
        changed |= u->sets[kBlockCreators].removeChecked(index);
        changed |= u->sets[kMuteCreators].removeChecked(index);
        auto it = std::lower_bound(u->creators.begin(), u->creators.end(), index);
        if (it != u->creators.end() && *it == index) {
          auto cell = static_cast<ptrdiff_t>(it - u->creators.begin());
          u->creators.erase(it);
          u->last_us.erase(u->last_us.begin() + cell);
          u->weights.erase(u->weights.begin() + cell * static_cast<ptrdiff_t>(k),
                           u->weights.begin() + (cell + 1) * static_cast<ptrdiff_t>(k));
          changed = true;
        }
        if (changed) dirty_.mark(user);
      }
      return;
    }
    case EntityKind::kItem: {
      for (uint32_t user = 0; user < users_.size(); ++user) {
        UserState* u = users_[user].get();
        if (u == nullptr) continue;
        bool changed = u->sets[kBlockItems].removeChecked(index);
        changed |= u->sets[kMuteItems].removeChecked(index);
        if (changed) dirty_.mark(user);
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Reads

Bitmap Relationships::followers(EntityKind target_kind, uint32_t target) const {
  const std::vector<Bitmap>& f =
      target_kind == EntityKind::kCreator ? creator_followers_ : user_followers_;
  return target < f.size() ? f[target] : Bitmap();
}

Bitmap Relationships::related(uint32_t user, Relation relation, EntityKind target_kind) const {
  const UserState* u = find_user(user);
  std::optional<Set> set = set_for(relation, target_kind);
  if (u == nullptr || !set) return Bitmap();
  return u->sets[*set];
}

bool Relationships::has(uint32_t user, Relation relation, EntityKind target_kind,
                        uint32_t target) const {
  const UserState* u = find_user(user);
  std::optional<Set> set = set_for(relation, target_kind);
  return u != nullptr && set && u->sets[*set].contains(target);
}

double Relationships::weight_at(const UserState& u, size_t cell, int64_t now_us) const {
  size_t k = affinity_signals_.size();
  double dt = static_cast<double>(std::max<int64_t>(0, now_us - u.last_us[cell]));
  double total = 0;
  for (size_t j = 0; j < k; ++j)
    total += u.weights[cell * k + j] * std::exp2(-dt / half_life_us_[j]);
  return total;
}

double Relationships::affinity(uint32_t user, uint32_t creator, int64_t now_us) const {
  const UserState* u = find_user(user);
  if (u == nullptr) return 0;
  auto it = std::lower_bound(u->creators.begin(), u->creators.end(), creator);
  if (it == u->creators.end() || *it != creator) return 0;
  return weight_at(*u, static_cast<size_t>(it - u->creators.begin()), now_us);
}

std::vector<Relationships::Weighted> Relationships::top_affinities(uint32_t user, size_t limit,
                                                                   int64_t now_us) const {
  std::vector<Weighted> out;
  const UserState* u = find_user(user);
  if (u == nullptr) return out;
  out.reserve(u->creators.size());
  for (size_t cell = 0; cell < u->creators.size(); ++cell) {
    out.push_back({u->creators[cell], weight_at(*u, cell, now_us)});
  }
  std::sort(out.begin(), out.end(), [](const Weighted& a, const Weighted& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.creator < b.creator;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

uint64_t Relationships::users_with_state() const {
  uint64_t n = 0;
  for (const auto& u : users_) n += (u && !u->empty()) ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------------------
// Checkpoint and restore
//
//   u8 format (1) | 6 × bytes (portable roaring bitmap) |
//   varint k | k × varint signal id | varint cells |
//   cells × (varint creator | varsint last_us | k × f32 LE)

Status Relationships::checkpoint(WriteBatch* batch) {
  std::string value;
  for (uint32_t user : dirty_.begin_checkpoint()) {
    std::string key =
        encode_entity_key(entity_id_for(EntityKind::kUser, user), KeyTag::kRelationship);
    const UserState* u = find_user(user);
    if (u == nullptr || u->empty()) {
      batch->del(Keyspace::kEntities, key);
      continue;
    }
    value.clear();
    value.push_back(static_cast<char>(kFormat));
    for (const Bitmap& b : u->sets) {
      std::string bytes(b.getSizeInBytes(true), '\0');
      b.write(bytes.data(), true);
      put_length_prefixed(&value, bytes);
    }
    size_t k = affinity_signals_.size();
    put_varint64(&value, k);
    for (uint16_t s : affinity_signals_) put_varint64(&value, s);
    put_varint64(&value, u->creators.size());
    for (size_t cell = 0; cell < u->creators.size(); ++cell) {
      put_varint64(&value, u->creators[cell]);
      put_varsint64(&value, u->last_us[cell]);
      for (size_t j = 0; j < k; ++j) {
        uint32_t bits;
        std::memcpy(&bits, &u->weights[cell * k + j], 4);
        put_fixed32_le(&value, bits);
      }
    }
    batch->put(Keyspace::kEntities, key, value);
  }
  return Status::Ok();
}

Status Relationships::restore(StorageEngine& engine) {
  // Only users hold relationship state: their EntityIds, and so their keys,
  // start with the user kind's byte; the (many) items' keys are not read.
  auto it =
      engine.scan_prefix(Keyspace::kEntities, std::string(1, static_cast<char>(EntityKind::kUser)));
  for (; it->valid(); it->next()) {
    std::optional<DecodedEntityKey> key = decode_entity_key(it->key());
    if (!key || key->tag != static_cast<uint8_t>(KeyTag::kRelationship)) continue;
    uint64_t raw = key->id.value;
    auto user = static_cast<uint32_t>(raw);
    auto corrupt = [&] {
      return Status::Corruption(Subsystem::kStorage, "the stored relationships of user #" +
                                                         std::to_string(user) + " are malformed");
    };
    if ((raw >> 56) != static_cast<uint64_t>(EntityKind::kUser)) return corrupt();
    ByteReader rd(it->value());
    uint8_t format;
    if (!rd.read_u8(&format) || format != kFormat) return corrupt();
    UserState& u = user_state(user);
    for (Bitmap& b : u.sets) {
      std::string_view bytes;
      if (!rd.read_length_prefixed(&bytes)) return corrupt();
      try {
        b = Bitmap::readSafe(bytes.data(), bytes.size());
      } catch (const std::exception&) {
        return corrupt();
      }
    }
    uint64_t stored_k;
    if (!rd.read_varint64(&stored_k) || stored_k > 1024) return corrupt();
    std::vector<int> position(stored_k, -1);  // stored weight -> current slot
    for (uint64_t j = 0; j < stored_k; ++j) {
      uint32_t s;
      if (!rd.read_varint32(&s)) return corrupt();
      if (s < slot_of_signal_.size()) position[j] = slot_of_signal_[s];
    }
    uint64_t cells;
    if (!rd.read_varint64(&cells)) return corrupt();
    size_t k = affinity_signals_.size();
    for (uint64_t cell = 0; cell < cells; ++cell) {
      uint32_t creator;
      int64_t last;
      if (!rd.read_varint32(&creator) || !rd.read_varsint64(&last)) return corrupt();
      if (!u.creators.empty() && creator <= u.creators.back()) return corrupt();
      u.creators.push_back(creator);
      u.last_us.push_back(last);
      u.weights.resize(u.weights.size() + k, 0.0f);
      for (uint64_t j = 0; j < stored_k; ++j) {
        uint32_t bits;
        if (!rd.read_fixed32_le(&bits)) return corrupt();
        float w;
        std::memcpy(&w, &bits, 4);
        if (position[j] >= 0) u.weights[cell * k + static_cast<size_t>(position[j])] = w;
      }
    }
    if (!rd.empty()) return corrupt();
    for (uint32_t c : u.sets[kFollowCreators]) {
      grow(creator_followers_, c);
      creator_followers_[c].add(user);
    }
    for (uint32_t f : u.sets[kFollowUsers]) {
      grow(user_followers_, f);
      user_followers_[f].add(user);
    }
  }
  return it->status();
}

bool blocks(const Relationships& relationships, const EntityStore& store, uint32_t user,
            EntityKind kind, uint32_t target) {
  if (relationships.has(user, Relation::kBlock, kind, target)) return true;
  if (kind != EntityKind::kItem) return false;
  const uint32_t creator = store.creator_of(target);
  return creator != kNoCreator &&
         relationships.has(user, Relation::kBlock, EntityKind::kCreator, creator);
}

}  // namespace tidal::entities
