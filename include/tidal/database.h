// tidal::Database: an embedded tidalDB.
//
// Open a data folder with a schema, ingest signal events, read what the
// ledger derived from them, ask for trending items. Every write goes to the
// write-ahead log first and is applied to every derived store before the call
// returns: the next read reflects it.
//
//   auto db = tidal::Database::open("data", schema).value();
//   db->ingest({.item = "video_1", .user = "u_7", .signal = "like"});
//   auto top = db->trending({.kind = tidal::TrendingKind::kHot, .signal = "like"});
//
// Thread safety: every method may be called from any thread. Writes are
// applied in WAL order; a read sees each write entirely or not at all.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/entity.h"
#include "tidal/event.h"
#include "tidal/options.h"
#include "tidal/query.h"
#include "tidal/schema.h"
#include "tidal/status.h"

namespace tidal {

// One window of one signal type for one item.
struct WindowSignal {
  Duration window{0};
  uint64_t count = 0;           // events in the window
  double sum = 0;               // sum of values in the window (sum signal types)
  uint64_t previous_count = 0;  // events in the window before it (velocity signal types)
  double velocity = 0;          // count − previous_count (velocity signal types)
};

struct SignalSnapshot {
  std::string signal;
  double decayed = 0;  // the forward-decayed score at the database's present
  std::vector<WindowSignal> windows;
};

// What the ledger knows about one item.
struct ItemSignals {
  std::string item;
  bool registered = false;  // false for an item known only from signals
  std::vector<SignalSnapshot> signals;
};

enum class TrendingKind : uint8_t {
  kHot,     // by decayed score of `signal`
  kTop,     // by count of `signal` in `window`
  kRising,  // by velocity of `signal` in `window` (count − previous window's)
};

struct TrendingQuery {
  TrendingKind kind = TrendingKind::kHot;
  std::string signal;
  Duration window{0};  // kTop and kRising: one of the signal type's windows
  size_t limit = 20;   // 1..10000
};

struct TrendingEntry {
  std::string item;
  double score = 0;
};

// A page of Database::list: the entities in first-seen order, and the
// cursor of the next page (empty on the last).
struct EntityPage {
  std::vector<Entity> entities;
  std::string cursor;
};

struct DatabaseStats {
  uint64_t events_applied = 0;
  uint64_t duplicates = 0;
  uint64_t items = 0;  // items known, from upserts or signals
  uint64_t live_items = 0;
  uint64_t live_users = 0;
  uint64_t live_creators = 0;
  uint64_t entity_bytes = 0;  // attributes and filter indexes in memory
  uint64_t text_bytes = 0;    // the inverted indexes of text attributes
  uint64_t vector_bytes = 0;  // the HNSW graphs of vector attributes
  uint64_t last_sequence = 0;
  uint64_t checkpoint_sequence = 0;
  uint64_t wal_bytes = 0;                   // WAL segment files on disk
  uint64_t wal_bytes_since_checkpoint = 0;  // written since the last checkpoint
  uint64_t active_states = 0;               // (item, signal type) pairs with windowed state
  uint64_t warm_bytes = 0;                  // memory of those states
  uint64_t hot_bytes = 0;                   // memory of the decayed scores
  uint64_t cohorts = 0;
  uint64_t cohort_active_states = 0;  // (cohort, item, signal type) with windowed state
  uint64_t cohort_bytes = 0;          // memory of every cohort's ledgers and members
  uint64_t cohort_updates = 0;        // cohort ledger updates by events since open
  uint64_t users_with_state = 0;      // users with feed state: seen, recent items, preferences
  uint64_t user_state_bytes = 0;      // memory of that state and of the items' learned links
};

// A cohort (docs/cohorts.md): an audience of users defined by a predicate
// over their attributes, with its own signal ledgers.
struct CohortInfo {
  std::string name;
  std::string predicate;                 // the WHERE predicate, as TQL
  std::string family;                    // the family it belongs to (CREATE COHORTS), or empty
  uint64_t members = 0;                  // users in it now
  uint64_t defined_at = 0;               // the definition's WAL sequence
  bool backfilling = false;              // still counting events from before its definition
  double backfill_progress = 1;          // 0 to 1, by WAL sequence
  uint64_t backfill_events_read = 0;     // cold-tier events read for it
  uint64_t backfill_events_counted = 0;  // ... of which by its members
  uint64_t active_states = 0;            // (item, signal type) pairs with windowed state
  uint64_t memory_bytes = 0;             // its ledgers and member bitmap
};

// The database's present: the time every read, sweep and checkpoint takes as
// "now" (docs/time.md). Stored in the data folder, so every process that
// opens it — the server, the CLI, an embedder — answers at the same present.
enum class PresentMode : uint8_t {
  kLive = 0,        // the clock
  kHistorical = 1,  // the newest event time applied, or a time the user pinned
};

struct Present {
  PresentMode mode = PresentMode::kLive;
  std::optional<Timestamp> pinned;  // historical only: the time the user set
  Timestamp now;                    // the present itself
  // The earliest time a query may ask AS OF: the newest event time applied,
  // or the time the windowed state was last swept if later. The state holds
  // no event after it, so reads at any time from here on are exact.
  Timestamp floor;
};

// Where the WAL and the last checkpoint stand. Cheap (two counters), for
// health checks; stats() is the full picture.
struct DatabaseProgress {
  uint64_t last_sequence = 0;        // the newest WAL record
  uint64_t checkpoint_sequence = 0;  // the last record the last checkpoint covers
};

// Whether the database takes writes and checkpoints, for health checks
// (docs/operations.md: "A full disk").
struct DatabaseHealth {
  // False once writes are refused until the database is reopened (the WAL
  // stopped after a failed sync, or applying a record failed). Reads go on.
  bool writable = true;
  // Why writes fail or are refused; OK when the last write succeeded. While
  // the disk is full this holds the no-space failure of the last write, and
  // writable stays true: once space is freed the next write succeeds (the
  // database also probes the disk every few seconds and clears it then).
  Status write_failure;
  // The last checkpoint's failure; OK when it succeeded. Retried every few
  // seconds while it lasts; the WAL keeps every acknowledged write meanwhile.
  Status checkpoint_failure;

