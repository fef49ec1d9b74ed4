// The database's present as stored: the kPresent WAL record's payload and
// the checkpoint's meta keys (docs/time.md, docs/formats/wal.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/storage_engine.h"
#include "tidal/database.h"
#include "wal/wal.h"

namespace tidal::db {

// A kPresent record: the present from that record on.
struct PresentRecord {
  PresentMode mode = PresentMode::kLive;
  std::optional<int64_t> pinned_us{};  // historical, pinned
  // Historical, not pinned: the present never goes below this, the floor
  // when the record was written. A live database's state may have been swept
  // at the clock, later than its newest event; its historical present must
  // not fall back to that event's time. Logged rather than derived from
  // sweeps, which are not logged: a restart answers the same.
  std::optional<int64_t> since_us{};
};

std::string encode_present_record(const PresentRecord& r);
bool decode_present_record(std::string_view payload, PresentRecord* out);

// What a data folder's present is without opening the database (for
// `tidal info`): the checkpoint's fields, then the WAL after it — its
// kPresent records and its events' times.
struct StoredPresent {
  PresentMode mode = PresentMode::kLive;
  std::optional<int64_t> pinned_us;
  std::optional<int64_t> since_us{};
  int64_t newest_event_us = INT64_MIN;
  int64_t swept_at_us = INT64_MIN;
};
Result<StoredPresent> read_stored_present(StorageEngine& storage, wal::Wal& wal);

// The checkpoint's part: load_present reads it (a folder written before the
// present was stored is live), store_present adds it to a checkpoint batch.
Result<StoredPresent> load_present(StorageEngine& storage);
void store_present(const StoredPresent& p, WriteBatch* batch);

// What a kPresent record changes.
inline void apply_present_record(const PresentRecord& r, StoredPresent* p) {
  p->mode = r.mode;
  p->pinned_us = r.pinned_us;
  p->since_us = r.since_us;
}

// The newest event time applied, or the last sweep's time if later
// (INT64_MIN when neither happened): no state lies after it.
inline int64_t floor_of(const StoredPresent& s) {
  return std::max(s.newest_event_us, s.swept_at_us);
}

// The present of a database in state `s` while the clock reads `clock_us`:
// the clock when live; when historical the pinned time, or else the newest
// event time or since_us, whichever is later (the clock while neither is set).
Present make_present(const StoredPresent& s, int64_t clock_us);

// Reads an i64 LE meta value; nullopt when absent.
Result<std::optional<int64_t>> read_meta_i64(StorageEngine& storage, std::string_view key);

}  // namespace tidal::db
