// DedupSet: remembers the dedup keys of recent records so that a retried event
// is recognised and answered "duplicate" instead of being applied twice.
//
// Two generations are kept: current and previous. A generation closes when it
// holds `generation_keys` keys or when `generation_age` has passed since its
// first key; closing drops the previous generation and makes current the
// previous. So a key is remembered for at least one full generation (and at
// most two). Time here is the record timestamp the caller passes, never the
// wall clock, so that replaying the same records rebuilds the same sets.
//
// Not thread-safe: the WAL calls it under its own lock.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "wal/wal_format.h"

namespace tidal::wal {

struct DedupOptions {
  size_t generation_keys = 500'000;
  Duration generation_age = std::chrono::minutes(10);
};

class DedupSet {
 public:
  explicit DedupSet(DedupOptions options) : options_(options) {}

  // Closes generations that are due at `now`, then returns the sequence number
  // the key was recorded with, or nullopt if it is not remembered.
  std::optional<uint64_t> find(const DedupKey& key, Timestamp now);

  // Records `key` for the record with sequence `seq` written at `now`.
  void insert(const DedupKey& key, uint64_t seq, Timestamp now);

  // The smallest sequence number whose key is still remembered; the WAL keeps
  // the segments from there on so a restart can rebuild the sets. nullopt when
  // no key is remembered.
  std::optional<uint64_t> oldest_sequence() const;

  // Forgets the keys recorded with sequence >= seq: records the WAL could
  // not write and rolled back, which a retry must be able to append again.
  void forget_from(uint64_t seq);

  size_t size() const { return current_.keys.size() + previous_.keys.size(); }
  void clear();

 private:
  struct KeyHash {
    size_t operator()(const DedupKey& k) const noexcept {
      // The key is already a cryptographic hash: any 8 of its bytes will do.
      uint64_t h;
      static_assert(sizeof(h) <= sizeof(DedupKey));
      __builtin_memcpy(&h, k.data(), sizeof(h));
      return static_cast<size_t>(h);
    }
  };
  struct Generation {
    std::unordered_map<DedupKey, uint64_t, KeyHash> keys;
    Timestamp start;
    uint64_t first_sequence = 0;
  };

  void close_due_generations(Timestamp now);
  void close_current();

  DedupOptions options_;
  Generation current_;
  Generation previous_;
};

}  // namespace tidal::wal
