// The pipe a crash test's child reports acknowledged writes through: fixed-
// size records (at most PIPE_BUF bytes, so each write(2) is atomic), read by
// the parent until a deadline or until the child is gone.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tidal/database.h"
#include "tidal/options.h"

namespace tidal::testing {

// Reads whole `record_size`-byte records from `fd` and hands each to
// `on_record`, until `deadline` (or EOF when it is nullopt). Returns false
// when a partial record was left in the pipe.
bool read_pipe_records(int fd, size_t record_size,
                       const std::function<void(const char* record)>& on_record,
                       std::optional<std::chrono::steady_clock::time_point> deadline);

// Writes one fixed-size record to the pipe (at most PIPE_BUF bytes, so the
// write is atomic); a child that cannot report exits.
template <typename T>
void send_record(int fd, const T& record) {
  static_assert(sizeof(T) <= 512);
  if (::write(fd, &record, sizeof record) != static_cast<ssize_t>(sizeof record)) ::_exit(5);
}

// What a crash test's child opens its database with: fsync durability (an
// acknowledged write must survive the kill), checkpoints only when the test
// asks, and small WAL segments, so kills also land around segment rolls.
inline DatabaseOptions crash_database_options() {
  DatabaseOptions o;
  o.durability = Durability::kFsync;
  o.background_checkpoints = false;
  o.wal_segment_bytes = 32 << 10;
  return o;
}

// A crash test's child that meets an error it did not expect prints it and
// exits with `code` (the parent then reports a child that ended on its own).
[[noreturn]] void child_fail(const Status& s, int code = 4);

// Opens a crash test child's database with crash_database_options(), or
// exits through child_fail (code 3).
std::unique_ptr<Database> open_child_database(const std::string& dir, const Schema& schema);

// The number in environment variable `name`, or `fallback` when it is unset.
uint64_t env_or(const char* name, uint64_t fallback);

// One round of a crash test: forks a child that runs `child(fd)` — which
// must never return, and reports through `fd` in records of `record_size`
// bytes — hands each record to `on_record` until `kill_at`, kills the child
// with SIGKILL, and hands over the records it wrote before it died. Returns
// "" when all went as planned; otherwise what did not (a partial record in
// the pipe, a child that ended on its own).
std::string run_until_killed(size_t record_size, const std::function<void(int fd)>& child,
                             const std::function<void(const char* record)>& on_record,
                             std::chrono::steady_clock::time_point kill_at);

}  // namespace tidal::testing
