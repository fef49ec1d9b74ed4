#include <algorithm>
#include <filesystem>

#include "apply/signal_record.h"
#include "core/coding.h"
#include "core/duration.h"
#include "core/time_text.h"
#include "db/database_impl.h"
#include "db/event_validation.h"
#include "db/present.h"
#include "entities/entity_codec.h"
#include "entities/key_rules.h"
#include "query/engine.h"
#include "query/json.h"
#include "query/parser.h"
#include "query/printer.h"
#include "schema/schema_catalog.h"
#include "storage/meta_keys.h"

namespace tidal {

namespace {

constexpr size_t kMaxTrendingLimit = 10000;

wal::Durability wal_durability(Durability d) {
  switch (d) {
    case Durability::kFsync: return wal::Durability::kFsync;
    case Durability::kBatch: return wal::Durability::kBatch;
    case Durability::kNone: return wal::Durability::kNone;
  }
  return wal::Durability::kFsync;
}

}  // namespace

// ---------------------------------------------------------------------------
// Open and recovery

Database::Impl::Impl(const DatabaseOptions& options, Schema schema)
    : options_(options),
      clock_(options.clock ? options.clock : SystemClock::instance()),
      schema_(std::move(schema)) {}

Database::Impl::~Impl() {
  (void)close();
}

Status Database::Impl::open(const std::string& path, const Schema& given) {
  DataFolderOptions fo;
  fo.create_if_missing = options_.create_if_missing;
  TIDAL_ASSIGN_OR_RETURN(folder_, DataFolder::open(path, fo));
  TIDAL_ASSIGN_OR_RETURN(storage_, folder_->open_storage());
  TIDAL_ASSIGN_OR_RETURN(schema_, open_schema(*storage_, given, options_.allow_schema_additions));

  // Events may lie max_future_skew ahead of the present (a live or a pinned
  // one); the rings keep room for them whatever the present is now, since it
  // can change while the database is open.
  auto ledger = std::make_unique<signals::GlobalLedger>(schema_, options_.trending_capacity,
                                                        options_.max_future_skew.count());
  ledger_ = ledger.get();
  registry_.add(std::move(ledger));
  auto events = std::make_unique<signals::EventStore>(storage_.get());
  events_ = events.get();
  registry_.add(std::move(events));
  auto entity_store = std::make_unique<entities::EntityStore>(schema_);
  entities_ = entity_store.get();
  // The text index goes first: it reads an entity's previous text from the
  // entity store before the store replaces it.
  auto text = std::make_unique<text::TextIndex>(schema_, entities_);
  text_ = text.get();
  registry_.add(std::move(text));
  // The vector index goes before the entity store too: a patch of an
  // entity deleted since it was validated must find it still live.
  auto vectors =
      std::make_unique<vectors::VectorIndex>(schema_, entities_, folder_->path() + "/vectors");
  vectors_ = vectors.get();
  registry_.add(std::move(vectors));
  registry_.add(std::move(entity_store));
  auto relationships = std::make_unique<entities::Relationships>(schema_);
  relationships_ = relationships.get();
  registry_.add(std::move(relationships));
  auto profiles = std::make_unique<query::ProfileCatalog>();
  profiles_ = profiles.get();
  registry_.add(std::move(profiles));

  // The last checkpoint...
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> cp,
                         storage_->get(Keyspace::kMeta, meta_keys::kCheckpointSequence));
  if (cp) {
    if (cp->size() != 8) return Status::Corruption(Subsystem::kStorage, "checkpoint sequence");
    checkpoint_seq_.store(decode_fixed64_le(cp->data()));
  }
  TIDAL_ASSIGN_OR_RETURN(db::StoredPresent stored_present, db::load_present(*storage_));
  set_present_state(stored_present);
  for (KeyMap& keys : keys_) TIDAL_RETURN_IF_ERROR(keys.restore(*storage_));
  TIDAL_RETURN_IF_ERROR(registry_.restore(*storage_));
  // (Lambdas of open() run before the database is shared, as open() does.)
  entities_->resolve_creators([&](std::string_view creator) TIDAL_NO_THREAD_SAFETY_ANALYSIS {
    std::optional<uint32_t> idx = key_map(EntityKind::kCreator).find(creator);
    return idx ? *idx : entities::kNoCreator;
  });
  rebuild_known_items();
  TIDAL_RETURN_IF_ERROR(text_->rebuild());
  TIDAL_RETURN_IF_ERROR(vectors_->open());

