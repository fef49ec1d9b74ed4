// Signal events: what an application writes when a user interacts with an item.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal {

// One interaction: `user` did `signal` on `item` at `timestamp`.
struct SignalEvent {
  std::string item;    // the item's key (1..256 bytes of UTF-8, no control characters)
  std::string user;    // the acting user's key; may be empty (anonymous)
  std::string signal;  // a signal type declared in the schema
  // Event time. Must lie within the accepted skew of the database's present
  // (DatabaseOptions::max_past_skew / max_future_skew) while the database is
  // live; a historical one takes any time since 1970 (up to a pinned
  // present). The zero Timestamp means "now" (docs/time.md).
  Timestamp timestamp{};
  // For count signal types: 1 (the default). For sum signal types (such as
  // dwell_time): the amount, finite, >= 0 and at most 1e15 (so that every sum
  // kept from it stays finite).
  double value = 1.0;
  // Optional. When set, retries are recognised by this key; otherwise by a
  // hash of the event's content (item, user, signal, timestamp, value).
  std::string idempotency_key{};
};

// What ingesting one event did.
struct IngestResult {
  uint64_t sequence = 0;   // the event's WAL sequence number (the original's for a duplicate)
  bool duplicate = false;  // a retry of an event already ingested: nothing was applied
};

// How a batch treats invalid events.
enum class BatchMode : uint8_t {
  kApplyValid,   // apply the valid events; report each invalid one
  kAllOrNothing  // apply nothing if any event is invalid
};

// The outcome of ingesting a batch: one entry per event, in order.
struct BatchIngestResult {
  std::vector<Status> errors;         // OK for events that were accepted
  std::vector<IngestResult> results;  // valid where errors[i].ok()
  size_t accepted = 0;                // applied or duplicate
  size_t rejected = 0;
};

}  // namespace tidal
