// What the subcommands share: opening a data folder with its storage, schema
// and WAL, and printing tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/data_folder.h"
#include "tidal/database.h"
#include "tidal/schema.h"
#include "wal/wal.h"

namespace tidal::cli {

struct OpenFolder {
  std::unique_ptr<DataFolder> folder;
  std::unique_ptr<RocksDbEngine> storage;
  std::optional<Schema> schema;  // absent when the folder has none stored yet
  std::unique_ptr<wal::Wal> wal;
};

// Opens folder, storage and WAL; loads the stored schema. `create` allows a
// new folder; without it the storage is opened read-only (nothing written to
// it, so `tidal info` and `tidal check` work on a full disk). The WAL is
// recovered either way (a torn tail is cut). Prints the error and returns
// nullopt on failure.
std::optional<OpenFolder> open_folder(const std::string& path, bool create,
                                      wal::Durability durability = wal::Durability::kFsync);

// Opens the database in `dir` with the schema stored in it (recovery
// included). When `dir` holds no database yet, creates one with
// demo_schema() if `create` is set (saying so on stderr) and fails otherwise.
// Prints the error (no database there, the folder locked by another
// process, ...) and returns null on failure.
std::unique_ptr<Database> open_database(const std::string& dir, DatabaseOptions options,
                                        bool create = false);

// Closes `db` (checkpoint included); on failure prints why and returns false.
bool close_database(Database& db);

// The schema a new database gets by default: the six default signal types
// plus the W1 item and user attributes. `tidal demo` adds an item embedding
// (kDemoEmbeddingDim floats, cosine) for its vector queries.
inline constexpr uint32_t kDemoEmbeddingDim = 8;
Schema demo_schema(bool with_embedding = false);

// Prints rows as an aligned table with a header line.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

void print_schema(const Schema& schema);
// "historical (the newest event time): now is 2018-09-24T...Z"
std::string describe_present(const Present& p);
void print_wal(const wal::Wal& wal);
void print_storage(RocksDbEngine& storage);

}  // namespace tidal::cli