  // ...then the WAL after it.
  wal::WalOptions wo;
  wo.dir = folder_->wal_dir();
  wo.database_id = folder_->database_id();
  wo.durability = wal_durability(options_.durability);
  wo.segment_bytes = options_.wal_segment_bytes;
  wo.max_batch_records = options_.wal_max_batch_records;
  TIDAL_ASSIGN_OR_RETURN(wal_, wal::Wal::open(wo));
  applied_seq_ = checkpoint_seq_.load();
  {
    WriterLock lk(state_mu_);
    ledger_->set_bulk_load(true);
    TIDAL_RETURN_IF_ERROR(wal_->replay(
        applied_seq_ + 1, [&](const wal::FrameView& f) TIDAL_NO_THREAD_SAFETY_ANALYSIS {
          applied_seq_ = f.sequence;
          return apply_record(f.type, f.sequence, f.payload);
        }));
    ledger_->set_bulk_load(false);
  }
  applied_seq_ = std::max(applied_seq_, wal_->last_sequence());
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  last_checkpoint_ = std::chrono::steady_clock::now();
  if (options_.historical_import && present_mode_.load() != PresentMode::kHistorical) {
    TIDAL_RETURN_IF_ERROR(set_present(PresentMode::kHistorical, std::nullopt).status());
  }
  background_ = std::thread([this] { background_loop(); });
  return Status::Ok();
}

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
      if (relationships_->tracks_affinity()) {
        uint32_t creator = entities_->creator_of(record.item);
        if (creator != entities::kNoCreator) {
          record.creator = creator;
          record.user = key_map(EntityKind::kUser).assign(e.user);
        }
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
      if (er.kind == EntityKind::kItem) {
        record.item = index;
        record.item_id = entity_id_for(EntityKind::kItem, index);
        if (type == wal::RecordType::kEntityUpsert) record.creator_given = true;
        if (std::binary_search(er.removed.begin(), er.removed.end(), entities::kCreatorSlot)) {
          record.creator_given = true;
        }
        entities::AttributeReader r(entities_->catalog(EntityKind::kItem), er.list);
        uint16_t slot;
        entities::ValueView v;
        while (r.next(&slot, &v)) {
          if (slot != entities::kCreatorSlot) continue;
          record.creator = key_map(EntityKind::kCreator).assign(v.str);
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
    case wal::RecordType::kProfileDefinition: return registry_.apply(record);
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

// ---------------------------------------------------------------------------
// Writes

Result<std::vector<wal::AppendResult>> Database::Impl::commit(
    std::span<const wal::AppendRequest> requests) {
  TIDAL_ASSIGN_OR_RETURN(std::vector<wal::AppendResult> results, wal_->append_batch(requests));
  // New records of one append_batch have consecutive sequence numbers.
  uint64_t first = UINT64_MAX, last = 0, wait_for = 0;
  for (const wal::AppendResult& r : results) {
    if (r.duplicate) {
      wait_for = std::max(wait_for, r.sequence);
    } else {
      first = std::min(first, r.sequence);
      last = std::max(last, r.sequence);
    }
  }
  MutexLock order(order_mu_);
  if (last > 0) {
    // Apply in WAL order: wait until every earlier record is applied.
    order.wait(order_cv_, [&]() TIDAL_REQUIRES(order_mu_) {
      return applied_seq_ + 1 == first || !apply_failed_.ok();
    });
    if (!apply_failed_.ok()) return apply_failed_;
    Status st;
    {
      WriterLock lk(state_mu_);
      for (size_t i = 0; i < requests.size() && st.ok(); ++i) {
        if (results[i].duplicate) continue;
        st = apply_record(requests[i].type, results[i].sequence, requests[i].payload);
      }
      // Set with both locks held, so readers holding either one see it.
      if (!st.ok()) {
        apply_failed_ = st.with_context("the database stopped applying writes; reopen it");
      }
    }
    if (!st.ok()) {
      order_cv_.notify_all();
      return apply_failed_;
    }
    applied_seq_ = last;
    order_cv_.notify_all();
  }
  if (wait_for > 0) {
    // A retry answers "duplicate" once the original is visible to reads.
    order.wait(order_cv_, [&]() TIDAL_REQUIRES(order_mu_) {
      return applied_seq_ >= wait_for || !apply_failed_.ok();
    });
    if (!apply_failed_.ok()) return apply_failed_;
  }
  return results;
}

BatchIngestResult Database::Impl::ingest(std::span<const SignalEvent> events, BatchMode mode) {
  BatchIngestResult out;
  out.errors.resize(events.size());
  out.results.resize(events.size());
  // Every payload is encoded into one buffer; requests point into it once
  // it has stopped growing.
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;  // (offset, length) per request
  std::vector<wal::AppendRequest> requests;
  std::vector<size_t> request_event;
  requests.reserve(events.size());
  {
    ReaderLock lk(state_mu_);
    const db::EventTimeRule rule = event_time_rule();
    Timestamp record_time = clock_->now();
    for (size_t i = 0; i < events.size(); ++i) {
      const SignalEvent& e = events[i];
      db::ValidatedEvent v;
      Status st = db::validate_event(e, schema_, options_, rule, &v);
      if (st.ok() && options_.strict_items) {
        std::optional<uint32_t> idx = items().find(e.item);
        if (!idx || !items().registered(*idx)) {
          st = Status::Invalid(Subsystem::kIngest, "item", e.item,
                               "is not a registered item (strict_items is on: upsert it first)");
        }
      }
      if (!st.ok()) {
        out.errors[i] = std::move(st);
        ++out.rejected;
        continue;
      }
      apply::SignalRecord rec;
      rec.signal = v.signal->id;
      rec.item = e.item;
      rec.user = e.user;
      rec.time_us = v.time_us;
      rec.value = e.value;
      size_t offset = arena.size();
      apply::encode_signal_record(rec, &arena);
      spans.emplace_back(offset, arena.size() - offset);
      wal::AppendRequest req;
      req.type = wal::RecordType::kSignalEvent;
      req.timestamp = record_time;
      if (!e.idempotency_key.empty()) req.dedup_key = wal::Wal::idempotency_key(e.idempotency_key);
      requests.push_back(req);
      request_event.push_back(i);
    }
  }
  for (size_t r = 0; r < requests.size(); ++r) {
    requests[r].payload = std::string_view(arena).substr(spans[r].first, spans[r].second);
    if (!requests[r].dedup_key) {
      requests[r].dedup_key = wal::Wal::content_key(requests[r].type, requests[r].payload);
    }
  }
  if (out.rejected > 0 && mode == BatchMode::kAllOrNothing) {
    for (size_t i = 0; i < events.size(); ++i) {
      if (out.errors[i].ok()) {
        out.errors[i] = Status::Aborted(Subsystem::kIngest,
                                        "not applied: another event of the all-or-nothing batch "
                                        "is invalid");
      }
    }
    out.rejected = events.size();
    return out;
  }
  if (requests.empty()) return out;
  Result<std::vector<wal::AppendResult>> committed = commit(requests);
  for (size_t r = 0; r < requests.size(); ++r) {
    size_t i = request_event[r];
    if (!committed.ok()) {
      out.errors[i] = committed.status();
      ++out.rejected;
      continue;
    }
    const wal::AppendResult& ar = (*committed)[r];
    out.results[i] = IngestResult{ar.sequence, ar.duplicate};
    if (ar.duplicate) duplicates_.fetch_add(1, std::memory_order_relaxed);
    ++out.accepted;
  }
  return out;
}

Result<uint64_t> Database::Impl::commit_one(wal::RecordType type, std::string_view payload) {
  wal::AppendRequest req;
  req.type = type;
  req.timestamp = clock_->now();
  req.payload = payload;
  TIDAL_ASSIGN_OR_RETURN(std::vector<wal::AppendResult> r,
                         commit(std::span<const wal::AppendRequest>(&req, 1)));
  return r[0].sequence;
}

Result<uint32_t> Database::Impl::live_index(EntityKind kind, std::string_view key) const {
  std::optional<uint32_t> idx = key_map(kind).find(key);
  if (!idx || !entities_->live(kind, *idx)) {
    return Status::NotFound(
        Subsystem::kEntities,
        "no " + std::string(entity_kind_name(kind)) + " \"" + std::string(key) + "\"", "key");
  }
  return *idx;
}

BatchIngestResult Database::Impl::upsert(std::span<const EntityWrite> writes, BatchMode mode) {
  BatchIngestResult out;
  out.errors.resize(writes.size());
  out.results.resize(writes.size());
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<size_t> request_write;
  int64_t now = now_us();
  entities::EncodedWrite enc;
  for (size_t i = 0; i < writes.size(); ++i) {
    const EntityWrite& w = writes[i];
    Status st;
    if (static_cast<size_t>(w.kind) > 2) {
      st = Status::Invalid(Subsystem::kEntities, "kind", std::to_string(static_cast<int>(w.kind)),
                           "must be item, user or creator");
    } else {
      st = entities::encode_write(catalog(w.kind), w, entities::WriteKind::kUpsert,
                                  options_.unknown_attributes, now, &enc);
    }
    if (!st.ok()) {
      out.errors[i] = std::move(st);
      ++out.rejected;
      continue;
    }
    size_t offset = arena.size();
    apply::encode_upsert_record(w.kind, w.key, enc.list, &arena);
    spans.emplace_back(offset, arena.size() - offset);
    request_write.push_back(i);
  }
  commit_writes(wal::RecordType::kEntityUpsert, arena, spans, request_write, mode, &out);
  return out;
}

void Database::Impl::commit_writes(wal::RecordType type, const std::string& arena,
                                   const std::vector<std::pair<size_t, size_t>>& spans,
                                   const std::vector<size_t>& request_write, BatchMode mode,
                                   BatchIngestResult* out) {
  if (out->rejected > 0 && mode == BatchMode::kAllOrNothing) {
    for (Status& e : out->errors) {
      if (e.ok()) {
        e = Status::Aborted(Subsystem::kEntities,
                            "not applied: another write of the all-or-nothing batch is invalid");
      }
    }
    out->rejected = out->errors.size();
    return;
  }
  if (request_write.empty()) return;
  // Entity and relationship writes are never deduplicated: writing A, then
  // B, then A again must leave A.
  Timestamp record_time = clock_->now();
  std::vector<wal::AppendRequest> requests(request_write.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    requests[r].type = type;
    requests[r].timestamp = record_time;
    requests[r].payload = std::string_view(arena).substr(spans[r].first, spans[r].second);
  }
  Result<std::vector<wal::AppendResult>> committed = commit(requests);
  for (size_t r = 0; r < requests.size(); ++r) {
    size_t i = request_write[r];
    if (!committed.ok()) {
      out->errors[i] = committed.status();
      ++out->rejected;
      continue;
    }
    out->results[i] = IngestResult{(*committed)[r].sequence, false};
    ++out->accepted;
  }
}

Result<uint64_t> Database::Impl::patch(const EntityWrite& write) {
  if (static_cast<size_t>(write.kind) > 2) {
    return Status::Invalid(Subsystem::kEntities, "kind",
                           std::to_string(static_cast<int>(write.kind)),
                           "must be item, user or creator");
  }
  entities::EncodedWrite enc;
  TIDAL_RETURN_IF_ERROR(entities::encode_write(catalog(write.kind), write,
                                               entities::WriteKind::kPatch,
                                               options_.unknown_attributes, now_us(), &enc));
  {
    ReaderLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(live_index(write.kind, write.key).status());
  }
  std::string payload;
  apply::encode_patch_record(write.kind, write.key, enc.list, enc.removed, &payload);
  return commit_one(wal::RecordType::kEntityPatch, payload);
}

Result<uint64_t> Database::Impl::remove(EntityKind kind, std::string_view key) {
  TIDAL_RETURN_IF_ERROR(validate_key("key", key));
  if (static_cast<size_t>(kind) > 2) {
    return Status::Invalid(Subsystem::kEntities, "kind", std::to_string(static_cast<int>(kind)),
                           "must be item, user or creator");
  }
  {
    ReaderLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(live_index(kind, key).status());
  }
  std::string payload;
  apply::encode_delete_record(kind, key, &payload);
  return commit_one(wal::RecordType::kEntityDelete, payload);
}

Status Database::Impl::check_relationship(const RelationshipWrite& w) const {
  if (static_cast<uint8_t>(w.relation) > 2) {
    return Status::Invalid(Subsystem::kEntities, "relation",
                           std::to_string(static_cast<int>(w.relation)),
                           "must be follow, block or mute");
  }
  TIDAL_RETURN_IF_ERROR(validate_key("user", w.user));
  TIDAL_RETURN_IF_ERROR(validate_key("target", w.target));
  TIDAL_RETURN_IF_ERROR(entities::check_relationship_target(w.relation, w.target_kind));
  if (w.target_kind == EntityKind::kUser && w.target == w.user) {
    return Status::Invalid(Subsystem::kEntities, "target", w.target,
                           "a user cannot " + std::string(relation_name(w.relation)) + " itself");
  }
  return Status::Ok();
}

BatchIngestResult Database::Impl::relate(std::span<const RelationshipWrite> writes,
                                         BatchMode mode) {
  BatchIngestResult out;
  out.errors.resize(writes.size());
  out.results.resize(writes.size());
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<size_t> request_write;
  for (size_t i = 0; i < writes.size(); ++i) {
    const RelationshipWrite& w = writes[i];
    Status st = check_relationship(w);
    if (!st.ok()) {
      out.errors[i] = std::move(st);
      ++out.rejected;
      continue;
    }
    apply::RelationshipRecord r{w.relation, w.active, w.user, w.target_kind, w.target};
    size_t offset = arena.size();
    apply::encode_relationship_record(r, &arena);
    spans.emplace_back(offset, arena.size() - offset);
    request_write.push_back(i);
  }
  commit_writes(wal::RecordType::kRelationship, arena, spans, request_write, mode, &out);
  return out;
}

// ---------------------------------------------------------------------------
// Reads

Result<ItemSignals> Database::Impl::item_signals(std::string_view item) const {
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> idx = items().find(item);
  if (!idx)
    return Status::NotFound(Subsystem::kEntities, "no item \"" + std::string(item) + "\"", "item");
  int64_t now = now_us();
  ItemSignals out;
  out.item = std::string(item);
  out.registered = items().registered(*idx);
  for (size_t s = 0; s < ledger_->signal_count(); ++s) {
    const signals::SignalLedger& l = ledger_->ledger(static_cast<uint16_t>(s));
    SignalSnapshot snap;
    snap.signal = l.definition().name;
    snap.decayed = l.hot(*idx, now);
    for (size_t w = 0; w < l.plan().windows.size(); ++w) {
      WindowSignal ws;
      ws.window = l.plan().windows[w].window;
      ws.count = l.count(*idx, w, now);
      ws.sum = l.sum(*idx, w, now);
      ws.previous_count = l.prev_count(*idx, w, now);
      ws.velocity = l.velocity(*idx, w, now);
      snap.windows.push_back(ws);
    }
    out.signals.push_back(std::move(snap));
  }
  return out;
}

Result<std::vector<TrendingEntry>> Database::Impl::trending(const TrendingQuery& q) const {
  const SignalTypeDefinition* def = schema_.find_signal(q.signal);
  if (def == nullptr) {
    return Status::Invalid(Subsystem::kQuery, "signal", q.signal,
                           "is not a signal type of the schema");
  }
  if (q.limit == 0 || q.limit > kMaxTrendingLimit) {
    return Status::Invalid(Subsystem::kQuery, "limit", std::to_string(q.limit),
                           "must be between 1 and " + std::to_string(kMaxTrendingLimit));
  }
  size_t window = 0;
  if (q.kind != TrendingKind::kHot) {
    auto it = std::find(def->windows.begin(), def->windows.end(), q.window);
    if (it == def->windows.end()) {
      std::string known;
      for (Duration w : def->windows) known += (known.empty() ? "" : ", ") + format_duration(w);
      return Status::Invalid(Subsystem::kQuery, "window", format_duration(q.window),
                             "is not a window of signal \"" + def->name +
                                 "\" (its windows: " + (known.empty() ? "none" : known) + ")");
    }
    window = static_cast<size_t>(it - def->windows.begin());
    if (q.kind == TrendingKind::kRising && !def->velocity) {
      return Status::Invalid(Subsystem::kQuery, "signal", def->name,
                             "does not track velocity, so it cannot rank by rising");
    }
  }
  ReaderLock lk(state_mu_);
  int64_t now = now_us();
  signals::SignalLedger& l = ledger_->ledger(def->id);
  std::vector<signals::ScoredItem> top;
  switch (q.kind) {
    case TrendingKind::kHot: top = l.top_hot(q.limit, now); break;
    case TrendingKind::kTop: top = l.top_count(window, q.limit, now); break;
    case TrendingKind::kRising: top = l.top_rising(window, q.limit, now); break;
  }
  std::vector<TrendingEntry> out;
  out.reserve(top.size());
  for (const signals::ScoredItem& s : top) out.push_back({items().key_of(s.item), s.score});
  return out;
}

std::vector<std::string> Database::Impl::keys_of(EntityKind kind, const entities::Bitmap& ids,
                                                 size_t limit) const {
  std::vector<std::string> out;
  const KeyMap& keys = key_map(kind);
  for (uint32_t id : ids) {
    if (out.size() >= limit) break;
    out.push_back(keys.key_of(id));
  }
  return out;
}

Result<Entity> Database::Impl::get(EntityKind kind, std::string_view key) const {
  if (static_cast<size_t>(kind) > 2) {
    return Status::Invalid(Subsystem::kEntities, "kind", std::to_string(static_cast<int>(kind)),
                           "must be item, user or creator");
  }
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(uint32_t idx, live_index(kind, key));
  const entities::AttributeCatalog& c = entities_->catalog(kind);
  Entity e;
  e.kind = kind;
  e.key = std::string(key);
  // Stored by slot; returned in catalog order (built-ins first).
  std::vector<std::pair<size_t, Attribute>> found;
  entities::AttributeReader r(c, entities_->attributes(kind, idx));
  uint16_t slot;
  entities::ValueView v;
  while (r.next(&slot, &v)) {
    const AttributeDefinition* def = c.at_slot(slot);
    size_t pos =
        static_cast<size_t>(std::find(c.all().begin(), c.all().end(), def) - c.all().begin());
    found.emplace_back(pos, Attribute(def->name, entities::to_value(v)));
  }
  if (!r.ok()) return Status::Corruption(Subsystem::kStorage, "attributes of \"" + e.key + "\"");
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [pos, a] : found) e.attributes.push_back(std::move(a));
  return e;
}

Result<uint64_t> Database::Impl::count(EntityKind kind, const Filter& filter) const {
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(entities::Bitmap ids, entities_->evaluate(kind, filter));
  return ids.cardinality();
}

Result<std::vector<std::string>> Database::Impl::keys(EntityKind kind, const Filter& filter,
                                                      size_t limit) const {
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(entities::Bitmap ids, entities_->evaluate(kind, filter));
  return keys_of(kind, ids, limit);
}

Result<std::vector<std::string>> Database::Impl::followers(EntityKind target_kind,
                                                           std::string_view target,
                                                           size_t limit) const {
  if (target_kind != EntityKind::kCreator && target_kind != EntityKind::kUser) {
    return Status::Invalid(Subsystem::kEntities, "target_kind", entity_kind_name(target_kind),
                           "only creators and users have followers");
  }
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> idx = key_map(target_kind).find(target);
  if (!idx) return std::vector<std::string>{};
  return keys_of(EntityKind::kUser, relationships_->followers(target_kind, *idx), limit);
}

Result<std::vector<std::string>> Database::Impl::related(std::string_view user, Relation relation,
                                                         EntityKind target_kind,
                                                         size_t limit) const {
  TIDAL_RETURN_IF_ERROR(entities::check_relationship_target(relation, target_kind));
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> idx = key_map(EntityKind::kUser).find(user);
  if (!idx) return std::vector<std::string>{};
  return keys_of(target_kind, relationships_->related(*idx, relation, target_kind), limit);
}

Result<bool> Database::Impl::is_blocked(std::string_view user, EntityKind target_kind,
                                        std::string_view target) const {
  TIDAL_RETURN_IF_ERROR(entities::check_relationship_target(Relation::kBlock, target_kind));
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> u = key_map(EntityKind::kUser).find(user);
  std::optional<uint32_t> t = key_map(target_kind).find(target);
  if (!u || !t) return false;
  if (relationships_->has(*u, Relation::kBlock, target_kind, *t)) return true;
  if (target_kind == EntityKind::kItem) {
    uint32_t creator = entities_->creator_of(*t);
    if (creator != entities::kNoCreator &&
        relationships_->has(*u, Relation::kBlock, EntityKind::kCreator, creator)) {
      return true;
    }
  }
  return false;
}

Result<std::vector<AffinityEntry>> Database::Impl::top_affinities(std::string_view user,
                                                                  size_t limit) const {
  if (limit == 0 || limit > kMaxTrendingLimit) {
    return Status::Invalid(Subsystem::kQuery, "limit", std::to_string(limit),
                           "must be between 1 and " + std::to_string(kMaxTrendingLimit));
  }
  ReaderLock lk(state_mu_);
  std::vector<AffinityEntry> out;
  std::optional<uint32_t> u = key_map(EntityKind::kUser).find(user);
  if (!u) return out;
  for (const auto& w : relationships_->top_affinities(*u, limit, now_us())) {
    out.push_back({key_map(EntityKind::kCreator).key_of(w.creator), w.weight});
  }
  return out;
}

DatabaseHealth Database::Impl::health() const {
  DatabaseHealth h;
  if (wal_) {
    wal::WalHealth w = wal_->health();
    if (!w.failed.ok()) {
      h.writable = false;
      h.write_failure = w.failed.with_context(
          "the WAL stopped; writes are refused until the database is reopened");
    } else {
      h.write_failure = w.write_failure;
    }
  } else {
    h.writable = false;
    h.write_failure = Status::Unavailable(Subsystem::kStorage, "the database is not open");
  }
  {
    MutexLock order(order_mu_);
    if (!apply_failed_.ok()) {
      h.writable = false;
      h.write_failure = apply_failed_;
    }
  }
  MutexLock lk(health_mu_);
  h.checkpoint_failure = checkpoint_failure_;
  return h;
}

DatabaseProgress Database::Impl::progress() const {
  return {.last_sequence = wal_ ? wal_->last_sequence() : 0,
          .checkpoint_sequence = checkpoint_seq_.load()};
}

std::vector<ProfileDefinition> Database::Impl::profiles() const {
  ReaderLock lk(state_mu_);
  std::vector<ProfileDefinition> out;
  if (profiles_ == nullptr) return out;
  for (const auto& [name, p] : profiles_->all()) out.push_back({name, p.text});
  return out;
}

DatabaseStats Database::Impl::stats() const {
  ReaderLock lk(state_mu_);
  DatabaseStats s;
  s.events_applied = events_applied_.load();
  s.duplicates = duplicates_.load();
  s.items = items().size();
  if (entities_) {
    s.live_items = entities_->live_count(EntityKind::kItem);
    s.live_users = entities_->live_count(EntityKind::kUser);
    s.live_creators = entities_->live_count(EntityKind::kCreator);
    s.entity_bytes = entities_->memory_bytes();
  }
  if (text_) s.text_bytes = text_->memory_bytes();
  if (vectors_) s.vector_bytes = vectors_->memory_bytes();
  s.last_sequence = wal_ ? wal_->last_sequence() : 0;
  s.checkpoint_sequence = checkpoint_seq_.load();
  if (wal_) {
    uint64_t written = wal_->stats().bytes_written;
    uint64_t at_checkpoint = wal_bytes_at_checkpoint_.load();
    s.wal_bytes_since_checkpoint = written - std::min(written, at_checkpoint);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder_->wal_dir(), ec)) {
      if (entry.is_regular_file(ec)) s.wal_bytes += entry.file_size(ec);
    }
  }
  s.active_states = ledger_ ? ledger_->active_states() : 0;
  s.warm_bytes = ledger_ ? ledger_->warm_bytes() : 0;
  s.hot_bytes = ledger_ ? ledger_->hot_bytes() : 0;
  return s;
}

