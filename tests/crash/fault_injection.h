// Fault injection for the crash test binary: this binary defines write(2),
// pwrite(2), fdatasync(2), fsync(2), rename(2) and ftruncate(2) itself, so
// every call — ours (the WAL's FileHandle) and RocksDB's (its SST, manifest
// and WAL writers) — passes through here before reaching the C library. A
// rule makes matching calls fail with a chosen errno, for files whose path
// contains a given text, after skipping a number of matching calls.
//
//   testing::FaultRule rule{.op = testing::FaultOp::kWrite, .path = "/wal/", .err = ENOSPC};
//   testing::Faults::arm(rule);      // the next write to a WAL segment fails
//   ...
//   testing::Faults::disarm();       // the "disk" is fine again
//
// A failing write may first write part of its bytes (`partial`), as a real
// write that runs out of space does. Unarmed, the wrappers cost one relaxed
// atomic load per call.
#pragma once

#include <cstdint>
#include <string>

namespace tidal::testing {

enum class FaultOp : uint8_t { kWrite, kSync, kRename, kTruncate };

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  std::string path;      // a text the file's path contains; empty: any file
  int err = 0;           // the errno the failing calls return
  int skip = 0;          // matching calls that succeed first
  int times = -1;        // how many calls fail after those (-1: every one)
  bool partial = false;  // kWrite: write half the bytes, then fail the rest
};

class Faults {
 public:
  static void arm(const FaultRule& rule);
  static void disarm();
  // Calls that failed because of the armed rule.
  static uint64_t injected();
};

}  // namespace tidal::testing
