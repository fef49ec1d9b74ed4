#include "storage/storage_engine.h"

#include "storage/key_encoding.h"

namespace tidal {

std::string_view keyspace_name(Keyspace ks) {
  switch (ks) {
    case Keyspace::kMeta: return "meta";
    case Keyspace::kEntities: return "entities";
    case Keyspace::kSignals: return "signals";
    case Keyspace::kEvents: return "events";
  }
  return "unknown";
}

void WriteBatch::put(Keyspace ks, std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpType::kPut, ks, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
}

void WriteBatch::del(Keyspace ks, std::string_view key) {
  ops_.push_back(Op{OpType::kDelete, ks, std::string(key), std::string()});
  bytes_ += key.size();
}

void WriteBatch::delete_range(Keyspace ks, std::string_view begin, std::string_view end) {
  ops_.push_back(Op{OpType::kDeleteRange, ks, std::string(begin), std::string(end)});
  bytes_ += begin.size() + end.size();
}

void WriteBatch::clear() {
  ops_.clear();
  bytes_ = 0;
}

std::unique_ptr<StorageIterator> StorageEngine::scan_prefix(Keyspace ks, std::string_view prefix) {
  // An empty successor (empty or all-0xff prefix) is scan()'s "no upper bound".
  return scan(ks, prefix, prefix_successor(prefix));
}

}  // namespace tidal
