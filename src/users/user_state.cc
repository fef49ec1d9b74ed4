#include "users/user_state.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/coding.h"
#include "core/dense_table.h"
#include "entities/key_map.h"
#include "storage/key_encoding.h"

namespace tidal::users {

namespace {

constexpr uint8_t kFormat = 1;
constexpr double kMaxWeight = 1.0;  // w_ui is at most this

// 2^(−dt / half_life) for dt >= 0 (1 for dt <= 0).
double decay(int64_t dt_us, int64_t half_life_us) {
  if (dt_us <= 0) return 1.0;
  return std::exp2(-static_cast<double>(dt_us) / static_cast<double>(half_life_us));
}

void put_f32(std::string* out, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  put_fixed32_le(out, bits);
}

bool read_f32(ByteReader& rd, float* f) {
  uint32_t bits;
  if (!rd.read_fixed32_le(&bits)) return false;
  std::memcpy(f, &bits, 4);
  return std::isfinite(*f);
}

}  // namespace

struct UserStateStore::User {
  Bitmap seen;
  std::vector<ServedItem> served;  // ascending by item
  std::vector<RecentItem> recent;  // oldest first, distinct items, at most kRecent
  struct Preference {
    uint16_t slot = 0;
    int64_t t_us = 0;
    std::vector<float> a;  // the accumulator (unnormalized)
  };
  std::vector<Preference> preferences;
  bool empty() const {
    return seen.isEmpty() && recent.empty() && preferences.empty() && served.empty();
  }
};

struct UserStateStore::Links {
  int64_t t_us = INT64_MIN;  // the time every weight below is as of
  double norm2 = 0;
  struct Link {
    uint32_t item;
    float weight;
  };
  std::vector<Link> links;
  // Decays every weight to t_us (never backwards).
  void advance(int64_t to_us) {
    if (t_us == INT64_MIN) {
      t_us = to_us;
      return;
    }
    if (to_us <= t_us) return;
    const double f = decay(to_us - t_us, kCoHalfLifeUs);
    norm2 *= f;
    for (Link& l : links) l.weight = static_cast<float>(l.weight * f);
    t_us = to_us;
  }
  // The factor that brings an amount at time `at_us` to t_us.
  double scale_of(int64_t at_us) const {
    return at_us >= t_us ? 1.0 : decay(t_us - at_us, kCoHalfLifeUs);
  }
};

void encode_served_record(std::string_view user, int64_t time_us,
                          const std::vector<std::string>& items, std::string* out) {
  out->push_back(static_cast<char>(kFormat));
  put_length_prefixed(out, user);
  put_varsint64(out, time_us);
  put_varint64(out, items.size());
  for (const std::string& item : items) put_length_prefixed(out, item);
}

bool decode_served_record(std::string_view payload, ServedRecord* out) {
  ByteReader rd(payload);
  uint8_t format;
  uint64_t n;
  if (!rd.read_u8(&format) || format != kFormat || !rd.read_length_prefixed(&out->user) ||
      out->user.empty() || !rd.read_varsint64(&out->time_us) || !rd.read_varint64(&n) ||
      n > kServed) {
    return false;
  }
  out->items.clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view item;
    if (!rd.read_length_prefixed(&item)) return false;
    out->items.push_back(item);
  }
  return rd.remaining() == 0;
}

UserStateStore::UserStateStore(const Schema& schema, const vectors::VectorIndex* vectors)
    : vectors_(vectors) {
  add_signals(schema);
}

UserStateStore::~UserStateStore() = default;

void UserStateStore::add_signals(const Schema& schema) {
  for (const SignalTypeDefinition& s : schema.signals()) {
    if (s.id < rate_.size()) continue;
    rate_.push_back(s.learning_rate);
    sign_.push_back(s.polarity == Polarity::kPositive ? 1 : -1);
  }
}

UserStateStore::User& UserStateStore::user_state(uint32_t user) {
  return dense_at(users_, user);
}

const UserStateStore::User* UserStateStore::find_user(uint32_t user) const {
  return dense_find(users_, user);
}

UserStateStore::Links& UserStateStore::links(uint32_t item) {
  return dense_at(items_, item);
}

