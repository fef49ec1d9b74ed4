// The pipe a crash test's child reports acknowledged writes through: fixed-
// size records (at most PIPE_BUF bytes, so each write(2) is atomic), read by
// the parent until a deadline or until the child is gone.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

namespace tidal::testing {

// Reads whole `record_size`-byte records from `fd` and hands each to
// `on_record`, until `deadline` (or EOF when it is nullopt). Returns false
// when a partial record was left in the pipe.
bool read_pipe_records(int fd, size_t record_size,
                       const std::function<void(const char* record)>& on_record,
                       std::optional<std::chrono::steady_clock::time_point> deadline);

}  // namespace tidal::testing
