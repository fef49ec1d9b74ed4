#include <algorithm>

#include "core/coding.h"
#include "core/duration.h"
#include "db/database_impl.h"
#include "db/event_validation.h"
#include "entities/key_rules.h"
#include "schema/schema_catalog.h"
#include "signals/record_codec.h"

namespace tidal {

namespace {

constexpr std::string_view kCheckpointSequenceKey = "checkpoint/sequence";
// The newest event time applied up to the checkpoint: the present of a
// historical import, which must survive a restart whose WAL is empty.
constexpr std::string_view kNewestEventKey = "checkpoint/newest_event_us";
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
  TIDAL_ASSIGN_OR_RETURN(schema_, open_schema(*storage_, given));

  // Events may lie max_future_skew ahead of the present, except in historical
  // import, where the present is the newest event time.
  int64_t future_slack_us = options_.historical_import ? 0 : options_.max_future_skew.count();
  auto ledger =
      std::make_unique<signals::GlobalLedger>(schema_, options_.trending_capacity, future_slack_us);
  ledger_ = ledger.get();
  registry_.add(std::move(ledger));
  auto events = std::make_unique<signals::EventStore>(storage_.get());
  events_ = events.get();
  registry_.add(std::move(events));

  // The last checkpoint...
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> cp,
                         storage_->get(Keyspace::kMeta, kCheckpointSequenceKey));
  if (cp) {
    if (cp->size() != 8) return Status::Corruption(Subsystem::kStorage, "checkpoint sequence");
    checkpoint_seq_.store(decode_fixed64_le(cp->data()));
  }
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> newest,
                         storage_->get(Keyspace::kMeta, kNewestEventKey));
  if (newest) {
    if (newest->size() != 8) return Status::Corruption(Subsystem::kStorage, "newest event time");
    newest_event_us_.store(static_cast<int64_t>(decode_fixed64_le(newest->data())));
  }
  TIDAL_RETURN_IF_ERROR(items_.restore(*storage_));
  TIDAL_RETURN_IF_ERROR(registry_.restore(*storage_));

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
    std::unique_lock<std::shared_mutex> lk(state_mu_);
    ledger_->set_bulk_load(true);
    TIDAL_RETURN_IF_ERROR(wal_->replay(applied_seq_ + 1, [&](const wal::FrameView& f) {
      applied_seq_ = f.sequence;
      return apply_record(f.type, f.sequence, f.payload);
    }));
    ledger_->set_bulk_load(false);
  }
  applied_seq_ = std::max(applied_seq_, wal_->last_sequence());
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  last_checkpoint_ = std::chrono::steady_clock::now();
  background_ = std::thread([this] { background_loop(); });
  return Status::Ok();
}

