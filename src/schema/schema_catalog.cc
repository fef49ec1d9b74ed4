#include "schema/schema_catalog.h"

#include <algorithm>

#include "core/coding.h"
#include "schema/schema_rep.h"
#include "storage/meta_keys.h"

namespace tidal {

namespace {
std::string version_key(uint32_t version) {
  std::string key(meta_keys::kSchemaVersionPrefix);
  put_fixed32_be(&key, version);
  return key;
}
}  // namespace

Result<std::optional<Schema>> load_schema(StorageEngine& engine) {
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                         engine.get(Keyspace::kMeta, meta_keys::kSchemaCurrent));
  if (!bytes) return std::optional<Schema>();
  Result<Schema> schema = Schema::decode(*bytes);
  if (!schema.ok()) return schema.status().with_context("reading the stored schema");
  return std::optional<Schema>(std::move(schema).value());
}

void put_schema(const Schema& schema, WriteBatch* batch) {
  std::string bytes = schema.encode();
  batch->put(Keyspace::kMeta, meta_keys::kSchemaCurrent, bytes);
  batch->put(Keyspace::kMeta, version_key(schema.version()), bytes);
}

Status store_schema(StorageEngine& engine, const Schema& schema) {
  WriteBatch batch;
  put_schema(schema, &batch);
  return engine.write(batch, WriteMode::kDurable);
}

namespace {

// Whether `given` starts with exactly the definitions of `stored`.
template <typename Definition>
bool starts_with(const std::vector<Definition>& given, const std::vector<Definition>& stored) {
  return given.size() >= stored.size() && std::equal(stored.begin(), stored.end(), given.begin());
}

}  // namespace

bool is_extension(const Schema& stored, const Schema& given) {
  if (!starts_with(given.signals(), stored.signals())) return false;
  bool added = given.signals().size() > stored.signals().size();
  for (EntityKind kind : kEntityKinds) {
    if (!starts_with(given.attributes(kind), stored.attributes(kind))) return false;
    added = added || given.attributes(kind).size() > stored.attributes(kind).size();
  }
  return added;
}

Result<Schema> migrate_schema(const Schema& stored, const Schema& given) {
  if (!is_extension(stored, given)) {
    return Status::FailedPrecondition(Subsystem::kSchema,
                                      "the given schema does not extend the stored schema");
  }
  SchemaBuilder builder(stored);
  for (size_t i = stored.signals().size(); i < given.signals().size(); ++i) {
    builder.add_signal(to_spec(given.signals()[i]));
  }
  for (EntityKind kind : kEntityKinds) {
    const std::vector<AttributeDefinition>& attributes = given.attributes(kind);
    for (size_t i = stored.attributes(kind).size(); i < attributes.size(); ++i) {
      builder.add_attribute(kind, to_spec(attributes[i]));
    }
  }
  TIDAL_ASSIGN_OR_RETURN(Schema migrated, builder.build());
  // The builder assigns the next ids in order, as `given` did; anything else
  // would be a bug here, and storing it would change the meaning of data.
  if (!(migrated == given) || migrated.version() != stored.version() + 1) {
    return Status::Internal(Subsystem::kSchema,
                            "the migrated schema does not match the given schema");
  }
  return migrated;
}

Result<Schema> open_schema(StorageEngine& engine, const Schema& given, bool allow_additions) {
  TIDAL_ASSIGN_OR_RETURN(std::optional<Schema> stored, load_schema(engine));
  if (!stored) {
    TIDAL_RETURN_IF_ERROR(store_schema(engine, given));
    return given;
  }
  std::vector<std::string> differences = stored->diff(given);
  if (differences.empty()) return *stored;
  bool extension = is_extension(*stored, given);
  if (extension && allow_additions) {
    TIDAL_ASSIGN_OR_RETURN(Schema migrated, migrate_schema(*stored, given));
    TIDAL_RETURN_IF_ERROR(store_schema(engine, migrated));
    return migrated;
  }
  std::string message = "the given schema differs from the stored schema (version " +
                        std::to_string(stored->version()) + ") in " +
                        std::to_string(differences.size()) +
                        (differences.size() == 1 ? " way:" : " ways:");
  for (const std::string& d : differences) message += "\n  - " + d;
  if (extension) {
    message += "\nit only adds to the stored schema: that is a migration to version " +
               std::to_string(stored->version() + 1) +
               "; open with DatabaseOptions::allow_schema_additions = true to store it";
  }
  return Status::FailedPrecondition(Subsystem::kSchema, message);
}

}  // namespace tidal
