// The schema catalog: where a database's schema lives in storage.
//
// Layout: docs/formats/storage.md#schema
//
// The current schema is stored beside every version ever stored, so the
// history of migrations stays readable. Writes are kDurable: the schema is not
// derived from the WAL.
#pragma once

#include <optional>

#include "storage/storage_engine.h"
#include "tidal/schema.h"

namespace tidal {

// The stored schema, or nullopt for a database that has none yet.
Result<std::optional<Schema>> load_schema(StorageEngine& engine);

// Stores `schema` as the current schema (and in the version history).
Status store_schema(StorageEngine& engine, const Schema& schema);
// The same, as part of `batch` (a checkpoint's).
void put_schema(const Schema& schema, WriteBatch* batch);

// What opening a database does with the application's schema: a new database
// stores `given`; an existing one must hold the same content, or the open
// fails (kFailedPrecondition) with every difference listed, one per line.
//
// When `given` extends the stored schema (is_extension) it is a migration:
// with `allow_additions` the additions are stored as version
// stored.version() + 1 and that schema is returned; without it the open fails
// as for any other difference, the message ending with a hint that names
// DatabaseOptions::allow_schema_additions.
//
// Returns the schema in force (the stored one, with its version).
Result<Schema> open_schema(StorageEngine& engine, const Schema& given,
                           bool allow_additions = false);

// Whether `given` extends `stored`: it holds every signal type and attribute
// of `stored` with the same id and fields, and at least one more after them.
bool is_extension(const Schema& stored, const Schema& given);

// The migration of `stored` that adds what `given` has beyond it, built with
// SchemaBuilder(stored): the content of `given` at version
// stored.version() + 1. `given` must extend `stored` (is_extension).
Result<Schema> migrate_schema(const Schema& stored, const Schema& given);

}  // namespace tidal