// ---------------------------------------------------------------------------
// Checkpoints and shutdown

// ---------------------------------------------------------------------------
// Queries

void Database::Impl::rebuild_known_items() {
  known_items_ = entities::Bitmap();
  const uint32_t n = static_cast<uint32_t>(items().size());
  for (uint32_t i = 0; i < n; ++i) {
    bool known = items().registered(i);
    for (size_t s = 0; !known && s < ledger_->signal_count(); ++s) {
      known = ledger_->ledger(static_cast<uint16_t>(s)).has_state(i);
    }
    if (known) known_items_.add(i);
  }
}

Result<QueryResult> Database::Impl::query(const query::Statement& statement,
                                          const QueryOptions& options) {
  if (statement.kind == query::StatementKind::kCreateProfile) return create_profile(statement);
  {
    MutexLock order(order_mu_);
    TIDAL_RETURN_IF_ERROR(apply_failed_);
  }
  ReaderLock lk(state_mu_);
  query::QueryState st{.schema = &schema_,
                       .entities = entities_,
                       .ledger = ledger_,
                       .keys = {&keys_[0], &keys_[1], &keys_[2]},
                       .known_items = &known_items_,
                       .profiles = profiles_,
                       .text = text_,
                       .vectors = vectors_,
                       .trending_capacity = options_.trending_capacity,
                       .column_threshold = options_.query_column_threshold,
                       .parallel_scan_threshold = options_.query_parallel_scan,
                       .scan_threads = options_.query_scan_threads,
                       .now_us = now_us()};
  if (statement.as_of_us) {
    const int64_t floor = floor_us();
    if (floor != INT64_MIN && *statement.as_of_us < floor) {
      return Status::Invalid(
          Subsystem::kQuery, "as_of", format_timestamp(*statement.as_of_us),
          "must not be before " + format_timestamp(floor) +
              ": the database keeps its state as of its newest event, so it cannot answer "
              "for an earlier time (docs/time.md)");
    }
    st.now_us = *statement.as_of_us;
  }
  return query::run_read(statement, st, options);
}