  bool ok() const { return writable && write_failure.ok() && checkpoint_failure.ok(); }
};

class Database {
 public:
  // Opens (or creates) the database in `path`. A new database stores
  // `schema`; an existing one must hold the same schema, or the open fails
  // (kFailedPrecondition) listing every difference. A schema that only adds
  // signal types or attributes is a migration, stored as the next version
  // when options.allow_schema_additions is set (docs/schema.md). Recovery
  // (the last checkpoint plus a replay of the WAL after it) happens here.
  static Result<std::unique_ptr<Database>> open(const std::string& path, const Schema& schema,
                                                const DatabaseOptions& options = {});

  // The schema stored in the data folder `path`, read without opening the
  // database (no recovery), e.g. to reopen a folder with its own schema.
  // kNotFound when `path` holds no database. It takes the folder's lock for
  // the duration of the read, so it fails with kBusy while the database is
  // open, in this process or another.
  static Result<Schema> stored_schema(const std::string& path);

  // Closes cleanly (checkpoint included).
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Ingests one event; returns once it is durable and applied.
  Result<IngestResult> ingest(const SignalEvent& event);
  // Ingests many events with one WAL commit. Invalid events are reported per
  // event (BatchMode::kApplyValid) or stop the whole batch (kAllOrNothing).
  BatchIngestResult ingest(std::span<const SignalEvent> events,
                           BatchMode mode = BatchMode::kApplyValid);

  // ---- Entities (docs/entities.md)

  // Writes a whole entity: attributes it had and `write` does not name are
  // gone. An item first seen through signals becomes registered and keeps
  // its signal state. Returns the WAL sequence number.
  Result<uint64_t> upsert(const EntityWrite& write);
  // Bulk upsert with one WAL commit; errors per entity as for ingest.
  BatchIngestResult upsert(std::span<const EntityWrite> writes,
                           BatchMode mode = BatchMode::kApplyValid);
  // Sets the attributes `write` names (std::monostate removes one) and keeps
  // the rest. kNotFound when the entity does not exist.
  Result<uint64_t> patch(const EntityWrite& write);
  // Deletes an entity: from the next read on it is in no index, no filter
  // result and no trending list, and its relationships are gone. kNotFound
  // when it does not exist.
  Result<uint64_t> remove(EntityKind kind, std::string_view key);
  // kNotFound when the entity does not exist (or was deleted).
  Result<Entity> get(EntityKind kind, std::string_view key) const;

  // The number of entities of `kind` matching `filter`, and their keys
  // (at most `limit`, in internal id order: the key first seen first).
  Result<uint64_t> count(EntityKind kind, const Filter& filter) const;
  Result<std::vector<std::string>> keys(EntityKind kind, const Filter& filter,
                                        size_t limit = 1000) const;
  // The entities TQL's `COUNT <kind> [WHERE where]` counts, `limit` (1 to
  // 10,000) at a time in first-seen order, with their attributes; pass the
  // page's cursor back for the next. `where` is a TQL predicate ("" for
  // all). An item known only from its signals has no attributes. Errors
  // name "where", "limit" or "cursor" (docs/entities.md, "Listing").
  Result<EntityPage> list(EntityKind kind, std::string_view where, size_t limit = 100,
                          std::string_view cursor = {});

  // ---- Relationships

  // Follow, block or mute (or, with active = false, undo it).
  Result<uint64_t> relate(const RelationshipWrite& write);
  // Many relationship writes with one WAL commit; errors per write.
  BatchIngestResult relate(std::span<const RelationshipWrite> writes,
                           BatchMode mode = BatchMode::kApplyValid);
  // Users following a creator (target_kind kCreator) or a user (kUser).
  Result<std::vector<std::string>> followers(EntityKind target_kind, std::string_view target,
                                             size_t limit = 1000) const;
  // What `user` follows (kCreator or kUser), blocks or mutes (kCreator or kItem).
  Result<std::vector<std::string>> related(std::string_view user, Relation relation,
                                           EntityKind target_kind, size_t limit = 1000) const;
  // Whether `user` blocks `target` (a creator or an item; an item is also
  // blocked when its creator is).
  Result<bool> is_blocked(std::string_view user, EntityKind target_kind,
                          std::string_view target) const;
  // The creators `user` has the strongest affinity with, at the present.
  Result<std::vector<AffinityEntry>> top_affinities(std::string_view user, size_t limit = 20) const;

