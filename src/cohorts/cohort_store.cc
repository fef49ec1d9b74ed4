#include "cohorts/cohort_store.h"

#include <algorithm>
#include <cstdio>

#include "core/coding.h"
#include "core/tql_text.h"
#include "storage/meta_keys.h"

namespace tidal::cohorts {

namespace {

constexpr uint8_t kRecordFormat = 1;
constexpr uint8_t kStateFormat = 1;

std::string state_prefix(uint32_t id) {
  std::string k(1, kStatePrefix);
  put_fixed32_be(&k, id);
  return k;
}

std::string state_key(uint32_t id, uint32_t item, uint16_t signal) {
  std::string k = state_prefix(id);
  put_fixed32_be(&k, item);
  k.push_back(static_cast<char>(signal >> 8));
  k.push_back(static_cast<char>(signal & 0xff));
  return k;
}

std::string meta_key(uint32_t id) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%010u", id);
  return std::string(meta_keys::kCohortPrefix) + digits;
}

Status malformed(std::string_view what) {
  return Status::Corruption(Subsystem::kStorage,
                            "stored cohort " + std::string(what) + " is malformed");
}

std::string family_key(std::string_view name) {
  return std::string(meta_keys::kCohortFamilyPrefix) + std::string(name);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> Family::member(
    const entities::ValueView& v) const {
  if (type == AttributeType::kKeyword) {
    return std::make_pair(name + ":" + std::string(v.str), attribute + " = " + quote_tql(v.str));
  }
  const int64_t x = v.i;
  if (buckets.empty()) return std::nullopt;
  if (x < buckets.front()) {
    const std::string b = std::to_string(buckets.front());
    return std::make_pair(name + ":<" + b, attribute + " < " + b);
  }
  for (size_t i = 0; i + 1 < buckets.size(); ++i) {
    if (x < buckets[i + 1]) {
      const std::string lo = std::to_string(buckets[i]), hi = std::to_string(buckets[i + 1]);
      return std::make_pair(name + ":" + lo + "-" + hi,
                            attribute + " >= " + lo + " AND " + attribute + " < " + hi);
    }
  }
  const std::string b = std::to_string(buckets.back());
  return std::make_pair(name + ":" + b + "+", attribute + " >= " + b);
}

namespace {

// The value of `slot` in an attribute list, if it has one.
std::optional<entities::ValueView> value_of(const entities::AttributeCatalog& catalog,
                                            std::string_view list, uint16_t slot) {
  entities::AttributeReader r(catalog, list);
  uint16_t s;
  entities::ValueView v;
  while (r.next(&s, &v)) {
    if (s == slot) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string encode_cohort_record(const CohortRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(kRecordFormat));
  out.push_back(static_cast<char>(r.op));
  put_length_prefixed(&out, r.name);
  if (r.op == CohortRecord::Op::kCreate) put_length_prefixed(&out, r.predicate);
  if (r.op == CohortRecord::Op::kCreateFamily) {
    put_length_prefixed(&out, r.attribute);
    put_varint64(&out, r.buckets.size());
    for (int64_t b : r.buckets) put_varsint64(&out, b);
  }
  return out;
}

bool decode_cohort_record(std::string_view payload, CohortRecord* out) {
  ByteReader r(payload);
  uint8_t format, op;
  if (!r.read_u8(&format) || format != kRecordFormat || !r.read_u8(&op)) return false;
  if (op < static_cast<uint8_t>(CohortRecord::Op::kCreate) ||
      op > static_cast<uint8_t>(CohortRecord::Op::kCreateFamily)) {
    return false;
  }
  out->op = static_cast<CohortRecord::Op>(op);
  if (!r.read_length_prefixed(&out->name) || out->name.empty()) return false;
  out->predicate = {};
  if (out->op == CohortRecord::Op::kCreate && !r.read_length_prefixed(&out->predicate)) {
    return false;
  }
  out->attribute = {};
  out->buckets.clear();
  if (out->op == CohortRecord::Op::kCreateFamily) {
    uint64_t n;
    if (!r.read_length_prefixed(&out->attribute) || !r.read_varint64(&n) || n > 64) return false;
    for (uint64_t i = 0; i < n; ++i) {
      int64_t b;
      if (!r.read_varsint64(&b)) return false;
      out->buckets.push_back(b);
    }
  }
  return r.empty();
}

CohortStore::CohortStore(const Schema& schema, const entities::EntityStore* entities,
                         Compile compile, size_t trending_capacity, int64_t future_slack_us)
    : schema_(schema),
      entities_(entities),
      compile_(std::move(compile)),
      trending_capacity_(trending_capacity),
      future_slack_us_(future_slack_us) {}

std::unique_ptr<signals::LedgerSet> CohortStore::new_ledgers() const {
  auto set = std::make_unique<signals::LedgerSet>(schema_, trending_capacity_, future_slack_us_,
                                                  signals::Keying::kSparse);
  set->set_bulk_load(bulk_load_);
  return set;
}

void CohortStore::set_bulk_load(bool on) {
  bulk_load_ = on;
  for (auto& [name, c] : by_name_) c->ledgers->set_bulk_load(on);
}

const Cohort* CohortStore::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

Cohort* CohortStore::find(std::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

std::vector<const Cohort*> CohortStore::all() const {
  std::vector<const Cohort*> out;
  for (const auto& [name, c] : by_name_) out.push_back(c.get());
  return out;
}

Status CohortStore::unknown(std::string_view name, std::string_view field) const {
  std::string known;
  for (const auto& [n, c] : by_name_) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound(Subsystem::kQuery,
                          "no cohort " + std::string(name) + " (cohorts: " +
                              (known.empty() ? "none; CREATE COHORT defines one" : known) + ")",
                          std::string(field));
}

const Family* CohortStore::find_family(std::string_view name) const {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : &it->second;
}

std::vector<const Family*> CohortStore::families() const {
  std::vector<const Family*> out;
  for (const auto& [name, f] : families_) out.push_back(&f);
  return out;
}

std::vector<std::string> CohortStore::cohorts_of(uint32_t user) const {
  std::vector<std::string> out;
  if (user < of_user_.size()) {
    for (const Cohort* c : of_user_[user]) out.push_back(c->name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status CohortStore::create(uint64_t sequence, std::string_view name, std::string_view predicate,
                           std::string_view family, bool backfill) {
  auto corrupt = [&](std::string why) {
    return Status::Corruption(Subsystem::kWal, "cohort_definition record " +
                                                   std::to_string(sequence) + " (" +
                                                   std::string(name) + "): " + why);
  };
  if (find(name) != nullptr) return corrupt("the cohort exists already");
  Result<Filter> filter = compile_(predicate);
  if (!filter.ok()) return corrupt(filter.status().message());
  if (Status st = entities_->check(EntityKind::kUser, *filter); !st.ok()) {
    return corrupt(st.message());
  }
  auto c = std::make_unique<Cohort>();
  c->id = next_id_++;
  c->name = std::string(name);
  c->predicate = std::string(predicate);
  c->family = std::string(family);
  c->filter = std::move(filter).value();
  c->defined_at = sequence;
  TIDAL_ASSIGN_OR_RETURN(c->members, entities_->evaluate(EntityKind::kUser, c->filter));
  c->ledgers = new_ledgers();
  // Events applied before this record are the backfill's (if any member
  // has any: the backfill finds out).
  c->backfill.done = !backfill || c->members.isEmpty();
  c->backfill.until = sequence;
  if (!c->backfill.done) c->backfill_members = c->members;
  for (uint32_t user : c->members) {
    if (user >= of_user_.size()) of_user_.resize(user + 1);
    of_user_[user].push_back(c.get());
  }
  by_name_.emplace(c->name, std::move(c));
  return Status::Ok();
}

Status CohortStore::create_family(uint64_t sequence, const CohortRecord& r) {
  auto corrupt = [&](std::string why) {
    return Status::Corruption(Subsystem::kWal, "cohort_definition record " +
                                                   std::to_string(sequence) + " (family " +
                                                   std::string(r.name) + "): " + why);
  };
  if (families_.count(r.name) || find(r.name)) return corrupt("the name is in use");
  const AttributeDefinition* def = entities_->catalog(EntityKind::kUser).find(r.attribute);
  if (def == nullptr) return corrupt("no user attribute " + std::string(r.attribute));
  Family f{.name = std::string(r.name),
           .attribute = std::string(r.attribute),
           .slot = entities::AttributeCatalog::slot_of(*def),
           .type = def->type,
           .buckets = r.buckets,
           .defined_at = sequence};
  // One cohort per value some live user has now, each backfilled.
  std::map<std::string, std::string> members;
  const entities::AttributeCatalog& catalog = entities_->catalog(EntityKind::kUser);
  for (uint32_t user : entities_->live_set(EntityKind::kUser)) {
    std::optional<entities::ValueView> v =
        value_of(catalog, entities_->attributes(EntityKind::kUser, user), f.slot);
    if (!v) continue;
    if (auto m = f.member(*v)) members.emplace(m->first, m->second);
  }
  const std::string name = f.name;
  families_.emplace(name, std::move(f));
  for (const auto& [member, predicate] : members) {
    TIDAL_RETURN_IF_ERROR(create(sequence, member, predicate, name, true));
  }
  return Status::Ok();
}

Status CohortStore::add_family_cohorts(uint64_t sequence, uint32_t user) {
  if (families_.empty() || !entities_->live(EntityKind::kUser, user)) return Status::Ok();
  const entities::AttributeCatalog& catalog = entities_->catalog(EntityKind::kUser);
  const std::string_view list = entities_->attributes(EntityKind::kUser, user);
  for (const auto& [name, f] : families_) {
    std::optional<entities::ValueView> v = value_of(catalog, list, f.slot);
    if (!v) continue;
    std::optional<std::pair<std::string, std::string>> m = f.member(*v);
    if (!m || find(m->first) != nullptr) continue;
    TIDAL_RETURN_IF_ERROR(create(sequence, m->first, m->second, name, false));
  }
  return Status::Ok();
}

void CohortStore::drop(std::string_view name) {
  if (families_.count(name)) {
    std::vector<std::string> members;
    for (const auto& [n, c] : by_name_) {
      if (c->family == name) members.push_back(n);
    }
    for (const std::string& n : members) drop(n);
    dropped_families_.push_back(std::string(name));
    families_.erase(families_.find(name));
    return;
  }
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;  // validated live; replay of a double drop
  Cohort* c = it->second.get();
  for (uint32_t user : c->members) {
    std::erase(of_user_[user], c);
  }
  dropped_.push_back(c->id);
  by_name_.erase(it);
}

Status CohortStore::update_membership(uint64_t sequence, uint32_t user) {
  TIDAL_RETURN_IF_ERROR(add_family_cohorts(sequence, user));
  if (by_name_.empty()) return Status::Ok();
  if (user >= of_user_.size()) of_user_.resize(user + 1);
  std::vector<Cohort*>& mine = of_user_[user];
  mine.clear();
  for (auto& [name, c] : by_name_) {
    TIDAL_ASSIGN_OR_RETURN(bool in, entities_->matches(EntityKind::kUser, user, c->filter));
    if (in) {
      c->members.add(user);
      mine.push_back(c.get());
    } else {
      c->members.remove(user);
    }
  }
  return Status::Ok();
}

void CohortStore::count_event(Cohort& c, uint32_t item, uint16_t signal, int64_t t_us,
                              double value) {
  signals::SignalLedger& ledger = c.ledgers->ledger(signal);
  const uint64_t rebases = ledger.rebases();
  ledger.apply(item, t_us, value);
  c.dirty.mark(item);
  if (ledger.rebases() != rebases) {
    for (uint32_t rescaled : ledger.take_rescaled()) {
      c.dirty.mark(rescaled);
      c.maybe_gone.emplace_back(rescaled, signal);
    }
  }
}

Status CohortStore::apply(const apply::AppliedRecord& record) {
  switch (record.type) {
    case wal::RecordType::kCohortDefinition: {
      CohortRecord r;
      if (!decode_cohort_record(record.payload, &r)) {
        return Status::Corruption(
            Subsystem::kWal,
            "cohort_definition record " + std::to_string(record.sequence) + " is malformed");
      }
      if (r.op == CohortRecord::Op::kDrop) {
        drop(r.name);
        return Status::Ok();
      }
      if (r.op == CohortRecord::Op::kCreateFamily) return create_family(record.sequence, r);
      return create(record.sequence, r.name, r.predicate);
    }
    case wal::RecordType::kSignalEvent: {
      if (record.actor == apply::AppliedRecord::kNone || record.actor >= of_user_.size()) {
        return Status::Ok();
      }
      const apply::SignalRecord& e = *record.signal;
      for (Cohort* c : of_user_[record.actor]) {
        if (e.signal >= c->ledgers->signal_count()) continue;  // checked by the global ledger
        count_event(*c, record.item, e.signal, e.time_us, e.value);
        ++updates_;
      }
      return Status::Ok();
    }
    case wal::RecordType::kEntityUpsert:
    case wal::RecordType::kEntityPatch:
    case wal::RecordType::kEntityDelete: {
      const EntityKind kind = record.entity->kind;
      if (kind == EntityKind::kUser) return update_membership(record.sequence, record.entity_index);
      if (kind == EntityKind::kItem && record.type == wal::RecordType::kEntityDelete) {
        // A deleted item leaves every cohort's ledgers, as it leaves the
        // global one.
        for (auto& [name, c] : by_name_) {
          for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
            signals::SignalLedger& l = c->ledgers->ledger(static_cast<uint16_t>(s));
            if (!l.has_state(record.entity_index)) continue;
            l.erase(record.entity_index);
            c->dirty.mark(record.entity_index);
            c->maybe_gone.emplace_back(record.entity_index, static_cast<uint16_t>(s));
          }
        }
      }
      return Status::Ok();
    }
    case wal::RecordType::kSchemaChange:
      schema_ = *record.schema;
      for (auto& [name, c] : by_name_) c->ledgers->add_signals(schema_);
      return Status::Ok();
    default: return Status::Ok();
  }
}

void CohortStore::sweep(int64_t now_us) {
  std::vector<uint32_t> freed;
  for (auto& [name, c] : by_name_) {
    for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
      freed.clear();
      c->ledgers->ledger(static_cast<uint16_t>(s)).sweep(now_us, &freed);
      for (uint32_t item : freed) {
        c->dirty.mark(item);
        c->maybe_gone.emplace_back(item, static_cast<uint16_t>(s));
      }
    }
  }
}

std::vector<const Cohort*> CohortStore::pending_backfills() const {
  std::vector<const Cohort*> out;
  for (const auto& [name, c] : by_name_) {
    if (!c->backfill.done) out.push_back(c.get());
  }
  std::sort(out.begin(), out.end(), [](const Cohort* a, const Cohort* b) { return a->id < b->id; });
  return out;
}

void CohortStore::apply_backfill(uint32_t id, std::span<const BackfillEvent> events,
                                 uint64_t cursor, uint64_t read, bool done) {
  Cohort* c = nullptr;
  for (auto& [name, x] : by_name_) {
    if (x->id == id) c = x.get();
  }
  if (c == nullptr || c->backfill.done) return;  // dropped meanwhile
  for (const BackfillEvent& e : events) {
    if (e.sequence < c->backfill.cursor || e.sequence >= c->backfill.until) continue;
    if (!c->backfill_members.contains(e.user)) continue;
    if (e.signal >= c->ledgers->signal_count()) continue;
    count_event(*c, e.item, e.signal, e.time_us, e.value);
    ++c->backfill.events_counted;
  }
  c->backfill.events_read += read;
  c->backfill.cursor = std::max(c->backfill.cursor, std::min(cursor, c->backfill.until));
  if (done || c->backfill.cursor >= c->backfill.until) {
    c->backfill.done = true;
    c->backfill.cursor = c->backfill.until;
    c->backfill_members = entities::Bitmap();
  }
}

Status CohortStore::checkpoint(WriteBatch* batch) {
  std::string value;
  for (uint32_t id : dropped_) {
    batch->del(Keyspace::kMeta, meta_key(id));
    batch->delete_range(Keyspace::kSignals, state_prefix(id), state_prefix(id + 1));
  }
  dropping_.insert(dropping_.end(), dropped_.begin(), dropped_.end());
  dropped_.clear();
  for (const std::string& name : dropped_families_) batch->del(Keyspace::kMeta, family_key(name));
  dropped_families_.clear();  // a failed checkpoint leaves a key restore() then drops
  for (const auto& [name, f] : families_) {
    value.clear();
    value.push_back(static_cast<char>(kStateFormat));
    put_length_prefixed(&value, f.attribute);
    put_varint64(&value, f.defined_at);
    put_varint64(&value, f.buckets.size());
    for (int64_t b : f.buckets) put_varsint64(&value, b);
    batch->put(Keyspace::kMeta, family_key(name), value);
  }
  for (auto& [name, c] : by_name_) {
    // Puts for the state of every changed item; deletes only for pairs
    // whose state may be gone (most items never had most signal types).
    for (uint32_t item : c->dirty.begin_checkpoint()) {
      for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
        const auto signal = static_cast<uint16_t>(s);
        const signals::SignalLedger& l = c->ledgers->ledger(signal);
        if (!l.has_state(item)) continue;
        value.clear();
        l.encode_item(item, &value);
        batch->put(Keyspace::kSignals, state_key(c->id, item, signal), value);
      }
    }
    c->maybe_gone_in_flight.insert(c->maybe_gone_in_flight.end(), c->maybe_gone.begin(),
                                   c->maybe_gone.end());
    c->maybe_gone.clear();
    for (const auto& [item, signal] : c->maybe_gone_in_flight) {
      if (c->ledgers->ledger(signal).has_state(item)) continue;
      batch->del(Keyspace::kSignals, state_key(c->id, item, signal));
    }
    value.clear();
    value.push_back(static_cast<char>(kStateFormat));
    put_length_prefixed(&value, c->name);
    put_length_prefixed(&value, c->predicate);
    put_length_prefixed(&value, c->family);
    put_varint64(&value, c->defined_at);
    value.push_back(c->backfill.done ? 1 : 0);
    put_varint64(&value, c->backfill.until);
    put_varint64(&value, c->backfill.cursor);
    put_varint64(&value, c->backfill.events_read);
    put_varint64(&value, c->backfill.events_counted);
    put_varint64(&value, c->ledgers->signal_count());
    for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
      put_fixed64_le(&value, static_cast<uint64_t>(
                                 c->ledgers->ledger(static_cast<uint16_t>(s)).landmark_us()));
    }
    if (!c->backfill.done) {
      std::string bits(c->backfill_members.getSizeInBytes(true), '\0');
      c->backfill_members.write(bits.data(), true);
      put_length_prefixed(&value, bits);
    }
    batch->put(Keyspace::kMeta, meta_key(c->id), value);
  }
  value.clear();
  put_varint64(&value, next_id_);
  batch->put(Keyspace::kMeta, meta_keys::kCohortNextId, value);
  return Status::Ok();
}

void CohortStore::end_checkpoint(bool durable) {
  if (!durable) dropped_.insert(dropped_.end(), dropping_.begin(), dropping_.end());
  dropping_.clear();
  for (auto& [name, c] : by_name_) {
    c->dirty.end_checkpoint(durable);
    if (!durable) {
      c->maybe_gone.insert(c->maybe_gone.end(), c->maybe_gone_in_flight.begin(),
                           c->maybe_gone_in_flight.end());
    }
    c->maybe_gone_in_flight.clear();
  }
}

Status CohortStore::restore(StorageEngine& engine) {
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> next,
                         engine.get(Keyspace::kMeta, meta_keys::kCohortNextId));
  if (next) {
    ByteReader r(*next);
    uint64_t n;
    if (!r.read_varint64(&n) || n > UINT32_MAX) return malformed("id counter");
    next_id_ = static_cast<uint32_t>(n);
  }
  {
    std::string fend(meta_keys::kCohortFamilyPrefix);
    fend.back() = static_cast<char>(fend.back() + 1);
    auto fit = engine.scan(Keyspace::kMeta, meta_keys::kCohortFamilyPrefix, fend);
    for (; fit->valid(); fit->next()) {
      const std::string name(fit->key().substr(meta_keys::kCohortFamilyPrefix.size()));
      ByteReader r(fit->value());
      uint8_t format;
      std::string_view attribute;
      uint64_t n;
      Family f;
      f.name = name;
      if (!r.read_u8(&format) || format != kStateFormat || !r.read_length_prefixed(&attribute) ||
          !r.read_varint64(&f.defined_at) || !r.read_varint64(&n) || n > 64) {
        return malformed("family " + name);
      }
      for (uint64_t i = 0; i < n; ++i) {
        int64_t b;
        if (!r.read_varsint64(&b)) return malformed("family " + name);
        f.buckets.push_back(b);
      }
      f.attribute = std::string(attribute);
      const AttributeDefinition* def = entities_->catalog(EntityKind::kUser).find(f.attribute);
      if (def == nullptr)
        return malformed("family " + name + " (no attribute " + f.attribute + ")");
      f.slot = entities::AttributeCatalog::slot_of(*def);
      f.type = def->type;
      families_.emplace(name, std::move(f));
    }
    TIDAL_RETURN_IF_ERROR(fit->status());
  }
  std::map<uint32_t, Cohort*> by_id;
  std::string end(meta_keys::kCohortPrefix);
  end.back() = static_cast<char>(end.back() + 1);
  auto it = engine.scan(Keyspace::kMeta, meta_keys::kCohortPrefix, end);
  for (; it->valid(); it->next()) {
    const std::string key(it->key());
    const std::string digits = key.substr(meta_keys::kCohortPrefix.size());
    if (digits.size() != 10 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
      return malformed("key " + key);
    }
    auto c = std::make_unique<Cohort>();
    c->id = static_cast<uint32_t>(std::stoul(digits));
    ByteReader r(it->value());
    uint8_t format, done;
    std::string_view name, predicate, family;
    uint64_t nsignals;
    if (!r.read_u8(&format) || format != kStateFormat || !r.read_length_prefixed(&name) ||
        !r.read_length_prefixed(&predicate) || !r.read_length_prefixed(&family) ||
        !r.read_varint64(&c->defined_at) || !r.read_u8(&done) || done > 1 ||
        !r.read_varint64(&c->backfill.until) || !r.read_varint64(&c->backfill.cursor) ||
        !r.read_varint64(&c->backfill.events_read) ||
        !r.read_varint64(&c->backfill.events_counted) || !r.read_varint64(&nsignals)) {
      return malformed(key);
    }
    c->name = std::string(name);
    c->predicate = std::string(predicate);
    c->family = std::string(family);
    c->backfill.done = done == 1;
    c->ledgers = new_ledgers();
    if (nsignals > c->ledgers->signal_count()) return malformed(key + " (signal types)");
    for (uint64_t s = 0; s < nsignals; ++s) {
      uint64_t landmark;
      if (!r.read_fixed64_le(&landmark)) return malformed(key);
      c->ledgers->ledger(static_cast<uint16_t>(s)).set_landmark(static_cast<int64_t>(landmark));
    }
    if (!c->backfill.done) {
      std::string_view bits;
      if (!r.read_length_prefixed(&bits)) return malformed(key);
      try {
        c->backfill_members = entities::Bitmap::readSafe(bits.data(), bits.size());
      } catch (const std::exception&) {
        return malformed(key + " (members at definition)");
      }
    }
    if (!r.empty()) return malformed(key);
    Result<Filter> filter = compile_(c->predicate);
    if (!filter.ok()) return malformed(key + ": " + filter.status().message());
    c->filter = std::move(filter).value();
    TIDAL_ASSIGN_OR_RETURN(c->members, entities_->evaluate(EntityKind::kUser, c->filter));
    for (uint32_t user : c->members) {
      if (user >= of_user_.size()) of_user_.resize(user + 1);
      of_user_[user].push_back(c.get());
    }
    by_id[c->id] = c.get();
    if (c->id >= next_id_) next_id_ = c->id + 1;
    by_name_.emplace(c->name, std::move(c));
  }
  TIDAL_RETURN_IF_ERROR(it->status());

  const std::string first(1, kStatePrefix);
  auto st = engine.scan(Keyspace::kSignals, first, "");
  for (; st->valid(); st->next()) {
    std::string_view k = st->key();
    if (k.size() != 11 || k[0] != kStatePrefix) {
      return Status::Corruption(Subsystem::kStorage, "unexpected key in the signals keyspace");
    }
    const uint32_t id = decode_fixed32_be(k.data() + 1);
    const uint32_t item = decode_fixed32_be(k.data() + 5);
    const auto signal =
        static_cast<uint16_t>((static_cast<uint8_t>(k[9]) << 8) | static_cast<uint8_t>(k[10]));
    auto c = by_id.find(id);
    if (c == by_id.end()) continue;  // a dropped cohort's leftovers
    if (signal >= c->second->ledgers->signal_count()) {
      return Status::Corruption(Subsystem::kStorage, "stored cohort state for unknown signal id " +
                                                         std::to_string(signal));
    }
    TIDAL_RETURN_IF_ERROR(c->second->ledgers->ledger(signal).restore_item(item, st->value()));
  }
  TIDAL_RETURN_IF_ERROR(st->status());
  for (auto& [name, c] : by_name_) {
    for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
      c->ledgers->ledger(static_cast<uint16_t>(s)).rebuild_indexes();
    }
  }
  return Status::Ok();
}

uint64_t CohortStore::active_states() const {
  uint64_t n = 0;
  for (const auto& [name, c] : by_name_) n += c->ledgers->active_states();
  return n;
}

uint64_t CohortStore::memory_bytes() const {
  uint64_t n = of_user_.size() * sizeof(std::vector<Cohort*>);
  for (const auto& v : of_user_) n += v.capacity() * sizeof(Cohort*);
  for (const auto& [name, c] : by_name_) {
    n += c->ledgers->warm_bytes() + c->ledgers->hot_bytes() + c->members.getSizeInBytes() +
         c->backfill_members.getSizeInBytes();
  }
  return n;
}

}  // namespace tidal::cohorts
