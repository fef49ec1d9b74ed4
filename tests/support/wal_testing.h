// Helpers for tests of the write-ahead log (unit, property, UAT and crash tests).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wal/wal.h"

namespace tidal::testing {

// A database id whose every byte is `n`, so two ids differ when their `n` do.
inline wal::DatabaseId test_database_id(uint8_t n = 7) {
  wal::DatabaseId id;
  id.fill(n);
  return id;
}

inline Timestamp micros(int64_t us) {
  return from_micros(us);
}

// Collects the warnings a Wal reports instead of printing them.
struct WarningLog {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
  std::function<void(const std::string&)> sink() const {
    return [l = lines](const std::string& m) { l->push_back(m); };
  }
};

// Options for a test WAL in `dir`: fast group commit and a quiet warning sink.
inline wal::WalOptions wal_test_options(const std::string& dir,
                                        wal::Durability d = wal::Durability::kFsync,
                                        const WarningLog& log = WarningLog()) {
  wal::WalOptions o;
  o.dir = dir;
  o.database_id = test_database_id();
  o.durability = d;
  o.max_batch_delay = std::chrono::milliseconds(1);
  o.on_warning = log.sink();
  return o;
}

// Every record from `from` on, copied out of the replay.
inline Result<std::vector<wal::Record>> replay_records(wal::Wal& w, uint64_t from = 1) {
  std::vector<wal::Record> out;
  Status s = w.replay(from, [&](const wal::FrameView& f) {
    wal::Record r;
    r.type = f.type;
    r.sequence = f.sequence;
    r.timestamp = f.timestamp;
    if (f.dedup_key) r.dedup_key = *f.dedup_key;
    r.payload = std::string(f.payload);
    out.push_back(std::move(r));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

// Opens a WAL or fails the test; the pointer is null on failure.
inline std::unique_ptr<wal::Wal> open_wal_or_fail(wal::WalOptions o) {
  auto w = wal::Wal::open(std::move(o));
  EXPECT_TRUE(w.ok()) << w.status().to_string();
  return w.ok() ? std::move(w).value() : nullptr;
}

// The segment files in `dir`, oldest first, as full paths.
inline std::vector<std::string> segment_paths(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (wal::parse_segment_file_name(e.path().filename().string())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tidal::testing
