#include "signals/global_ledger.h"

#include "core/coding.h"
#include "entities/key_map.h"
#include "storage/key_encoding.h"
#include "storage/meta_keys.h"

namespace tidal::signals {

namespace {

std::string state_key(uint32_t item, uint16_t signal) {
  std::string suffix;
  suffix.push_back(static_cast<char>(signal >> 8));
  suffix.push_back(static_cast<char>(signal & 0xff));
  return encode_entity_key(entity_id_for(EntityKind::kItem, item), KeyTag::kSignalState, suffix);
}

std::string landmark_key(uint16_t signal) {
  return std::string(meta_keys::kLedgerLandmarkPrefix) + std::to_string(signal);
}

}  // namespace

GlobalLedger::GlobalLedger(const Schema& schema, size_t trending_capacity, int64_t future_slack_us)
    : ledgers_(schema, trending_capacity, future_slack_us, Keying::kDense) {
  dirty_.resize(ledgers_.signal_count());
}

Status GlobalLedger::apply(const apply::AppliedRecord& record) {
  if (record.type == wal::RecordType::kSchemaChange) {
    ledgers_.add_signals(*record.schema);
    dirty_.resize(ledgers_.signal_count());
    return Status::Ok();
  }
  if (record.type == wal::RecordType::kEntityDelete && record.entity->kind == EntityKind::kItem) {
    // A deleted item leaves every ledger and trending list.
    for (size_t s = 0; s < ledgers_.signal_count(); ++s) {
      ledgers_.ledger(static_cast<uint16_t>(s)).erase(record.entity_index);
      dirty_[s].mark(record.entity_index);
    }
    return Status::Ok();
  }
  if (record.type != wal::RecordType::kSignalEvent) return Status::Ok();
  const apply::SignalRecord& e = *record.signal;
  if (e.signal >= ledgers_.signal_count()) {
    return Status::Corruption(
        Subsystem::kWal, "record " + std::to_string(record.sequence) + " names signal type id " +
                             std::to_string(e.signal) + ", which the schema does not have");
  }
  SignalLedger& ledger = ledgers_.ledger(e.signal);
  const uint64_t rebases = ledger.rebases();
  ledger.apply(record.item, e.time_us, e.value);
  dirty_[e.signal].mark(record.item);
  if (ledger.rebases() != rebases) {
    for (uint32_t item : ledger.take_rescaled()) dirty_[e.signal].mark(item);
  }
  return Status::Ok();
}

void GlobalLedger::sweep(int64_t now_us) {
  std::vector<uint32_t> freed;
  for (size_t s = 0; s < ledgers_.signal_count(); ++s) {
    freed.clear();
    ledgers_.ledger(static_cast<uint16_t>(s)).sweep(now_us, &freed);
    for (uint32_t item : freed) dirty_[s].mark(item);
  }
}

Status GlobalLedger::checkpoint(WriteBatch* batch) {
  std::string value;
  for (size_t s = 0; s < ledgers_.signal_count(); ++s) {
    const SignalLedger& ledger = ledgers_.ledger(static_cast<uint16_t>(s));
    auto signal = static_cast<uint16_t>(s);
    for (uint32_t item : dirty_[s].begin_checkpoint()) {
      if (!ledger.has_state(item)) {
        batch->del(Keyspace::kSignals, state_key(item, signal));
        continue;
      }
      value.clear();
      ledger.encode_item(item, &value);
      batch->put(Keyspace::kSignals, state_key(item, signal), value);
    }
    value.clear();
    put_fixed64_le(&value, static_cast<uint64_t>(ledger.landmark_us()));
    batch->put(Keyspace::kMeta, landmark_key(signal), value);
  }
  return Status::Ok();
}

void GlobalLedger::end_checkpoint(bool durable) {
  for (DirtyList& d : dirty_) d.end_checkpoint(durable);
}

Status GlobalLedger::restore(StorageEngine& engine) {
  for (size_t s = 0; s < ledgers_.signal_count(); ++s) {
    TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> lm,
                           engine.get(Keyspace::kMeta, landmark_key(static_cast<uint16_t>(s))));
    if (lm) {
      if (lm->size() != 8) {
        return Status::Corruption(Subsystem::kStorage, "ledger landmark is malformed");
      }
      ledgers_.ledger(static_cast<uint16_t>(s))
          .set_landmark(static_cast<int64_t>(decode_fixed64_le(lm->data())));
    }
  }
  // The cohorts' state follows the global ledger's; it is theirs to read.
  auto it = engine.scan(Keyspace::kSignals, "", std::string(1, kCohortStatePrefix));
  for (; it->valid(); it->next()) {
    std::optional<DecodedEntityKey> key = decode_entity_key(it->key());
    if (!key || key->tag != static_cast<uint8_t>(KeyTag::kSignalState) || key->suffix.size() != 2 ||
        (key->id.value >> 56) != 0) {
      return Status::Corruption(Subsystem::kStorage, "unexpected key in the signals keyspace");
    }
    auto signal = static_cast<uint16_t>((static_cast<uint8_t>(key->suffix[0]) << 8) |
                                        static_cast<uint8_t>(key->suffix[1]));
    if (signal >= ledgers_.signal_count()) {
      return Status::Corruption(Subsystem::kStorage, "stored signal state for unknown signal id " +
                                                         std::to_string(signal));
    }
    auto item = static_cast<uint32_t>(key->id.value & 0xffffffffu);
    TIDAL_RETURN_IF_ERROR(ledgers_.ledger(signal).restore_item(item, it->value()));
  }
  TIDAL_RETURN_IF_ERROR(it->status());
  for (size_t s = 0; s < ledgers_.signal_count(); ++s) {
    ledgers_.ledger(static_cast<uint16_t>(s)).rebuild_indexes();
  }
  return Status::Ok();
}

}  // namespace tidal::signals
