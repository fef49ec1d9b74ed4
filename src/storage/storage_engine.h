// StorageEngine: the ordered key-value store under tidalDB's derived state.
//
// Keys and values are byte strings ordered by unsigned byte comparison (memcmp),
// grouped into named keyspaces. The WAL (src/wal/) is the source of truth;
// what is stored here is derived from it and written in two modes:
//
//   WriteMode::kDerived  - not durable by itself. Survives a process crash only
//                          after flush() returns. Checkpoints write this way and
//                          then flush, recording the WAL sequence they cover.
//   WriteMode::kDurable  - durable when the call returns (used for what is not
//                          derived from the WAL: the schema, at creation and
//                          at a migration).
//
// Thread safety: every method may be called from any thread concurrently.
// Iterators are used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/status.h"

namespace tidal {

// The keyspaces; what each holds: docs/formats/storage.md#keyspaces
// Names are stable: RocksDB finds each column family by keyspace_name(), so
// renaming a keyspace would orphan its data.
enum class Keyspace : uint8_t {
  kMeta = 0,      // schema, checkpoint sequence and present, key maps, landmarks, profiles
  kEntities = 1,  // entity attributes and relationships
  kSignals = 2,   // the ledger checkpoint
  kEvents = 3,    // the cold tier: every signal event
};
inline constexpr int kKeyspaceCount = 4;
inline constexpr Keyspace kAllKeyspaces[kKeyspaceCount] = {Keyspace::kMeta, Keyspace::kEntities,
                                                           Keyspace::kSignals, Keyspace::kEvents};

std::string_view keyspace_name(Keyspace ks);

enum class WriteMode : uint8_t { kDerived, kDurable };

// An ordered set of puts and deletes, possibly across keyspaces, applied
// atomically by StorageEngine::write(): after a crash either all of it is
// visible or none of it. Later operations on the same key win.
class WriteBatch {
 public:
  enum class OpType : uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    OpType type;
    Keyspace keyspace;
    std::string key;    // for kDeleteRange: the inclusive start
    std::string value;  // for kDeleteRange: the exclusive end
  };

  void put(Keyspace ks, std::string_view key, std::string_view value);
  void del(Keyspace ks, std::string_view key);
  // Deletes every key in [begin, end). As for scan(), an empty `end` means "to
  // the end of the keyspace"; a range with begin >= end deletes nothing.
  void delete_range(Keyspace ks, std::string_view begin, std::string_view end);

  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  // Bytes of keys and values held, for sizing batches.
  size_t approximate_bytes() const { return bytes_; }
  void clear();

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// Walks keys in ascending order within [begin, end) of one keyspace.
// Usage: for (; it->valid(); it->next()) { it->key(); it->value(); }
// then check it->status(): a read error ends the walk with valid() == false
// and a non-OK status. key() and value() stay valid until the next call to
// next() or the iterator's destruction.
class StorageIterator {
 public:
  virtual ~StorageIterator() = default;
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

class StorageEngine {
 public:
  virtual ~StorageEngine() = default;

  // The value stored under `key`, or std::nullopt when there is none.
  virtual Result<std::optional<std::string>> get(Keyspace ks, std::string_view key) = 0;

  virtual Status put(Keyspace ks, std::string_view key, std::string_view value,
                     WriteMode mode = WriteMode::kDerived) = 0;
  virtual Status del(Keyspace ks, std::string_view key, WriteMode mode = WriteMode::kDerived) = 0;

  // Applies the whole batch atomically.
  virtual Status write(const WriteBatch& batch, WriteMode mode = WriteMode::kDerived) = 0;

  // Keys in [begin, end) in ascending order; an empty `end` means "to the end
  // of the keyspace". Backends differ in one documented way: a RocksDB
  // iterator reads a snapshot taken at creation; the in-memory iterator sees
  // writes made after creation to keys it has not yet reached.
  virtual std::unique_ptr<StorageIterator> scan(Keyspace ks, std::string_view begin,
                                                std::string_view end) = 0;

  // Every key that starts with `prefix`, ascending.
  std::unique_ptr<StorageIterator> scan_prefix(Keyspace ks, std::string_view prefix);

  // Makes every write made so far durable (kDerived writes included).
  virtual Status flush() = 0;

  // Approximate number of keys in a keyspace (exact for the memory backend).
  virtual Result<uint64_t> approximate_count(Keyspace ks) = 0;
};

}  // namespace tidal