  // The signal state of one item at the database's present: everyone's, or
  // (`cohort` not empty) what the cohort's ledgers hold — the events of its
  // members (docs/cohorts.md). kNotFound for an item never seen or a cohort
  // that does not exist.
  Result<ItemSignals> item_signals(std::string_view item, std::string_view cohort = {}) const;

  // The best items by decayed score, window count or velocity; ties by the
  // item's internal id (first seen first).
  Result<std::vector<TrendingEntry>> trending(const TrendingQuery& query) const;

  // ---- Queries (docs/tql.md, docs/sort-modes.md, docs/profiles.md)

  // Runs one TQL statement. Read queries (TRENDING, RANK, EXPLAIN ...) see
  // every write acknowledged before they start; CREATE PROFILE is a durable
  // write. Syntax errors name line and column; parts of TQL not built yet
  // (FEED, FOR COHORT, CREATE COHORT, WITHIN TRENDING) are kNotSupported
  // "not supported yet: ...".
  Result<QueryResult> query(std::string_view tql, const QueryOptions& options = {});
  // The same with the statement in its JSON form.
  Result<QueryResult> query_json(std::string_view json, const QueryOptions& options = {});
  // Parses a statement once (TQL, or its JSON form) to run it many times with
  // execute(); syntax errors as query() reports them. Needs no open database.
  static Result<PreparedStatement> prepare(std::string_view tql);
  static Result<PreparedStatement> prepare_json(std::string_view json);
  // Runs a prepared statement, with `parameters` bound in place of its own
  // values; the same answer as query() with those values written in the text.
  Result<QueryResult> execute(const PreparedStatement& statement,
                              const QueryParameters& parameters = {},
                              const QueryOptions& options = {});
  // The stored ranking profiles, by name.
  std::vector<ProfileDefinition> profiles() const;

  // Cohorts (docs/cohorts.md). create_cohort(name, "age BETWEEN 18 AND 24")
  // is CREATE COHORT name WHERE ...: the predicate is over user attributes,
  // in the WHERE language; errors name the field, the value and the rule.
  // Both return the definition's WAL sequence.
  Result<uint64_t> create_cohort(std::string_view name, std::string_view predicate);
  Result<uint64_t> drop_cohort(std::string_view name);
  // Every cohort by name, or one (NotFound naming it).
  std::vector<CohortInfo> cohorts() const;
  Result<CohortInfo> cohort(std::string_view name) const;
  // The names of the cohorts a live user is in (NotFound when not live).
  Result<std::vector<std::string>> user_cohorts(std::string_view user) const;
  // Waits until no cohort is backfilling, or `timeout` passed (Unavailable
  // then, naming what is left). `progress`, when given, is called about
  // every 100 ms with the cohorts still backfilling.
  Status wait_for_backfills(
      std::chrono::milliseconds timeout,
      const std::function<void(const std::vector<CohortInfo>&)>& progress = {});

  // Stores all derived state and truncates the WAL behind it.
  Status checkpoint();

  // Checkpoints and closes; later calls fail. Called by the destructor.
  Status close();

  // The database's present: the clock (live), or the newest event time
  // applied or a pinned time (historical). See docs/time.md.
  Timestamp now() const;
  Present present() const;
  // Switches the present, durably (a WAL record, like any write):
  //   set_present(kLive)              the clock from now on; the stored
  //                                   events must not lie ahead of it
  //   set_present(kHistorical)        the newest event time applied
  //   set_present(kHistorical, t)     pinned at t, which must not be before
  //                                   present().floor
  // Events are then validated against the new present (historical accepts
  // any time since 1970). Returns the record's WAL sequence number.
  Result<uint64_t> set_present(PresentMode mode, std::optional<Timestamp> pinned = std::nullopt);
  // The schema in force (a copy: a schema change may replace it while the
  // caller holds it).
  Schema schema() const;

  // Schema changes (docs/schema.md#changing-a-schema). Each adds one signal
  // type or one attribute after the existing ones, as the next schema
  // version: validated like a schema (errors name the field, the value and
  // the rule), written to the WAL as a schema_change record and synced
  // whatever the durability setting, applied by the same path as every other
  // record (live and on replay), and in force for the next write and query:
  // no reopen, and other requests are not held up beyond one apply. The new
  // schema is then stored; reopen with it (or with Database::stored_schema).
  // Returns the new schema.
  Result<Schema> add_signal_type(const SignalTypeSpec& spec);
  Result<Schema> add_attribute(EntityKind kind, const AttributeSpec& spec);
  // Counts and memory. Walks the attribute lists and filter indexes to sum
  // their memory (under the read lock): for monitoring, not for every request.
  DatabaseStats stats() const;
  DatabaseProgress progress() const;
  DatabaseHealth health() const;

  class Impl;

 private:
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal
