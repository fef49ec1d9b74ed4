// MemoryEngine: a StorageEngine held in memory, for tests and tools.
//
// One std::map per keyspace behind one std::shared_mutex: reads share the
// lock, writes (including a whole WriteBatch) take it exclusively, so a batch
// is applied atomically with respect to every reader. Nothing is durable:
// both WriteModes behave the same and flush() does nothing.
//
// Iterators do not hold the lock between calls. Each next() re-seeks past the
// last key it returned under a shared lock and copies the new key and value,
// so a long scan never blocks writers, and it sees writes made after its
// creation to keys it has not reached yet (storage_engine.h documents this
// difference from the RocksDB backend). An iterator must not outlive the
// engine that made it.
#pragma once

#include <map>
#include <shared_mutex>
#include <string>

#include "storage/storage_engine.h"

namespace tidal {

class MemoryEngine final : public StorageEngine {
 public:
  MemoryEngine() = default;
  MemoryEngine(const MemoryEngine&) = delete;
  MemoryEngine& operator=(const MemoryEngine&) = delete;

  Result<std::optional<std::string>> get(Keyspace ks, std::string_view key) override;
  Status put(Keyspace ks, std::string_view key, std::string_view value,
             WriteMode mode = WriteMode::kDerived) override;
  Status del(Keyspace ks, std::string_view key, WriteMode mode = WriteMode::kDerived) override;
  Status write(const WriteBatch& batch, WriteMode mode = WriteMode::kDerived) override;
  std::unique_ptr<StorageIterator> scan(Keyspace ks, std::string_view begin,
                                        std::string_view end) override;
  Status flush() override { return Status::Ok(); }
  Result<uint64_t> approximate_count(Keyspace ks) override;

 private:
  // std::less<> lets lookups take a string_view without building a string.
  using Map = std::map<std::string, std::string, std::less<>>;
  class Iterator;

  Map& map(Keyspace ks) { return maps_[static_cast<size_t>(ks)]; }

  std::shared_mutex mu_;
  Map maps_[kKeyspaceCount];
};

}  // namespace tidal