const UserStateStore::Links* UserStateStore::find_links(uint32_t item) const {
  return dense_find(items_, item);
}

Status UserStateStore::apply(const apply::AppliedRecord& r) {
  switch (r.type) {
    case wal::RecordType::kSignalEvent:
      if (r.user != apply::AppliedRecord::kNone) apply_signal(r);
      return Status::Ok();
    case wal::RecordType::kEntityDelete:
      // A deleted user's state goes with it.
      if (r.entity->kind == EntityKind::kUser && find_user(r.entity_index) != nullptr) {
        users_[r.entity_index].reset();
        dirty_users_.mark(r.entity_index);
      }
      return Status::Ok();
    case wal::RecordType::kSchemaChange: add_signals(*r.schema); return Status::Ok();
    case wal::RecordType::kFeedServed: apply_served(r); return Status::Ok();
    default: return Status::Ok();
  }
}

void UserStateStore::link(uint32_t from, uint32_t to, double amount, int64_t t_us) {
  Links& l = links(from);
  l.advance(t_us);
  const auto add = static_cast<float>(amount * l.scale_of(t_us));
  dirty_items_.mark(from);
  for (Links::Link& x : l.links) {
    if (x.item == to) {
      x.weight += add;
      return;
    }
  }
  if (l.links.size() < kLinks) {
    l.links.push_back({to, add});
    return;
  }
  // Space-saving: the new link takes the lightest's place and weight.
  auto lightest = std::min_element(
      l.links.begin(), l.links.end(), [](const Links::Link& a, const Links::Link& b) {
        return a.weight < b.weight || (a.weight == b.weight && a.item < b.item);
      });
  *lightest = {to, lightest->weight + add};
}

void UserStateStore::apply_served(const apply::AppliedRecord& r) {
  User& u = user_state(r.user);
  dirty_users_.mark(r.user);
  // Forget servings past their retention, then count these.
  std::erase_if(u.served,
                [&](const ServedItem& s) { return s.last_us + kServedRetentionUs < r.served_us; });
  for (uint32_t item : r.served) {
    auto it = std::lower_bound(u.served.begin(), u.served.end(), item,
                               [](const ServedItem& s, uint32_t v) { return s.item < v; });
    if (it != u.served.end() && it->item == item) {
      ++it->count;
      it->last_us = std::max(it->last_us, r.served_us);
    } else {
      u.served.insert(it, ServedItem{item, 1, r.served_us});
    }
  }
  // Over the bound: the least recently served go first.
  while (u.served.size() > kServed) {
    auto oldest = std::min_element(
        u.served.begin(), u.served.end(), [](const ServedItem& a, const ServedItem& b) {
          return a.last_us < b.last_us || (a.last_us == b.last_us && a.item < b.item);
        });
    u.served.erase(oldest);
  }
}

