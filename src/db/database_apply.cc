// Database::Impl::apply_record: one durable record into the key maps and
// every materializer, the same way live and during replay.

#include "db/database_impl.h"
#include "schema/schema_catalog.h"

namespace tidal {

Status Database::Impl::apply_record(wal::RecordType type, uint64_t sequence,
                                    std::string_view payload) {
  apply::AppliedRecord record;
  record.type = type;
  record.sequence = sequence;
  record.payload = payload;
  auto malformed = [&]() {
    return Status::Corruption(Subsystem::kWal, std::string(wal::record_type_name(type)) +
                                                   " record " + std::to_string(sequence) +
                                                   " is malformed");
  };
  switch (type) {
    case wal::RecordType::kSignalEvent: {
      apply::SignalRecord e;
      if (!apply::decode_signal_record(payload, &e)) return malformed();
      record.signal = &e;
      record.item = items().assign(e.item);
      record.item_id = entity_id_for(EntityKind::kItem, record.item);
      if (!cohorts_->empty() && !e.user.empty()) {
        if (std::optional<uint32_t> u = key_map(EntityKind::kUser).find(e.user)) record.actor = *u;
      }
      // The acting user's dense index (user state, affinity); a user known
      // only from signals gets one too.
      if (!e.user.empty()) record.user = key_map(EntityKind::kUser).assign(e.user);
      if (relationships_->tracks_affinity()) {
        uint32_t creator = entities_->creator_of(record.item);
        if (creator != entities::kNoCreator) record.creator = creator;
      }
      TIDAL_RETURN_IF_ERROR(registry_.apply(record));
      known_items_.add(record.item);
      int64_t newest = newest_event_us_.load(std::memory_order_relaxed);
      if (e.time_us > newest) newest_event_us_.store(e.time_us, std::memory_order_relaxed);
      events_applied_.fetch_add(1, std::memory_order_relaxed);
      return Status::Ok();
    }
    case wal::RecordType::kEntityUpsert:
    case wal::RecordType::kEntityPatch:
    case wal::RecordType::kEntityDelete: {
      apply::EntityRecord er;
      if (!apply::decode_entity_record(type, payload, &er)) return malformed();
      KeyMap& keys = key_map(er.kind);
      uint32_t index;
      if (type == wal::RecordType::kEntityUpsert) {
        index = keys.assign(er.key);
        keys.set_registered(index);
      } else {
        // Patches and deletes were validated against a live entity; one
        // deleted in between is left alone, live and in replay alike.
        std::optional<uint32_t> found = keys.find(er.key);
        if (!found) return Status::Ok();
        index = *found;
        if (type == wal::RecordType::kEntityDelete) keys.clear_registered(index);
      }
      if (er.kind == EntityKind::kItem) {
        if (type == wal::RecordType::kEntityUpsert) known_items_.add(index);
        if (type == wal::RecordType::kEntityDelete) known_items_.remove(index);
      }
      record.entity = &er;
      record.entity_index = index;
      // Copied: the entity store replaces the list when it applies the
      // record, and materializers may run after it.
      record.was_live = entities_->live(er.kind, index);
      std::string previous;
      if (record.was_live) previous = std::string(entities_->attributes(er.kind, index));
      record.previous = previous;
      if (er.kind == EntityKind::kItem) {
        record.item = index;
        record.item_id = entity_id_for(EntityKind::kItem, index);
        if (type == wal::RecordType::kEntityUpsert) record.creator_given = true;
        if (std::binary_search(er.removed.begin(), er.removed.end(), entities::kCreatorSlot)) {
          record.creator_given = true;
        }
        if (std::optional<std::string_view> creator =
                entities::creator_in(entities_->catalog(EntityKind::kItem), er.list)) {
          record.creator = key_map(EntityKind::kCreator).assign(*creator);
          record.creator_given = true;
        }
      }
      return registry_.apply(record);
    }
    case wal::RecordType::kRelationship: {
      apply::RelationshipRecord rr;
      if (!apply::decode_relationship_record(payload, &rr)) return malformed();
      record.relationship = &rr;
      record.user = key_map(EntityKind::kUser).assign(rr.user);
      record.target = key_map(rr.target_kind).assign(rr.target);
      return registry_.apply(record);
    }
    case wal::RecordType::kFeedServed: {
      users::ServedRecord sr;
      if (!users::decode_served_record(payload, &sr)) return malformed();
      record.user = key_map(EntityKind::kUser).assign(sr.user);
      std::vector<uint32_t> served;
      for (std::string_view key : sr.items) {
        if (std::optional<uint32_t> i = items().find(key)) served.push_back(*i);
      }
      record.served_us = sr.time_us;
      record.served = served;
      return registry_.apply(record);
    }
    case wal::RecordType::kProfileDefinition:
    case wal::RecordType::kCohortDefinition: return registry_.apply(record);
    case wal::RecordType::kSchemaChange: {
      Result<Schema> next = Schema::decode(payload);
      if (!next.ok()) return malformed();
      if (next->version() <= schema_.version()) {
        // Already in force: the schema was stored after this record was
        // logged and before the checkpoint replay started from.
        if (*next == schema_ || is_extension(*next, schema_)) return Status::Ok();
        return Status::Corruption(Subsystem::kWal,
                                  "schema_change record " + std::to_string(sequence) +
                                      " sets schema version " + std::to_string(next->version()) +
                                      ", which differs from the stored schema's version " +
                                      std::to_string(schema_.version()));
      }
      if (next->version() != schema_.version() + 1 || !is_extension(schema_, *next)) {
        return Status::Corruption(Subsystem::kWal,
                                  "schema_change record " + std::to_string(sequence) +
                                      " does not extend the schema in force (version " +
                                      std::to_string(schema_.version()) + ") by one version");
      }
      record.schema = &*next;
      TIDAL_RETURN_IF_ERROR(registry_.apply(record));
      schema_ = std::move(next).value();
      return Status::Ok();
    }
    case wal::RecordType::kPresent: {
      db::PresentRecord pr;
      if (!db::decode_present_record(payload, &pr)) return malformed();
      db::StoredPresent p = present_state();
      db::apply_present_record(pr, &p);
      set_present_state(p);
      return Status::Ok();
    }
    case wal::RecordType::kCustom:
      return Status::Ok();  // tools' records (e.g. `tidal demo`); never applied
    default:
      return Status::NotSupported(Subsystem::kWal, "record " + std::to_string(sequence) +
                                                       " of type " +
                                                       std::string(wal::record_type_name(type)) +
                                                       " cannot be applied by this version");
  }
}

}  // namespace tidal
