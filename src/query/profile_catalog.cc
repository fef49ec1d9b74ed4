#include "query/profile_catalog.h"

#include "core/coding.h"
#include "query/parser.h"
#include "storage/meta_keys.h"

namespace tidal::query {

namespace {

constexpr std::string_view kPrefix = meta_keys::kProfilePrefix;
constexpr uint8_t kRecordVersion = 1;

}  // namespace

std::string ProfileCatalog::encode_record(std::string_view name, std::string_view text) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  put_length_prefixed(&out, name);
  out.append(text);
  return out;
}

Status ProfileCatalog::put(std::string name, std::string text) {
  Result<Expr> expr = parse_expression(text);
  if (!expr.ok()) {
    return Status::Corruption(
        Subsystem::kQuery,
        "stored profile \"" + name + "\" does not parse: " + expr.status().message());
  }
  dirty_.insert(name);
  profiles_[std::move(name)] = StoredProfile{.text = std::move(text), .expr = std::move(*expr)};
  return Status::Ok();
}

Status ProfileCatalog::apply(const apply::AppliedRecord& record) {
  if (record.type != wal::RecordType::kProfileDefinition) return Status::Ok();
  ByteReader r(record.payload);
  uint8_t version;
  std::string_view name;
  if (!r.read_u8(&version) || version != kRecordVersion || !r.read_length_prefixed(&name) ||
      name.empty()) {
    return Status::Corruption(
        Subsystem::kWal,
        "profile definition record " + std::to_string(record.sequence) + " is malformed");
  }
  return put(std::string(name), std::string(r.rest()));
}

Status ProfileCatalog::checkpoint(WriteBatch* batch) {
  for (const std::string& name : dirty_) {
    batch->put(Keyspace::kMeta, std::string(kPrefix) + name, profiles_.at(name).text);
  }
  in_flight_.merge(dirty_);
  dirty_.clear();
  return Status::Ok();
}

void ProfileCatalog::end_checkpoint(bool durable) {
  if (!durable) dirty_.merge(in_flight_);
  in_flight_.clear();
}

Status ProfileCatalog::restore(StorageEngine& engine) {
  auto it = engine.scan_prefix(Keyspace::kMeta, kPrefix);
  for (; it->valid(); it->next()) {
    TIDAL_RETURN_IF_ERROR(
        put(std::string(it->key().substr(kPrefix.size())), std::string(it->value())));
  }
  TIDAL_RETURN_IF_ERROR(it->status());
  dirty_.clear();
  return Status::Ok();
}

const StoredProfile* ProfileCatalog::find(std::string_view name) const {
  auto it = profiles_.find(name);
  return it == profiles_.end() ? nullptr : &it->second;
}

}  // namespace tidal::query
