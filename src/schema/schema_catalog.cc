#include "schema/schema_catalog.h"

#include "core/coding.h"

namespace tidal {

namespace {
constexpr std::string_view kCurrentKey = "schema/current";
constexpr std::string_view kVersionPrefix = "schema/version/";

std::string version_key(uint32_t version) {
  std::string key(kVersionPrefix);
  put_fixed32_be(&key, version);
  return key;
}
}  // namespace

Result<std::optional<Schema>> load_schema(StorageEngine& engine) {
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                         engine.get(Keyspace::kMeta, kCurrentKey));
  if (!bytes) return std::optional<Schema>();
  Result<Schema> schema = Schema::decode(*bytes);
  if (!schema.ok()) return schema.status().with_context("reading the stored schema");
  return std::optional<Schema>(std::move(schema).value());
}

Status store_schema(StorageEngine& engine, const Schema& schema) {
  std::string bytes = schema.encode();
  WriteBatch batch;
  batch.put(Keyspace::kMeta, kCurrentKey, bytes);
  batch.put(Keyspace::kMeta, version_key(schema.version()), bytes);
  return engine.write(batch, WriteMode::kDurable);
}

Result<Schema> open_schema(StorageEngine& engine, const Schema& given) {
  TIDAL_ASSIGN_OR_RETURN(std::optional<Schema> stored, load_schema(engine));
  if (!stored) {
    TIDAL_RETURN_IF_ERROR(store_schema(engine, given));
    return given;
  }
  std::vector<std::string> differences = stored->diff(given);
  if (differences.empty()) return *stored;
  std::string message = "the given schema differs from the stored schema (version " +
                        std::to_string(stored->version()) + ") in " +
                        std::to_string(differences.size()) +
                        (differences.size() == 1 ? " way:" : " ways:");
  for (const std::string& d : differences) message += "\n  - " + d;
  return Status::FailedPrecondition(Subsystem::kSchema, message);
}

}  // namespace tidal
