#include "cohorts/cohort_store.h"

#include <algorithm>
#include <cstdio>

#include "core/coding.h"
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

}  // namespace

std::string encode_cohort_record(const CohortRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(kRecordFormat));
  out.push_back(static_cast<char>(r.op));
  put_length_prefixed(&out, r.name);
  if (r.op == CohortRecord::Op::kCreate) put_length_prefixed(&out, r.predicate);
  return out;
}

bool decode_cohort_record(std::string_view payload, CohortRecord* out) {
  ByteReader r(payload);
  uint8_t format, op;
  if (!r.read_u8(&format) || format != kRecordFormat || !r.read_u8(&op)) return false;
  if (op != static_cast<uint8_t>(CohortRecord::Op::kCreate) &&
      op != static_cast<uint8_t>(CohortRecord::Op::kDrop)) {
    return false;
  }
  out->op = static_cast<CohortRecord::Op>(op);
  if (!r.read_length_prefixed(&out->name) || out->name.empty()) return false;
  out->predicate = {};
  if (out->op == CohortRecord::Op::kCreate && !r.read_length_prefixed(&out->predicate)) {
    return false;
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

std::vector<std::string> CohortStore::cohorts_of(uint32_t user) const {
  std::vector<std::string> out;
  if (user < of_user_.size()) {
    for (const Cohort* c : of_user_[user]) out.push_back(c->name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status CohortStore::create(uint64_t sequence, std::string_view name, std::string_view predicate) {
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
  c->filter = std::move(filter).value();
  c->defined_at = sequence;
  TIDAL_ASSIGN_OR_RETURN(c->members, entities_->evaluate(EntityKind::kUser, c->filter));
  c->ledgers = new_ledgers();
  // Events applied before this record are the backfill's (if any member
  // has any: the backfill finds out).
  c->backfill.done = c->members.isEmpty();
  c->backfill.until = sequence;
  if (!c->backfill.done) c->backfill_members = c->members;
  for (uint32_t user : c->members) {
    if (user >= of_user_.size()) of_user_.resize(user + 1);
    of_user_[user].push_back(c.get());
  }
  by_name_.emplace(c->name, std::move(c));
  return Status::Ok();
}

void CohortStore::drop(std::string_view name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;  // validated live; replay of a double drop
  Cohort* c = it->second.get();
  for (uint32_t user : c->members) {
    std::erase(of_user_[user], c);
  }
  dropped_.push_back(c->id);
  by_name_.erase(it);
}

Status CohortStore::update_membership(uint32_t user) {
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
    for (uint32_t rescaled : ledger.take_rescaled()) c.dirty.mark(rescaled);
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
      if (kind == EntityKind::kUser) return update_membership(record.entity_index);
      if (kind == EntityKind::kItem && record.type == wal::RecordType::kEntityDelete) {
        // A deleted item leaves every cohort's ledgers, as it leaves the
        // global one.
        for (auto& [name, c] : by_name_) {
          for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
            signals::SignalLedger& l = c->ledgers->ledger(static_cast<uint16_t>(s));
            if (!l.has_state(record.entity_index)) continue;
            l.erase(record.entity_index);
            c->dirty.mark(record.entity_index);
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
      for (uint32_t item : freed) c->dirty.mark(item);
    }
  }
}

const Cohort* CohortStore::next_backfill() const {
  const Cohort* oldest = nullptr;
  for (const auto& [name, c] : by_name_) {
    if (!c->backfill.done && (oldest == nullptr || c->id < oldest->id)) oldest = c.get();
  }
  return oldest;
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
  for (auto& [name, c] : by_name_) {
    for (uint32_t item : c->dirty.begin_checkpoint()) {
      for (size_t s = 0; s < c->ledgers->signal_count(); ++s) {
        const auto signal = static_cast<uint16_t>(s);
        const signals::SignalLedger& l = c->ledgers->ledger(signal);
        if (!l.has_state(item)) {
          batch->del(Keyspace::kSignals, state_key(c->id, item, signal));
          continue;
        }
        value.clear();
        l.encode_item(item, &value);
        batch->put(Keyspace::kSignals, state_key(c->id, item, signal), value);
      }
    }
    value.clear();
    value.push_back(static_cast<char>(kStateFormat));
    put_length_prefixed(&value, c->name);
    put_length_prefixed(&value, c->predicate);
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
  for (auto& [name, c] : by_name_) c->dirty.end_checkpoint(durable);
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
    std::string_view name, predicate;
    uint64_t nsignals;
    if (!r.read_u8(&format) || format != kStateFormat || !r.read_length_prefixed(&name) ||
        !r.read_length_prefixed(&predicate) || !r.read_varint64(&c->defined_at) ||
        !r.read_u8(&done) || done > 1 || !r.read_varint64(&c->backfill.until) ||
        !r.read_varint64(&c->backfill.cursor) || !r.read_varint64(&c->backfill.events_read) ||
        !r.read_varint64(&c->backfill.events_counted) || !r.read_varint64(&nsignals)) {
      return malformed(key);
    }
    c->name = std::string(name);
    c->predicate = std::string(predicate);
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