void UserStateStore::apply_signal(const apply::AppliedRecord& r) {
  const apply::SignalRecord& e = *r.signal;
  User& u = user_state(r.user);
  dirty_users_.mark(r.user);
  u.seen.add(r.item);
  // Engaging with a served item ends its count of servings without engagement.
  auto served = std::lower_bound(u.served.begin(), u.served.end(), r.item,
                                 [](const ServedItem& s, uint32_t v) { return s.item < v; });
  if (served != u.served.end() && served->item == r.item) u.served.erase(served);
  const double eta = e.signal < rate_.size() ? rate_[e.signal] : 0;
  if (!(eta > 0)) return;
  const int sign = sign_[e.signal];

  // Preference vectors: toward (or away from) each embedding the item has.
  if (vectors_ != nullptr) {
    for (const auto& slot : vectors_->slots(EntityKind::kItem)) {
      const float* v = slot->stored(r.item);
      if (v == nullptr) continue;
      const uint32_t dim = slot->dim();
      double len = 0;
      for (uint32_t k = 0; k < dim; ++k) len += static_cast<double>(v[k]) * v[k];
      if (!(len > 0)) continue;
      len = std::sqrt(len);
      auto it = std::find_if(u.preferences.begin(), u.preferences.end(),
                             [&](const User::Preference& p) { return p.slot == slot->def().id; });
      if (it == u.preferences.end()) {
        u.preferences.push_back({slot->def().id, e.time_us, std::vector<float>(dim, 0.0f)});
        it = u.preferences.end() - 1;
      }
      if (it->a.size() != dim) it->a.assign(dim, 0.0f);
      const double keep = decay(e.time_us - it->t_us, kPreferenceHalfLifeUs);
      const double step = eta * sign / len * decay(it->t_us - e.time_us, kPreferenceHalfLifeUs);
      for (uint32_t k = 0; k < dim; ++k) {
        it->a[k] = static_cast<float>(it->a[k] * keep + step * v[k]);
      }
      it->t_us = std::max(it->t_us, e.time_us);
    }
  }
  if (sign < 0) return;

  // Co-engagement: the event raises w_ui by delta; every other recent item
  // r gains delta · w_ur with the item, both ways.
  auto mine = std::find_if(u.recent.begin(), u.recent.end(),
                           [&](const RecentItem& x) { return x.item == r.item; });
  const double before = mine != u.recent.end() ? mine->weight : 0.0;
  const double after = std::min(kMaxWeight, before + eta);
  const double delta = after - before;
  if (delta > 0) {
    // Pairs form with the newest kPairWindow other items only.
    size_t paired = 0;
    for (auto it = u.recent.rbegin(); it != u.recent.rend() && paired < kPairWindow; ++it) {
      const RecentItem& other = *it;
      if (other.item == r.item) continue;
      ++paired;
      const double amount = delta * other.weight;
      link(r.item, other.item, amount, e.time_us);
      link(other.item, r.item, amount, e.time_us);
    }
    Links& l = links(r.item);
    l.advance(e.time_us);
    l.norm2 += (after * after - before * before) * l.scale_of(e.time_us);
    dirty_items_.mark(r.item);
  }
  // The item moves to the newest end of the recent list.
  RecentItem entry{r.item, static_cast<float>(after), e.time_us};
  if (mine != u.recent.end()) {
    entry.t_us = std::max(mine->t_us, e.time_us);
    u.recent.erase(mine);
  }
  u.recent.push_back(entry);
  if (u.recent.size() > kRecent) u.recent.erase(u.recent.begin());
}

// ---------------------------------------------------------------------------
// Reads

const Bitmap* UserStateStore::seen(uint32_t user) const {
  const User* u = find_user(user);
  return u != nullptr ? &u->seen : nullptr;
}

std::span<const ServedItem> UserStateStore::served(uint32_t user) const {
  const User* u = find_user(user);
  if (u == nullptr) return {};
  return u->served;
}

std::span<const RecentItem> UserStateStore::recent(uint32_t user) const {
  const User* u = find_user(user);
  if (u == nullptr) return {};
  return u->recent;
}

std::vector<float> UserStateStore::preference(uint32_t user, uint16_t slot) const {
  const User* u = find_user(user);
  if (u == nullptr) return {};
  for (const User::Preference& p : u->preferences) {
    if (p.slot != slot) continue;
    double len = 0;
    for (float x : p.a) len += static_cast<double>(x) * x;
    if (!(len > 0)) return {};
    len = std::sqrt(len);
    std::vector<float> out(p.a.size());
    for (size_t k = 0; k < out.size(); ++k) out[k] = static_cast<float>(p.a[k] / len);
    return out;
  }
  return {};
}

double UserStateStore::norm2_at(const Links& l, int64_t now_us) const {
  return l.norm2 * decay(now_us - l.t_us, kCoHalfLifeUs);
}