Result<QueryResult> Database::Impl::create_profile(const query::Statement& statement) {
  bool existed;
  {
    ReaderLock lk(state_mu_);
    query::QueryState st{.schema = &schema_, .entities = entities_, .profiles = profiles_};
    TIDAL_RETURN_IF_ERROR(query::check_profile_definition(statement, st));
    existed = profiles_->find(statement.name) != nullptr;
  }
  TIDAL_ASSIGN_OR_RETURN(uint64_t sequence,
                         commit_one(wal::RecordType::kProfileDefinition,
                                    query::ProfileCatalog::encode_record(
                                        statement.name, query::to_tql(*statement.definition))));
  QueryResult out;
  out.message = "profile " + statement.name + (existed ? " replaced" : " created") +
                " (WAL sequence " + std::to_string(sequence) + ")";
  return out;
}

Status Database::Impl::checkpoint() {
  MutexLock cp(checkpoint_mu_);
  if (!wal_) return Status::FailedPrecondition(Subsystem::kStorage, "the database is not open");
  WriteBatch batch;
  uint64_t seq;
  Status st;
  {
    // Holding the order lock keeps a half-applied batch out of the snapshot.
    MutexLock order(order_mu_);
    WriterLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(apply_failed_);
    seq = applied_seq_;
    for (KeyMap& keys : keys_) keys.checkpoint(&batch);
    st = registry_.checkpoint(&batch);
    std::string v;
    put_fixed64_le(&v, seq);
    batch.put(Keyspace::kMeta, meta_keys::kCheckpointSequence, v);
    db::store_present(present_state(), &batch);
  }
  if (st.ok()) st = registry_.after_checkpoint();
  if (st.ok()) st = storage_->write(batch, WriteMode::kDerived);
  if (st.ok()) st = storage_->flush();
  {
    // Whatever the batch held must be written again if it did not reach
    // storage: the next checkpoint claims a later sequence number.
    WriterLock lk(state_mu_);
    for (KeyMap& keys : keys_) keys.end_checkpoint(st.ok());
    registry_.end_checkpoint(st.ok());
  }
  if (st.ok() && seq > 0) st = wal_->checkpoint(seq);
  if (!st.ok()) {
    st = st.with_context("checkpoint at WAL sequence " + std::to_string(seq) +
                         " failed; every acknowledged write is still in the WAL");
    MutexLock h(health_mu_);
    checkpoint_failure_ = st;
    return st;
  }
  {
    MutexLock h(health_mu_);
    checkpoint_failure_ = Status::Ok();
  }
  checkpoint_seq_.store(seq);
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  last_checkpoint_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

void Database::Impl::crash_for_testing() {
  {
    MutexLock lk(background_mu_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  // Every acknowledged record is in the WAL already; nothing is pending.
  if (wal_) (void)wal_->close();
  // Unflushed (kDerived) writes live only in RocksDB's memtables: a crash
  // loses them.
  if (storage_) storage_->drop_unflushed_on_close();
}

void Database::Impl::background_loop() {
  // While the disk refuses writes, the WAL is probed and a failed checkpoint
  // retried this often (and a failure printed once, not at every retry).
  constexpr auto kRetryInterval = std::chrono::seconds(5);
  auto last_sweep = std::chrono::steady_clock::now();
  auto last_retry = last_sweep;
  bool reported = false;  // the current run of checkpoint failures was printed
  while (true) {
    {
      MutexLock lk(background_mu_);
      if (stopping_) break;
      lk.wait_for(background_cv_, std::chrono::seconds(1));
      if (stopping_) break;
    }
    auto now = std::chrono::steady_clock::now();
    if (options_.sweep_interval.count() > 0 && now - last_sweep >= options_.sweep_interval) {
      sweep();
      last_sweep = now;
    }
    const bool retry_due = now - last_retry >= kRetryInterval;
    if (retry_due) {
      last_retry = now;
      wal_->probe();  // a no-op unless the last WAL write failed
    }
    if (options_.background_checkpoints) {
      bool due;
      {
        MutexLock cp(checkpoint_mu_);
        uint64_t written = wal_->stats().bytes_written;
        due = written - wal_bytes_at_checkpoint_ >= options_.checkpoint_wal_bytes ||
              (now - last_checkpoint_ >= options_.checkpoint_interval &&
               wal_->last_sequence() > checkpoint_seq_.load());
      }
      // After a failed checkpoint (this loop's or one asked for), retry.
      bool failing;
      {
        MutexLock h(health_mu_);
        failing = !checkpoint_failure_.ok();
      }
      if (failing) due = retry_due;
      if (due) {
        Status s = checkpoint();
        if (!s.ok() && !reported) {
          std::fprintf(stderr, "tidal: background checkpoint failed (retried every %llds): %s\n",
                       static_cast<long long>(kRetryInterval.count()), s.to_string().c_str());
        } else if (s.ok() && reported) {
          std::fprintf(stderr, "tidal: background checkpoint succeeded again\n");
        }
        reported = !s.ok();
      }
    }
  }
}

Status Database::Impl::close() {
  {
    MutexLock lk(background_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    stopping_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  Status st;
  if (wal_) {
    st = checkpoint();
    Status w = wal_->close();
    if (st.ok()) st = w;
  }
  return st;
}

// ---------------------------------------------------------------------------
// Database

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const Schema& schema,
                                                 const DatabaseOptions& options) {
  if (options.trending_capacity == 0) {
    return Status::Invalid(Subsystem::kCore, "trending_capacity", "0", "must be at least 1");
  }
  auto impl = std::make_unique<Impl>(options, schema);
  Status st = impl->open(path, schema);
  if (!st.ok()) return st;
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Result<Schema> Database::stored_schema(const std::string& path) {
  // Without its marker a folder holds no database; DataFolder::open would
  // initialize an empty one, which a read must not do.
  std::error_code ec;
  if (!std::filesystem::exists(path + "/TIDAL", ec)) {
    return Status::NotFound(Subsystem::kStorage, "no tidalDB database at " + path);
  }
  DataFolderOptions fo;
  fo.create_if_missing = false;
  fo.read_only = true;  // writes nothing: works on a full disk
  TIDAL_ASSIGN_OR_RETURN(std::unique_ptr<DataFolder> folder, DataFolder::open(path, fo));
  RocksDbOptions ro;
  ro.create_if_missing = false;
  ro.block_cache_bytes = size_t{8} << 20;  // one small read
  // Declared after `folder`, so destroyed before it releases the lock.
  TIDAL_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbEngine> storage, folder->open_storage(ro));
  TIDAL_ASSIGN_OR_RETURN(std::optional<Schema> schema, load_schema(*storage));
  if (!schema) {
    return Status::NotFound(Subsystem::kStorage,
                            "no tidalDB database at " + path + ": it has no stored schema");
  }
  return *std::move(schema);
}

Result<IngestResult> Database::ingest(const SignalEvent& event) {
  BatchIngestResult r =
      impl_->ingest(std::span<const SignalEvent>(&event, 1), BatchMode::kApplyValid);
  if (!r.errors[0].ok()) return r.errors[0];
  return r.results[0];
}

BatchIngestResult Database::ingest(std::span<const SignalEvent> events, BatchMode mode) {
  return impl_->ingest(events, mode);
}

namespace {
// The answer to a one-write batch: its error, or its sequence number.
Result<uint64_t> single_sequence(const BatchIngestResult& r) {
  if (!r.errors[0].ok()) return r.errors[0];
  return r.results[0].sequence;
}
}  // namespace

Result<uint64_t> Database::upsert(const EntityWrite& write) {
  return single_sequence(
      impl_->upsert(std::span<const EntityWrite>(&write, 1), BatchMode::kApplyValid));
}
BatchIngestResult Database::upsert(std::span<const EntityWrite> writes, BatchMode mode) {
  return impl_->upsert(writes, mode);
}
Result<uint64_t> Database::patch(const EntityWrite& write) {
  return impl_->patch(write);
}
Result<uint64_t> Database::remove(EntityKind kind, std::string_view key) {
  return impl_->remove(kind, key);
}
Result<Entity> Database::get(EntityKind kind, std::string_view key) const {
  return impl_->get(kind, key);
}
Result<uint64_t> Database::count(EntityKind kind, const Filter& filter) const {
  return impl_->count(kind, filter);
}
Result<std::vector<std::string>> Database::keys(EntityKind kind, const Filter& filter,
                                                size_t limit) const {
  return impl_->keys(kind, filter, limit);
}
Result<uint64_t> Database::relate(const RelationshipWrite& write) {
  return single_sequence(
      impl_->relate(std::span<const RelationshipWrite>(&write, 1), BatchMode::kApplyValid));
}
BatchIngestResult Database::relate(std::span<const RelationshipWrite> writes, BatchMode mode) {
  return impl_->relate(writes, mode);
}
Result<std::vector<std::string>> Database::followers(EntityKind target_kind,
                                                     std::string_view target, size_t limit) const {
  return impl_->followers(target_kind, target, limit);
}
Result<std::vector<std::string>> Database::related(std::string_view user, Relation relation,
                                                   EntityKind target_kind, size_t limit) const {
  return impl_->related(user, relation, target_kind, limit);
}
Result<bool> Database::is_blocked(std::string_view user, EntityKind target_kind,
                                  std::string_view target) const {
  return impl_->is_blocked(user, target_kind, target);
}
Result<std::vector<AffinityEntry>> Database::top_affinities(std::string_view user,
                                                            size_t limit) const {
  return impl_->top_affinities(user, limit);
}
Result<ItemSignals> Database::item_signals(std::string_view item) const {
  return impl_->item_signals(item);
}
Result<std::vector<TrendingEntry>> Database::trending(const TrendingQuery& query) const {
  return impl_->trending(query);
}
Result<QueryResult> Database::query(std::string_view tql, const QueryOptions& options) {
  TIDAL_ASSIGN_OR_RETURN(query::Statement s, query::parse(tql));
  return impl_->query(s, options);
}
Result<QueryResult> Database::query_json(std::string_view json, const QueryOptions& options) {
  TIDAL_ASSIGN_OR_RETURN(query::Statement s, query::parse_json(json));
  return impl_->query(s, options);
}

Status Database::checkpoint() {
  return impl_->checkpoint();
}
Status Database::close() {
  return impl_->close();
}
Timestamp Database::now() const {
  return impl_->now();
}
Present Database::present() const {
  return impl_->present();
}
Result<uint64_t> Database::set_present(PresentMode mode, std::optional<Timestamp> pinned) {
  return impl_->set_present(mode, pinned);
}
const Schema& Database::schema() const {
  return impl_->schema();
}
DatabaseStats Database::stats() const {
  return impl_->stats();
}

std::vector<ProfileDefinition> Database::profiles() const {
  return impl_->profiles();
}

DatabaseProgress Database::progress() const {
  return impl_->progress();
}

DatabaseHealth Database::health() const {
  return impl_->health();
}

}  // namespace tidal
