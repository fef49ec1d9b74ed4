// DataFolder: the on-disk identity of a tidalDB data folder.
//
// Layout: docs/formats/data-folder.md
//
// The TIDAL marker holds the layout's format version and the database id. The
// id is random, made at creation, and stamped on every WAL segment so a WAL
// folder from another database is refused. LOCK is held with flock() for as
// long as the DataFolder lives; the pid written in it is only for the
// "locked by" message.
//
// open() refuses, with a message that names the path, a path that is not a
// directory, a non-empty folder without a TIDAL marker (it is someone else's
// data), a malformed marker (kCorruption), a format newer than this build
// (kNotSupported), and a folder locked by another process or by another
// DataFolder in this process (kBusy).
//
// Creation is crash-safe: the lock is taken first and the marker is written
// atomically (temporary file, fsync, rename, fsync of the folder), so an
// interrupted creation leaves at most LOCK and TIDAL.tmp, which the next
// open() treats as an empty folder and completes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/rocksdb_engine.h"
#include "tidal/status.h"

namespace tidal {

inline constexpr uint32_t kCurrentFormatVersion = 1;

// A database's identity: 16 random bytes made when its folder is created.
using DatabaseId = std::array<uint8_t, 16>;

struct DataFolderOptions {
  // Create the folder (and its parents) when missing, and initialize an empty
  // folder. Otherwise a missing folder is kNotFound.
  bool create_if_missing = true;
  // Never create or write anything: the folder must already be a tidalDB data
  // folder. The lock is still taken (exclusively) when LOCK exists.
  bool read_only = false;
};

class DataFolder {
 public:
  static Result<std::unique_ptr<DataFolder>> open(const std::string& path,
                                                  const DataFolderOptions& opts = {});

  // Releases the lock.
  ~DataFolder();
  DataFolder(const DataFolder&) = delete;
  DataFolder& operator=(const DataFolder&) = delete;

  const std::string& path() const { return path_; }
  std::string storage_dir() const { return path_ + "/storage"; }
  std::string wal_dir() const { return path_ + "/wal"; }
  uint32_t format_version() const { return format_version_; }
  const DatabaseId& database_id() const { return database_id_; }
  bool read_only() const { return read_only_; }

  // Opens the RocksDB database in storage_dir(). The engine must be destroyed
  // before this DataFolder, whose lock is what keeps other processes out.
  // A read-only folder opens it read-only (RocksDbOptions::read_only).
  Result<std::unique_ptr<RocksDbEngine>> open_storage(const RocksDbOptions& options = {}) const;

 private:
  DataFolder(std::string path, int lock_fd, uint32_t format_version, DatabaseId id, bool read_only);

  std::string path_;
  int lock_fd_;  // -1 when a read-only open found no LOCK file
  uint32_t format_version_;
  DatabaseId database_id_;
  bool read_only_;
};

// The marker's contents for `format_version`, created at `created_iso`, for
// the database `id`.
std::string format_data_folder_marker(uint32_t format_version, std::string_view created_iso,
                                      const DatabaseId& id = {});

// The database id from a marker's "id" line; kCorruption naming
// `marker_path` when it is missing or malformed.
Result<DatabaseId> parse_database_id(std::string_view text, const std::string& marker_path);

// 16 bytes from the kernel's random source.
Result<DatabaseId> new_database_id();

// Parses a marker; kCorruption naming `marker_path` when it is malformed.
Result<uint32_t> parse_data_folder_marker(std::string_view text, const std::string& marker_path);

}  // namespace tidal
