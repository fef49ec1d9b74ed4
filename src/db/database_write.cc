// Database::Impl: the write path. Validate, append to the WAL, apply in WAL
// order (commit), and the batch forms of each write.

#include "db/database_impl.h"
#include "entities/key_rules.h"
#include "query/engine.h"
#include "query/printer.h"
#include "schema/schema_catalog.h"

namespace tidal {

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
  const std::shared_ptr<const entities::AttributeCatalogs> cats = catalogs();
  for (size_t i = 0; i < writes.size(); ++i) {
    const EntityWrite& w = writes[i];
    Status st = entities::check_entity_kind(w.kind);
    if (st.ok()) {
      st = entities::encode_write((*cats)[w.kind], w, entities::WriteKind::kUpsert,
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
  TIDAL_RETURN_IF_ERROR(entities::check_entity_kind(write.kind));
  entities::EncodedWrite enc;
  TIDAL_RETURN_IF_ERROR(entities::encode_write((*catalogs())[write.kind], write,
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
  TIDAL_RETURN_IF_ERROR(entities::check_entity_kind(kind));
  {
    ReaderLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(live_index(kind, key).status());
  }
  std::string payload;
  apply::encode_delete_record(kind, key, &payload);
  return commit_one(wal::RecordType::kEntityDelete, payload);
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
    Status st = entities::check_relationship_write(w);
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

Result<Schema> Database::Impl::change_schema(const std::function<void(SchemaBuilder&)>& add) {
  MutexLock serial(schema_change_mu_);
  SchemaBuilder builder(schema());
  add(builder);
  TIDAL_ASSIGN_OR_RETURN(Schema next, builder.build());
  TIDAL_RETURN_IF_ERROR(commit_one(wal::RecordType::kSchemaChange, next.encode()).status());
  // Durable whatever the durability setting: data written under the new
  // schema must never outlive the change.
  TIDAL_RETURN_IF_ERROR(
      wal_->sync().with_context("schema version " + std::to_string(next.version()) +
                                " is in force but syncing its WAL record failed"));
  // Stored now so that Database::stored_schema() names it. The change
  // stands either way: the WAL holds it (replay applies it) and every
  // checkpoint stores the schema in force, so a failure here (a full disk,
  // which /health reports through the failing checkpoints) loses nothing.
  (void)store_schema(*storage_, next);
  return next;
}

Result<QueryResult> Database::Impl::create_profile(const query::Statement& statement) {
  bool existed;
  // One definition at a time, with cohort definitions too: a profile may
  // name a cohort, and a cohort a profile names cannot be dropped.
  MutexLock change(schema_change_mu_);
  {
    ReaderLock lk(state_mu_);
    query::QueryState st{.schema = &schema_,
                         .entities = entities_,
                         .ledger = &ledger_->ledgers(),
                         .everyone = &ledger_->ledgers(),
                         .cohorts = cohorts_,
                         .profiles = profiles_};
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

}  // namespace tidal
