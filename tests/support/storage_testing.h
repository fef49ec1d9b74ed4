// Helpers for tests of StorageEngine backends (unit and property tests).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/memory_engine.h"
#include "storage/rocksdb_engine.h"
#include "storage/storage_engine.h"
#include "support/test_support.h"

namespace tidal::testing {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Drains an iterator. Fails the current test if it ends with an error.
inline KeyValues drain(StorageIterator& it) {
  KeyValues out;
  for (; it.valid(); it.next()) out.emplace_back(it.key(), it.value());
  EXPECT_TRUE(it.status().ok()) << it.status().to_string();
  return out;
}

inline KeyValues scan_all(StorageEngine& engine, Keyspace ks, std::string_view begin = {},
                          std::string_view end = {}) {
  auto it = engine.scan(ks, begin, end);
  return drain(*it);
}

// Small RocksDB options so tests do not reserve production-sized memory.
inline RocksDbOptions small_rocksdb_options() {
  RocksDbOptions o;
  o.block_cache_bytes = size_t{8} << 20;
  o.write_buffer_bytes = size_t{4} << 20;
  return o;
}

// A backend for typed tests: make() returns a fresh, empty engine.
struct MemoryBackend {
  static constexpr bool kSnapshotScans = false;
  std::unique_ptr<StorageEngine> make() { return std::make_unique<MemoryEngine>(); }
};

struct RocksDbBackend {
  static constexpr bool kSnapshotScans = true;
  TempDir dir;
  int opened = 0;
  std::unique_ptr<StorageEngine> make() {
    auto engine =
        RocksDbEngine::open(dir.sub("db" + std::to_string(opened++)), small_rocksdb_options());
    EXPECT_TRUE(engine.ok()) << engine.status().to_string();
    return engine.ok() ? std::move(engine).value() : nullptr;
  }
};

}  // namespace tidal::testing