std::vector<ItemScore> UserStateStore::neighbours(uint32_t item, int64_t now_us) const {
  std::vector<ItemScore> out;
  const Links* l = find_links(item);
  if (l == nullptr) return out;
  const double f = decay(now_us - l->t_us, kCoHalfLifeUs);
  const double ni = l->norm2 * f;
  if (!(ni > 0)) return out;
  for (const Links::Link& x : l->links) {
    const Links* o = find_links(x.item);
    const double nj = o != nullptr ? norm2_at(*o, now_us) : 0;
    if (!(nj > 0)) continue;
    out.push_back({x.item, std::min(1.0, x.weight * f / std::sqrt(ni * nj))});
  }
  std::sort(out.begin(), out.end(), [](const ItemScore& a, const ItemScore& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
  return out;
}

std::vector<ItemScore> UserStateStore::co_engagement(uint32_t user, int64_t now_us) const {
  std::vector<ItemScore> out;
  const User* u = find_user(user);
  if (u == nullptr) return out;
  const size_t n = u->recent.size();
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const RecentItem& r = u->recent[i];
    const double rho = r.weight * std::exp2(-static_cast<double>(n - 1 - i) / kRecencyHalfItems);
    total += rho;
    for (const ItemScore& s : neighbours(r.item, now_us)) out.push_back({s.item, rho * s.score});
  }
  if (!(total > 0)) return {};
  for (ItemScore& s : out) s.score /= total;
  std::sort(out.begin(), out.end(),
            [](const ItemScore& a, const ItemScore& b) { return a.item < b.item; });
  size_t w = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (w > 0 && out[w - 1].item == out[i].item) {
      out[w - 1].score += out[i].score;
    } else {
      out[w++] = out[i];
    }
  }
  out.resize(w);
  return out;
}

uint64_t UserStateStore::users_with_state() const {
  uint64_t n = 0;
  for (const auto& u : users_) n += (u && !u->empty()) ? 1 : 0;
  return n;
}