Status Database::Impl::apply_record(wal::RecordType type, uint64_t sequence,
                                    std::string_view payload) {
  signals::AppliedRecord record;
  record.type = type;
  record.sequence = sequence;
  switch (type) {
    case wal::RecordType::kSignalEvent: {
      signals::SignalRecord e;
      if (!signals::decode_signal_record(payload, &e)) {
        return Status::Corruption(
            Subsystem::kWal, "signal event record " + std::to_string(sequence) + " is malformed");
      }
      record.signal = &e;
      record.item = items_.assign(e.item);
      record.item_id = entity_id_for(EntityKind::kItem, record.item);
      TIDAL_RETURN_IF_ERROR(registry_.apply(record));
      int64_t newest = newest_event_us_.load(std::memory_order_relaxed);
      if (e.time_us > newest) newest_event_us_.store(e.time_us, std::memory_order_relaxed);
      events_applied_.fetch_add(1, std::memory_order_relaxed);
      return Status::Ok();
    }
    case wal::RecordType::kEntityUpsert: {
      signals::UpsertRecord u;
      if (!signals::decode_upsert_record(payload, &u)) {
        return Status::Corruption(Subsystem::kWal,
                                  "upsert record " + std::to_string(sequence) + " is malformed");
      }
      record.upsert = &u;
      if (u.kind == EntityKind::kItem) {
        record.item = items_.assign(u.key);
        record.item_id = entity_id_for(EntityKind::kItem, record.item);
        items_.set_registered(record.item);
      }
      return registry_.apply(record);
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

int64_t Database::Impl::now_us() const {
  if (options_.historical_import) {
    int64_t newest = newest_event_us_.load(std::memory_order_relaxed);
    if (newest != INT64_MIN) return newest;
  }
  return to_micros(clock_->now());
}

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
  std::unique_lock<std::mutex> order(order_mu_);
  if (last > 0) {
    // Apply in WAL order: wait until every earlier record is applied.
    order_cv_.wait(order, [&] { return applied_seq_ + 1 == first || !apply_failed_.ok(); });
    if (!apply_failed_.ok()) return apply_failed_;
    Status st;
    {
      std::unique_lock<std::shared_mutex> lk(state_mu_);
      for (size_t i = 0; i < requests.size() && st.ok(); ++i) {
        if (results[i].duplicate) continue;
        st = apply_record(requests[i].type, results[i].sequence, requests[i].payload);
      }
    }
    if (!st.ok()) {
      apply_failed_ = st.with_context("the database stopped applying writes; reopen it");
      order_cv_.notify_all();
      return apply_failed_;
    }
    applied_seq_ = last;
    order_cv_.notify_all();
  }
  if (wait_for > 0) {
    // A retry answers "duplicate" once the original is visible to reads.
    order_cv_.wait(order, [&] { return applied_seq_ >= wait_for || !apply_failed_.ok(); });
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
    std::shared_lock<std::shared_mutex> lk(state_mu_);
    int64_t now = now_us();
    Timestamp record_time = clock_->now();
    for (size_t i = 0; i < events.size(); ++i) {
      const SignalEvent& e = events[i];
      db::ValidatedEvent v;
      Status st = db::validate_event(e, schema_, options_, now, &v);
      if (st.ok() && options_.strict_items) {
        std::optional<uint32_t> idx = items_.find(e.item);
        if (!idx || !items_.registered(*idx)) {
          st = Status::Invalid(Subsystem::kQuery, "item", e.item,
                               "is not a registered item (strict_items is on: upsert it first)");
        }
      }
      if (!st.ok()) {
        out.errors[i] = std::move(st);
        ++out.rejected;
        continue;
      }
      signals::SignalRecord rec;
      rec.signal = v.signal->id;
      rec.item = e.item;
      rec.user = e.user;
      rec.time_us = v.time_us;
      rec.value = e.value;
      size_t offset = arena.size();
      signals::encode_signal_record(rec, &arena);
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
        out.errors[i] = Status::Aborted(Subsystem::kQuery,
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

Result<uint64_t> Database::Impl::upsert_item(std::string_view key) {
  TIDAL_RETURN_IF_ERROR(validate_key("key", key));
  std::string payload;
  signals::encode_upsert_record({EntityKind::kItem, key}, &payload);
  wal::AppendRequest req;
  req.type = wal::RecordType::kEntityUpsert;
  req.timestamp = clock_->now();
  req.payload = payload;
  TIDAL_ASSIGN_OR_RETURN(std::vector<wal::AppendResult> r,
                         commit(std::span<const wal::AppendRequest>(&req, 1)));
  return r[0].sequence;
}

// ---------------------------------------------------------------------------
// Reads

Result<ItemSignals> Database::Impl::item_signals(std::string_view item) const {
  std::shared_lock<std::shared_mutex> lk(state_mu_);
  std::optional<uint32_t> idx = items_.find(item);
  if (!idx)
    return Status::NotFound(Subsystem::kQuery, "no item \"" + std::string(item) + "\"", "item");
  int64_t now = now_us();
  ItemSignals out;
  out.item = std::string(item);
  out.registered = items_.registered(*idx);
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
  std::shared_lock<std::shared_mutex> lk(state_mu_);
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
  for (const signals::ScoredItem& s : top) out.push_back({items_.key_of(s.item), s.score});
  return out;
}

DatabaseStats Database::Impl::stats() const {
  std::shared_lock<std::shared_mutex> lk(state_mu_);
  DatabaseStats s;
  s.events_applied = events_applied_.load();
  s.duplicates = duplicates_.load();
  s.items = items_.size();
  s.last_sequence = wal_ ? wal_->last_sequence() : 0;
  s.checkpoint_sequence = checkpoint_seq_.load();
  s.active_states = ledger_ ? ledger_->active_states() : 0;
  s.warm_bytes = ledger_ ? ledger_->warm_bytes() : 0;
  s.hot_bytes = ledger_ ? ledger_->hot_bytes() : 0;
  return s;
}

// ---------------------------------------------------------------------------
// Checkpoints and shutdown

Status Database::Impl::checkpoint() {
  std::lock_guard<std::mutex> cp(checkpoint_mu_);
  if (!wal_) return Status::FailedPrecondition(Subsystem::kStorage, "the database is not open");
  WriteBatch batch;
  uint64_t seq;
  {
    // Holding the order lock keeps a half-applied batch out of the snapshot.
    std::lock_guard<std::mutex> order(order_mu_);
    std::unique_lock<std::shared_mutex> lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(apply_failed_);
    seq = applied_seq_;
    items_.checkpoint(&batch);
    TIDAL_RETURN_IF_ERROR(registry_.checkpoint(&batch));
    std::string v;
    put_fixed64_le(&v, seq);
    batch.put(Keyspace::kMeta, kCheckpointSequenceKey, v);
    v.clear();
    put_fixed64_le(&v, static_cast<uint64_t>(newest_event_us_.load(std::memory_order_relaxed)));
    batch.put(Keyspace::kMeta, kNewestEventKey, v);
  }
  TIDAL_RETURN_IF_ERROR(registry_.after_checkpoint());
  TIDAL_RETURN_IF_ERROR(storage_->write(batch, WriteMode::kDerived));
  TIDAL_RETURN_IF_ERROR(storage_->flush());
  if (seq > 0) TIDAL_RETURN_IF_ERROR(wal_->checkpoint(seq));
  checkpoint_seq_.store(seq);
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  last_checkpoint_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

void Database::Impl::background_loop() {
  auto last_sweep = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lk(background_mu_);
  while (!stopping_) {
    background_cv_.wait_for(lk, std::chrono::seconds(1));
    if (stopping_) break;
    lk.unlock();
    auto now = std::chrono::steady_clock::now();
    if (now - last_sweep >= std::chrono::minutes(1)) {
      std::unique_lock<std::shared_mutex> state(state_mu_);
      ledger_->sweep(now_us());
      last_sweep = now;
    }
    if (options_.background_checkpoints) {
      bool due;
      {
        std::lock_guard<std::mutex> cp(checkpoint_mu_);
        uint64_t written = wal_->stats().bytes_written;
        due = written - wal_bytes_at_checkpoint_ >= options_.checkpoint_wal_bytes ||
              (now - last_checkpoint_ >= options_.checkpoint_interval &&
               wal_->last_sequence() > checkpoint_seq_.load());
      }
      if (due) {
        Status s = checkpoint();
        if (!s.ok())
          std::fprintf(stderr, "tidal: background checkpoint failed: %s\n", s.to_string().c_str());
      }
    }
    lk.lock();
  }
}

Status Database::Impl::close() {
  {
    std::lock_guard<std::mutex> lk(background_mu_);
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
    return Status::Invalid(Subsystem::kQuery, "trending_capacity", "0", "must be at least 1");
  }
  auto impl = std::make_unique<Impl>(options, schema);
  Status st = impl->open(path, schema);
  if (!st.ok()) return st;
  return std::unique_ptr<Database>(new Database(std::move(impl)));
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

Result<uint64_t> Database::upsert_item(std::string_view key) {
  return impl_->upsert_item(key);
}
Result<ItemSignals> Database::item_signals(std::string_view item) const {
  return impl_->item_signals(item);
}
Result<std::vector<TrendingEntry>> Database::trending(const TrendingQuery& query) const {
  return impl_->trending(query);
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
const Schema& Database::schema() const {
  return impl_->schema();
}
DatabaseStats Database::stats() const {
  return impl_->stats();
}

}  // namespace tidal
