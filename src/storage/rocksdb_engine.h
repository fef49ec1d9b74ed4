// RocksDbEngine: the StorageEngine backed by RocksDB (Debian librocksdb-dev).
//
// Layout on disk: one RocksDB database in `dir`, with one column family per
// Keyspace, named keyspace_name(ks), beside RocksDB's required "default"
// family (unused). open() creates the database and any missing column family.
//
// Durability follows storage_engine.h. WriteMode::kDerived writes skip
// RocksDB's WAL (tidalDB's own WAL is the truth) and become durable at the
// next flush(), which flushes every column family's memtable in one atomic
// flush (options.atomic_flush), so a WriteBatch spanning keyspaces is never
// torn by a crash. WriteMode::kDurable writes go through RocksDB's WAL with
// sync and are durable on return.
//
// Iterators read the snapshot taken when scan() is called. Every failure is a
// Status from Subsystem::kStorage whose message names the operation and the
// keyspace. Closing (the destructor) waits for background work and flushes
// memtables RocksDB holds (a flush that fails then is lost silently: only
// what flush() reported durable is); a process crash keeps only what flush()
// or kDurable writes made durable.
//
// A full disk (docs/operations.md). RocksDB stops taking writes after a
// failed flush or WAL write (a "background error"): writes and flushes fail
// with kNoSpace, reads go on. This engine never lets RocksDB recover on its
// own (its recovery waits for a whole memtable's worth of free space and
// refuses manual attempts meanwhile); instead the next write or flush calls
// DB::Resume(), which flushes what the memtables hold and clears the error
// once there is room. RocksDB's info log is written by this engine to
// dir/LOG, dropping lines the disk has no room for: Debian's RocksDB is built
// with assertions, and its own log writer aborts the process on the line
// after a failed one.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/storage_engine.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
struct DBOptions;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace tidal {

// Sized for the reference machine (2 cores, 24 GiB).
struct RocksDbOptions {
  bool create_if_missing = true;
  // One LRU block cache shared by every column family.
  size_t block_cache_bytes = size_t{512} << 20;
  // Memtable size per column family.
  size_t write_buffer_bytes = size_t{64} << 20;
  // Flush and compaction threads.
  int background_jobs = 2;
  // Opens with DB::OpenForReadOnly: nothing is written (no log, manifest or
  // options file), so it works on a full disk; every write fails.
  bool read_only = false;
};

// The RocksDB options RocksDbEngine uses, exposed so that a benchmark can run
// raw RocksDB configured identically. `cache` is the shared block cache.
rocksdb::DBOptions rocksdb_db_options(const RocksDbOptions& options);
rocksdb::ColumnFamilyOptions rocksdb_column_family_options(
    const RocksDbOptions& options, const std::shared_ptr<rocksdb::Cache>& cache);

class RocksDbErrorListener;

class RocksDbEngine final : public StorageEngine {
 public:
  // Opens (or, with create_if_missing, creates) the database in `dir`.
  // Fails with kNotFound when it is missing and create_if_missing is false,
  // kBusy when another RocksDbEngine holds it, kCorruption or kIoError when
  // RocksDB cannot read it.
  static Result<std::unique_ptr<RocksDbEngine>> open(const std::string& dir,
                                                     const RocksDbOptions& options = {});

  ~RocksDbEngine() override;
  RocksDbEngine(const RocksDbEngine&) = delete;
  RocksDbEngine& operator=(const RocksDbEngine&) = delete;

  Result<std::optional<std::string>> get(Keyspace ks, std::string_view key) override;
  Status put(Keyspace ks, std::string_view key, std::string_view value,
             WriteMode mode = WriteMode::kDerived) override;
  Status del(Keyspace ks, std::string_view key, WriteMode mode = WriteMode::kDerived) override;
  // A delete_range with an empty end ("to the end of the keyspace") has no
  // RocksDB equivalent; it becomes a range ending just past the largest key
  // present, found while every other write waits, so no key written
  // concurrently can slip past it.
  Status write(const WriteBatch& batch, WriteMode mode = WriteMode::kDerived) override;
  std::unique_ptr<StorageIterator> scan(Keyspace ks, std::string_view begin,
                                        std::string_view end) override;
  Status flush() override;
  // RocksDB's "rocksdb.estimate-num-keys": close after a compaction, and
  // overcounting keys that were overwritten or deleted before one.
  Result<uint64_t> approximate_count(Keyspace ks) override;

  const std::string& dir() const { return dir_; }

  // Closing (the destructor) will drop writes made with WriteMode::kDerived
  // since the last flush() instead of flushing them: what a crash leaves.
  // For crash tests.
  void drop_unflushed_on_close();

 private:
  class Iterator;

  RocksDbEngine(std::string dir, rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
                std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> keyspaces,
                std::shared_ptr<RocksDbErrorListener> errors);
  // After a background error (a full disk): DB::Resume(), once.
  Status resume_if_stopped();

  rocksdb::ColumnFamilyHandle* cf(Keyspace ks) const { return keyspaces_[static_cast<size_t>(ks)]; }

  std::string dir_;
  rocksdb::DB* db_;
  // Every open column family (ours, "default" and any unknown one found on
  // disk); all must be destroyed before the DB is closed.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> keyspaces_;
  std::shared_ptr<RocksDbErrorListener> errors_;
  // Writes share it; a batch with an open-ended delete_range takes it alone
  // (see write()).
  std::shared_mutex write_mu_;
};

}  // namespace tidal
