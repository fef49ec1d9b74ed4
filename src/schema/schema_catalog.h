// The schema catalog: where a database's schema lives in storage.
//
// The current schema is stored in the `meta` keyspace under "schema/current",
// and every version ever stored under "schema/version/<version, 4 bytes BE>",
// so the history of migrations stays readable. Writes are kDurable: the schema
// is not derived from the WAL at creation.
#pragma once

#include <optional>

#include "storage/storage_engine.h"
#include "tidal/schema.h"

namespace tidal {

// The stored schema, or nullopt for a database that has none yet.
Result<std::optional<Schema>> load_schema(StorageEngine& engine);

// Stores `schema` as the current schema (and in the version history).
Status store_schema(StorageEngine& engine, const Schema& schema);

// What opening a database does with the application's schema: a new database
// stores `given`; an existing one must hold the same content, or the open
// fails (kFailedPrecondition) with every difference listed, one per line.
// Returns the schema in force (the stored one, with its version).
Result<Schema> open_schema(StorageEngine& engine, const Schema& given);

}  // namespace tidal
