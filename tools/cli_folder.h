// What the subcommands share: opening a data folder with its storage, schema
// and WAL, and printing tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli_commands.h"
#include "server/schema_document.h"
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

// A schema file (--schema FILE): the JSON document GET /v1/schema returns
// (docs/schema.md). Prints every error with its JSON path and returns
// nullopt when the file cannot be read or breaks a rule.
struct SchemaFile {
  std::string path;
  server::SchemaDocument document;
  Schema schema;  // the document as a new schema
};
std::optional<SchemaFile> read_schema_file(const std::string& path);
// --schema FILE when given: *bad is set when it is given but unusable.
std::optional<SchemaFile> schema_flag(const Args& args, bool* bad);

// How a schema file compares with a stored schema, by name (a file may list
// things in any order): `merged` is the stored schema with the file's
// fields and additions (server::schema_over); `differences` is
// stored.diff(merged): what the file changes and what it adds.
struct SchemaChanges {
  Schema merged;
  std::vector<std::string> differences;
  std::vector<std::string> kept;             // stored, left out of the file: kept
  std::vector<std::string> changed() const;  // differences that change a stored declaration
  std::vector<std::string> added() const;    // "item attribute \"genres\"", ...
};
Result<SchemaChanges> compare_schema(const Schema& stored, const SchemaFile& file);

// Opens the database in `dir` with the schema stored in it (recovery
// included). When `dir` holds no database yet, creates one if `create` is
// set (saying so on stderr) — with `schema_file`'s schema, or demo_schema()
// without one — and fails otherwise. A folder that has a database and a
// `schema_file` whose declarations differ from it is refused, listing the
// differences (`tidal schema apply` migrates). Prints the error (no database
// there, the folder locked by another process, ...) and returns null on
// failure.
std::unique_ptr<Database> open_database(const std::string& dir, DatabaseOptions options,
                                        bool create = false,
                                        const SchemaFile* schema_file = nullptr);

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
