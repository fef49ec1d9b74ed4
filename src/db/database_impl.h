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
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "apply/materializer.h"
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
#include "vectors/vector_index.h"
#include "wal/wal.h"

namespace tidal {

class Database::Impl {
 public:
  Impl(const DatabaseOptions& options, Schema schema);
  ~Impl();

  Status open(const std::string& path, const Schema& given);
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
  Result<ItemSignals> item_signals(std::string_view item) const;
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
  const Schema& schema() const { return schema_; }
  DatabaseStats stats() const;
  std::vector<ProfileDefinition> profiles() const;
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
  Result<entities::Bitmap> evaluate_filter(EntityKind kind, const Filter& filter) const {
    return entities_->evaluate(kind, filter);
  }
  const KeyMap& key_map(EntityKind kind) const { return keys_[static_cast<size_t>(kind)]; }
  wal::Wal* wal() { return wal_.get(); }
  std::shared_mutex& state_mutex() { return state_mu_; }

 private:
  // Where event times are accepted at the present (state lock held shared).
  db::EventTimeRule event_time_rule() const;
  // Sets the present's fields from `p` (state lock held exclusively, or
  // before the database is shared).
  void set_present_state(const db::StoredPresent& p);
  // Applies one durable record (state lock held exclusively).
  Status apply_record(wal::RecordType type, uint64_t sequence, std::string_view payload);
  // Commits the records encoded in `arena` at `spans` (one per valid write
  // of a batch; `request_write` maps them back) and fills `out`: the shared
  // tail of entity and relationship batch writes. Records of this kind are
  // never deduplicated.
  void commit_writes(wal::RecordType type, const std::string& arena,
                     const std::vector<std::pair<size_t, size_t>>& spans,
                     const std::vector<size_t>& request_write, BatchMode mode,
                     BatchIngestResult* out);
  // Validates one relationship write.
  Status check_relationship(const RelationshipWrite& w) const;
  // Appends one record and applies it; its sequence number.
  Result<uint64_t> commit_one(wal::RecordType type, std::string_view payload);
  KeyMap& key_map(EntityKind kind) { return keys_[static_cast<size_t>(kind)]; }
  // The index of a live entity, or kNotFound naming it.
  Result<uint32_t> live_index(EntityKind kind, std::string_view key) const;
  std::vector<std::string> keys_of(EntityKind kind, const entities::Bitmap& ids,
                                   size_t limit) const;
  Result<QueryResult> create_profile(const query::Statement& statement);
  // Fills known_items_ from the restored key map and ledger (open only).
  void rebuild_known_items();
  // Appends `requests` and applies the new ones in WAL order.
  Result<std::vector<wal::AppendResult>> commit(std::span<const wal::AppendRequest> requests);
  void background_loop();

  DatabaseOptions options_;
  const Clock* clock_;
  Schema schema_;

  std::unique_ptr<DataFolder> folder_;
  std::unique_ptr<RocksDbEngine> storage_;
  std::unique_ptr<wal::Wal> wal_;
  std::array<KeyMap, 3> keys_{KeyMap(EntityKind::kItem), KeyMap(EntityKind::kUser),
                              KeyMap(EntityKind::kCreator)};
  KeyMap& items_ = keys_[0];
  apply::MaterializerRegistry registry_;
  // Owned by registry_:
  signals::GlobalLedger* ledger_ = nullptr;
  signals::EventStore* events_ = nullptr;
  entities::EntityStore* entities_ = nullptr;
  entities::Relationships* relationships_ = nullptr;
  query::ProfileCatalog* profiles_ = nullptr;
  text::TextIndex* text_ = nullptr;
  vectors::VectorIndex* vectors_ = nullptr;
  // Items a query can rank: registered or known from signals, not deleted
  // (state lock).
  entities::Bitmap known_items_;

  mutable std::shared_mutex state_mu_;
  mutable std::mutex order_mu_;
  std::condition_variable order_cv_;
  uint64_t applied_seq_ = 0;
  // Why applying stopped: written holding order_mu_ and state_mu_ (exclusive),
  // so it may be read holding either.
  Status apply_failed_;

  std::atomic<int64_t> newest_event_us_{INT64_MIN};
  // The present: kPresent records set these (state lock held exclusively);
  // now_us() reads them without it.
  std::atomic<PresentMode> present_mode_{PresentMode::kLive};
  std::atomic<int64_t> pinned_us_{INT64_MIN};  // INT64_MIN: not pinned
  std::atomic<int64_t> since_us_{INT64_MIN};   // INT64_MIN: not set
  std::atomic<int64_t> swept_at_us_{INT64_MIN};
  std::atomic<uint64_t> events_applied_{0};
  std::atomic<uint64_t> duplicates_{0};

  std::mutex checkpoint_mu_;  // one checkpoint at a time; guards the two below
  std::atomic<uint64_t> wal_bytes_at_checkpoint_{0};  // read by stats() without the lock
  std::chrono::steady_clock::time_point last_checkpoint_;
  std::atomic<uint64_t> checkpoint_seq_{0};

  mutable std::mutex health_mu_;
  Status checkpoint_failure_;  // the last checkpoint's (health_mu_)

  std::mutex background_mu_;
  std::condition_variable background_cv_;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread background_;
};

}  // namespace tidal