size_t UserStateStore::memory_bytes() const {
  size_t bytes = users_.capacity() * sizeof(void*) + items_.capacity() * sizeof(void*);
  for (const auto& u : users_) {
    if (!u) continue;
    bytes += sizeof(User) + u->seen.getSizeInBytes(false) +
             u->recent.capacity() * sizeof(RecentItem) + u->served.capacity() * sizeof(ServedItem);
    for (const User::Preference& p : u->preferences) bytes += sizeof(p) + p.a.capacity() * 4;
  }
  for (const auto& l : items_) {
    if (l) bytes += sizeof(Links) + l->links.capacity() * sizeof(Links::Link);
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Checkpoint and restore (docs/formats/storage.md#user-state)
//
// User (tag 0x06): u8 format (1) | bytes seen (portable roaring bitmap) |
//   varint n | n × (varint item | f32 weight | varsint t_us) |
//   varint p | p × (varint attribute | varsint t_us | varint dim | dim × f32) |
//   varint s | s × (varint item | varint count | varsint last_us)
// Item (tag 0x07): u8 format (1) | varsint t_us | f64 norm² |
//   varint n | n × (varint item | f32 weight)

Status UserStateStore::checkpoint(WriteBatch* batch) {
  std::string value;
  for (uint32_t user : dirty_users_.begin_checkpoint()) {
    const std::string key =
        encode_entity_key(entity_id_for(EntityKind::kUser, user), KeyTag::kUserState);
    const User* u = find_user(user);
    if (u == nullptr || u->empty()) {
      batch->del(Keyspace::kEntities, key);
      continue;
    }
    value.clear();
    value.push_back(static_cast<char>(kFormat));
    std::string bytes(u->seen.getSizeInBytes(true), '\0');
    u->seen.write(bytes.data(), true);
    put_length_prefixed(&value, bytes);
    put_varint64(&value, u->recent.size());
    for (const RecentItem& r : u->recent) {
      put_varint64(&value, r.item);
      put_f32(&value, r.weight);
      put_varsint64(&value, r.t_us);
    }
    put_varint64(&value, u->preferences.size());
    for (const User::Preference& p : u->preferences) {
      put_varint64(&value, p.slot);
      put_varsint64(&value, p.t_us);
      put_varint64(&value, p.a.size());
      for (float x : p.a) put_f32(&value, x);
    }
    put_varint64(&value, u->served.size());
    for (const ServedItem& s : u->served) {
      put_varint64(&value, s.item);
      put_varint64(&value, s.count);
      put_varsint64(&value, s.last_us);
    }
    batch->put(Keyspace::kEntities, key, value);
  }
  for (uint32_t item : dirty_items_.begin_checkpoint()) {
    const std::string key =
        encode_entity_key(entity_id_for(EntityKind::kItem, item), KeyTag::kItemLinks);
    const Links* l = find_links(item);
    if (l == nullptr) {
      batch->del(Keyspace::kEntities, key);
      continue;
    }
    value.clear();
    value.push_back(static_cast<char>(kFormat));
    put_varsint64(&value, l->t_us);
    put_double_le(&value, l->norm2);
    put_varint64(&value, l->links.size());
    for (const Links::Link& x : l->links) {
      put_varint64(&value, x.item);
      put_f32(&value, x.weight);
    }
    batch->put(Keyspace::kEntities, key, value);
  }
  return Status::Ok();
}

void UserStateStore::end_checkpoint(bool durable) {
  dirty_users_.end_checkpoint(durable);
  dirty_items_.end_checkpoint(durable);
}

Status UserStateStore::restore(StorageEngine& engine) {
  users_.clear();
  items_.clear();
  dirty_users_.clear();
  dirty_items_.clear();
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kItem}) {
    auto it = engine.scan_prefix(Keyspace::kEntities, std::string(1, static_cast<char>(kind)));
    const auto want =
        static_cast<uint8_t>(kind == EntityKind::kUser ? KeyTag::kUserState : KeyTag::kItemLinks);
    for (; it->valid(); it->next()) {
      std::optional<DecodedEntityKey> key = decode_entity_key(it->key());
      if (!key || key->tag != want) continue;
      const auto index = static_cast<uint32_t>(key->id.value);
      auto corrupt = [&] {
        return Status::Corruption(Subsystem::kStorage,
                                  std::string("the stored user state of ") +
                                      (kind == EntityKind::kUser ? "user" : "item") + " #" +
                                      std::to_string(index) + " is malformed");
      };
      if ((key->id.value >> 56) != static_cast<uint64_t>(kind)) return corrupt();
      ByteReader rd(it->value());
      uint8_t format;
      if (!rd.read_u8(&format) || format != kFormat) return corrupt();
      if (kind == EntityKind::kUser) {
        User& u = user_state(index);
        std::string_view bytes;
        if (!rd.read_length_prefixed(&bytes)) return corrupt();
        try {
          u.seen = Bitmap::readSafe(bytes.data(), bytes.size());
        } catch (const std::exception&) {
          return corrupt();
        }
        uint64_t n;
        if (!rd.read_varint64(&n) || n > kRecent) return corrupt();
        for (uint64_t i = 0; i < n; ++i) {
          RecentItem r;
          if (!rd.read_varint32(&r.item) || !read_f32(rd, &r.weight) || !rd.read_varsint64(&r.t_us))
            return corrupt();
          u.recent.push_back(r);
        }
        uint64_t p;
        if (!rd.read_varint64(&p) || p > kMaxAttributesPerKind) return corrupt();
        for (uint64_t i = 0; i < p; ++i) {
          User::Preference pref;
          uint32_t slot, dim;
          if (!rd.read_varint32(&slot) || !rd.read_varsint64(&pref.t_us) ||
              !rd.read_varint32(&dim) || dim > kMaxVectorDim || slot > UINT16_MAX)
            return corrupt();
          pref.slot = static_cast<uint16_t>(slot);
          pref.a.resize(dim);
          for (float& x : pref.a) {
            if (!read_f32(rd, &x)) return corrupt();
          }
          u.preferences.push_back(std::move(pref));
        }
        uint64_t s;
        if (!rd.read_varint64(&s) || s > kServed) return corrupt();
        for (uint64_t i = 0; i < s; ++i) {
          ServedItem x;
          if (!rd.read_varint32(&x.item) || !rd.read_varint32(&x.count) ||
              !rd.read_varsint64(&x.last_us) ||
              (!u.served.empty() && x.item <= u.served.back().item))
            return corrupt();
          u.served.push_back(x);
        }
      } else {
        Links& l = links(index);
        uint64_t n;
        if (!rd.read_varsint64(&l.t_us) || !rd.read_double_le(&l.norm2) || !rd.read_varint64(&n) ||
            n > kLinks)
          return corrupt();
        for (uint64_t i = 0; i < n; ++i) {
          Links::Link x;
          if (!rd.read_varint32(&x.item) || !read_f32(rd, &x.weight)) return corrupt();
          l.links.push_back(x);
        }
      }
      if (rd.remaining() != 0) return corrupt();
    }
  }
  return Status::Ok();
}

}  // namespace tidal::users
