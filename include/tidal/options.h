// Options for opening a database.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tidal/clock.h"
#include "tidal/types.h"

namespace tidal {

// How durable an acknowledged write is (see docs/operations.md).
enum class Durability : uint8_t {
  kFsync,  // on disk before the write returns (survives power loss). Default.
  kBatch,  // handed to the OS before it returns (survives a process crash);
           // synced at least every 10 ms
  kNone,   // queued in memory; a crash can lose the last moments of writes
};

// What an entity write does with an attribute the schema does not declare.
enum class UnknownAttributes : uint8_t {
  kReject = 0,  // the write fails, naming the attribute (the default)
  kIgnore = 1,  // the attribute is dropped; the rest is written
};

struct DatabaseOptions {
  // Create the data folder if it does not exist.
  bool create_if_missing = true;
  Durability durability = Durability::kFsync;

  // Schema migrations on open. When true, opening an existing database with
  // a schema that extends the stored one (every stored signal type and
  // attribute present with the same id and identical fields, plus new ones
  // after them) is a migration: the additions are stored as the next schema
  // version (the stored version + 1) and the open proceeds; data written
  // before reads as it did, and the new signal types and attributes start
  // empty. Any other difference still fails the open (kFailedPrecondition,
  // every difference listed). When false, an extension fails like any other
  // difference, the message saying that it is a migration and naming this
  // option. Reopening after a migration needs the extended schema, with or
  // without this option.
  bool allow_schema_additions = false;

  // Reject signals naming an item that was never upserted (instead of
  // creating it implicitly, marked unregistered).
  bool strict_items = false;
  // Entity writes naming an attribute the schema does not declare.
  UnknownAttributes unknown_attributes = UnknownAttributes::kReject;

  // Accepted event times, relative to the database's present.
  Duration max_past_skew = std::chrono::hours(24 * 7);
  Duration max_future_skew = std::chrono::minutes(5);
  // Historical import: a new database starts historical — its present is the
  // newest event time applied instead of the clock, and any event time >= the
  // Unix epoch is accepted (for backfills such as replaying years of past
  // interactions); an existing live database is switched to historical at
  // open (a logged, durable change). Without it a database keeps the present
  // it has stored, historical or live: going back to live is always an
  // explicit Database::set_present(PresentMode::kLive). See docs/time.md.
  bool historical_import = false;

  // How many items each trending index keeps exactly (the deepest LIMIT
  // answered without a scan).
  size_t trending_capacity = 1000;
  // A query that scores more candidates than this reads windowed counts and
  // sums from dense per-window columns the ledger builds on first use (8
  // bytes per item per column; rebuilt when the window's newest bucket
  // changes, kept exact by every event in between) instead of from each
  // item's bucket ring. Smaller queries read the rings directly.
  uint64_t query_column_threshold = 4096;
  // A query that scores at least query_parallel_scan candidates splits them
  // by id range over query_scan_threads threads (1: the calling thread only).
  // It lowers one query's latency; a server already using every core gains
  // no throughput from it.
  size_t query_scan_threads = 2;

  // FEED with QueryOptions::record_served: for this long after a feed served
  // an item, the user's next feeds leave it out (docs/feeds.md).
  Duration feed_served_suppress = std::chrono::hours(1);
  uint64_t query_parallel_scan = 32768;

  // Background checkpoints: when this many WAL bytes were written since the
  // last checkpoint, or this much time passed with writes in it.
  uint64_t checkpoint_wal_bytes = 256ull << 20;
  Duration checkpoint_interval = std::chrono::minutes(5);
  // Set false to checkpoint only when checkpoint() is called.
  bool background_checkpoints = true;
  // How often windowed state that no window reaches any more is freed (at
  // the present; docs/signals.md). Zero: never in the background.
  Duration sweep_interval = std::chrono::minutes(1);

  // WAL tuning (see docs/formats/wal.md).
  uint64_t wal_segment_bytes = 64ull << 20;
  size_t wal_max_batch_records = 100;

  // Where "now" comes from; the system clock when null. Must outlive the database.
  const Clock* clock = nullptr;
};

}  // namespace tidal
