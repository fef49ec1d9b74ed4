// Database::Impl: the embedded database's moving parts and how they meet.
//
// Write path: validate (shared state lock) -> encode -> WAL append_batch (group
// commit, dedup) -> wait for this batch's turn (WAL order) -> apply every new
// record to the key map and every materializer under the exclusive state lock
// -> return. Replay at open runs the same apply_record().
//
// Read path: the shared state lock; the hot score alone is lock-free inside
// the ledger.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <thread>

#include "apply/materializer.h"
#include "cohorts/cohort_store.h"
#include "core/mutex.h"
#include "db/event_validation.h"
#include "db/present.h"
#include "entities/entity_store.h"
#include "entities/key_map.h"
#include "entities/relationships.h"
#include "query/ast.h"
#include "query/profile_catalog.h"
#include "signals/event_store.h"
#include "signals/global_ledger.h"
#include "storage/data_folder.h"
#include "text/text_index.h"
#include "tidal/database.h"
#include "users/user_state.h"
#include "vectors/vector_index.h"
#include "wal/wal.h"

namespace tidal {

class Database::Impl {
 public:
  Impl(const DatabaseOptions& options, Schema schema);
  ~Impl();

  // Runs before the database is shared with other threads, so it touches
  // guarded state without the locks.
  Status open(const std::string& path, const Schema& given) TIDAL_NO_THREAD_SAFETY_ANALYSIS;
  BatchIngestResult ingest(std::span<const SignalEvent> events, BatchMode mode);
  BatchIngestResult upsert(std::span<const EntityWrite> writes, BatchMode mode);
  Result<uint64_t> patch(const EntityWrite& write);
  Result<uint64_t> remove(EntityKind kind, std::string_view key);
  Result<Entity> get(EntityKind kind, std::string_view key) const;
  Result<uint64_t> count(EntityKind kind, const Filter& filter) const;
  Result<std::vector<std::string>> keys(EntityKind kind, const Filter& filter, size_t limit) const;
  BatchIngestResult relate(std::span<const RelationshipWrite> writes, BatchMode mode);
  Result<std::vector<std::string>> followers(EntityKind target_kind, std::string_view target,
                                             size_t limit) const;
  Result<std::vector<std::string>> related(std::string_view user, Relation relation,
                                           EntityKind target_kind, size_t limit) const;
  Result<bool> is_blocked(std::string_view user, EntityKind target_kind,
                          std::string_view target) const;
  Result<std::vector<AffinityEntry>> top_affinities(std::string_view user, size_t limit) const;
  Result<ItemSignals> item_signals(std::string_view item, std::string_view cohort = {}) const;
  Result<std::vector<TrendingEntry>> trending(const TrendingQuery& query) const;
  // TQL statements (docs/tql.md): reads under the shared state lock, CREATE
  // PROFILE through the WAL.
  Result<QueryResult> query(const query::Statement& statement, const QueryOptions& options);
  Status checkpoint();
  Status close();
  Timestamp now() const { return from_micros(now_us()); }
  // The present (docs/time.md): the clock when live; when historical the
  // pinned time, or else floor_us() (the clock while nothing is applied).
  int64_t now_us() const;
  // The newest event time applied, or the last sweep's time if later
  // (INT64_MIN when neither happened): no state lies after it.
  int64_t floor_us() const;
  Present present() const;
  db::StoredPresent present_state() const;
  Result<uint64_t> set_present(PresentMode mode, std::optional<Timestamp> pinned);
  Schema schema() const {
    ReaderLock lk(state_mu_);
    return schema_;
  }
  // A schema change: the schema in force with what `add` adds, through the
  // WAL (Database::add_signal_type, add_attribute).
  Result<Schema> change_schema(const std::function<void(SchemaBuilder&)>& add);
  DatabaseStats stats() const;
  std::vector<ProfileDefinition> profiles() const;
  // Cohorts (database_cohorts.cc).
  // CREATE COHORT or DROP COHORT: the record's WAL sequence; `message` says
  // what happened.
  Result<uint64_t> define_cohort(const query::Statement& statement, std::string* message);
  Result<uint64_t> define_family(const query::Statement& statement, std::string* message);
  std::vector<CohortInfo> cohorts() const;
  Result<CohortInfo> cohort(std::string_view name) const;
  Result<std::vector<std::string>> user_cohorts(std::string_view user) const;
  Status wait_for_backfills(std::chrono::milliseconds timeout,
                            const std::function<void(const std::vector<CohortInfo>&)>& progress);
  DatabaseProgress progress() const;
  DatabaseHealth health() const;

  // For tests and tools inside the project.
  signals::EventStore* event_store() { return events_; }
  // Frees windowed state quiet at the present (what the background sweep
  // does every sweep_interval).
  void sweep();
  // Stops the database the way kill -9 would, as far as its files can tell:
  // no checkpoint, nothing flushed beyond what writes already made durable
  // (storage writes not yet flushed are dropped). Later calls fail; the
  // folder is then reopened like one a crashed process left.
  void crash_for_testing();
  // The live entities of `kind` matching `filter`, as dense indexes (state
  // lock held shared by the caller, or not at all for a quiescent database).
  Result<entities::Bitmap> evaluate_filter(EntityKind kind, const Filter& filter) const
      TIDAL_REQUIRES_SHARED(state_mu_) {
    return entities_->evaluate(kind, filter);
  }
  const KeyMap& key_map(EntityKind kind) const TIDAL_REQUIRES_SHARED(state_mu_) {
    return keys_[static_cast<size_t>(kind)];
  }
  wal::Wal* wal() { return wal_.get(); }
  SharedMutex& state_mutex() TIDAL_RETURN_CAPABILITY(state_mu_) { return state_mu_; }

 private:
  // Where event times are accepted at the present (state lock held shared).
  db::EventTimeRule event_time_rule() const TIDAL_REQUIRES_SHARED(state_mu_);
  // Sets the present's fields from `p` (state lock held exclusively, or
  // before the database is shared).
  void set_present_state(const db::StoredPresent& p) TIDAL_REQUIRES(state_mu_);
  // Applies one durable record (state lock held exclusively).
  Status apply_record(wal::RecordType type, uint64_t sequence, std::string_view payload)
      TIDAL_REQUIRES(state_mu_);
  // Commits the records encoded in `arena` at `spans` (one per valid write
  // of a batch; `request_write` maps them back) and fills `out`: the shared
  // tail of entity and relationship batch writes. Records of this kind are
  // never deduplicated.
  void commit_writes(wal::RecordType type, const std::string& arena,
                     const std::vector<std::pair<size_t, size_t>>& spans,
                     const std::vector<size_t>& request_write, BatchMode mode,
                     BatchIngestResult* out);
  // The attribute catalogs in force, for encoding writes outside the state
  // lock (a schema change replaces them; one encoded against the old ones
  // stays valid, since a change only adds).
  std::shared_ptr<const entities::AttributeCatalogs> catalogs() const {
    ReaderLock lk(state_mu_);
    return entities_->catalogs();
  }
  // Appends one record and applies it; its sequence number.
  Result<uint64_t> commit_one(wal::RecordType type, std::string_view payload);
  KeyMap& key_map(EntityKind kind) TIDAL_REQUIRES_SHARED(state_mu_) {
    return keys_[static_cast<size_t>(kind)];
  }
  KeyMap& items() TIDAL_REQUIRES_SHARED(state_mu_) { return keys_[0]; }
  const KeyMap& items() const TIDAL_REQUIRES_SHARED(state_mu_) { return keys_[0]; }
  // The index of a live entity, or kNotFound naming it.
  Result<uint32_t> live_index(EntityKind kind, std::string_view key) const
      TIDAL_REQUIRES_SHARED(state_mu_);
  std::vector<std::string> keys_of(EntityKind kind, const entities::Bitmap& ids, size_t limit) const
      TIDAL_REQUIRES_SHARED(state_mu_);
  Result<QueryResult> create_profile(const query::Statement& statement);
  // Fills known_items_ from the restored key map and ledger (open only).
  void rebuild_known_items() TIDAL_REQUIRES(state_mu_);
  CohortInfo cohort_info(const cohorts::Cohort& c) const TIDAL_REQUIRES_SHARED(state_mu_);
  // Runs each cohort's backfill from the cold tier (docs/cohorts.md).
  void backfill_loop();
  // The backfill of cohorts `ids` (in one read of the cold tier, from the
  // lowest cursor to the highest `until`): reads without the state lock and
  // counts batches under it.
  Status backfill(const std::vector<uint32_t>& ids, uint64_t until, uint64_t cursor);
  void wake_backfill();
  void stop_backfill();
  // Appends `requests` and applies the new ones in WAL order.
  Result<std::vector<wal::AppendResult>> commit(std::span<const wal::AppendRequest> requests);
  void background_loop();

  DatabaseOptions options_;
  const Clock* clock_;
  // Replaced by a schema_change record (state lock held exclusively).
  Schema schema_ TIDAL_GUARDED_BY(state_mu_);

  // Lock order: checkpoint_mu_ or schema_change_mu_, then order_mu_, then
  // state_mu_; health_mu_
  // and background_mu_ are taken alone.
  //
  // order_mu_: applies happen in WAL order (applied_seq_, apply_failed_).
  // state_mu_: everything a query reads; held exclusively to apply a record.
  mutable Mutex order_mu_ TIDAL_ACQUIRED_BEFORE(state_mu_);
  mutable SharedMutex state_mu_;
  // One schema change at a time: each is built on the schema in force.
  Mutex schema_change_mu_ TIDAL_ACQUIRED_BEFORE(order_mu_);

  std::unique_ptr<DataFolder> folder_;
  std::unique_ptr<RocksDbEngine> storage_;
  std::unique_ptr<wal::Wal> wal_;
  std::array<KeyMap, 3> keys_ TIDAL_GUARDED_BY(state_mu_){
      KeyMap(EntityKind::kItem), KeyMap(EntityKind::kUser), KeyMap(EntityKind::kCreator)};
  apply::MaterializerRegistry registry_;
  // Owned by registry_; set at open, their state guarded by state_mu_:
  signals::GlobalLedger* ledger_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  signals::EventStore* events_ = nullptr;  // has its own lock
  entities::EntityStore* entities_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  entities::Relationships* relationships_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  users::UserStateStore* user_state_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  query::ProfileCatalog* profiles_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  cohorts::CohortStore* cohorts_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  text::TextIndex* text_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  vectors::VectorIndex* vectors_ TIDAL_PT_GUARDED_BY(state_mu_) = nullptr;
  // Items a query can rank: registered or known from signals, not deleted.
  entities::Bitmap known_items_ TIDAL_GUARDED_BY(state_mu_);

  std::condition_variable order_cv_;
  uint64_t applied_seq_ TIDAL_GUARDED_BY(order_mu_) = 0;
  // Why applying stopped (sticky). Written holding order_mu_ and state_mu_,
  // read holding order_mu_.
  Status apply_failed_ TIDAL_GUARDED_BY(order_mu_);

  std::atomic<int64_t> newest_event_us_{INT64_MIN};
  // The present: kPresent records set these (state lock held exclusively);
  // now_us() reads them without it.
  std::atomic<PresentMode> present_mode_{PresentMode::kLive};
  std::atomic<int64_t> pinned_us_{INT64_MIN};  // INT64_MIN: not pinned
  std::atomic<int64_t> since_us_{INT64_MIN};   // INT64_MIN: not set
  std::atomic<int64_t> swept_at_us_{INT64_MIN};
  std::atomic<uint64_t> events_applied_{0};
  std::atomic<uint64_t> duplicates_{0};

  Mutex checkpoint_mu_ TIDAL_ACQUIRED_BEFORE(order_mu_);  // one checkpoint at a time
  std::atomic<uint64_t> wal_bytes_at_checkpoint_{0};      // read by stats() without the lock
  std::chrono::steady_clock::time_point last_checkpoint_ TIDAL_GUARDED_BY(checkpoint_mu_);
  std::atomic<uint64_t> checkpoint_seq_{0};

  mutable Mutex health_mu_;
  Status checkpoint_failure_ TIDAL_GUARDED_BY(health_mu_);  // the last checkpoint's

  Mutex background_mu_;
  std::condition_variable background_cv_;
  bool stopping_ TIDAL_GUARDED_BY(background_mu_) = false;
  bool closed_ TIDAL_GUARDED_BY(background_mu_) = false;
  std::thread background_;

  // The backfill thread (backfill_loop): woken by a cohort definition.
  Mutex backfill_mu_;
  std::condition_variable backfill_cv_;
  bool backfill_wake_ TIDAL_GUARDED_BY(backfill_mu_) = false;
  bool backfill_stop_ TIDAL_GUARDED_BY(backfill_mu_) = false;
  std::atomic<bool> backfill_stopping_{false};
  // The last backfill failure (a cold-tier read), retried; for health.
  Status backfill_failure_ TIDAL_GUARDED_BY(backfill_mu_);
  std::thread backfill_thread_;
};

}  // namespace tidal
