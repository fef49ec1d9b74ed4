#include "support/crash_pipe.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace tidal::testing {

bool read_pipe_records(int fd, size_t record_size,
                       const std::function<void(const char* record)>& on_record,
                       std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::string buf;
  char chunk[4096];
  while (true) {
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: the child is gone
    buf.append(chunk, static_cast<size_t>(got));
    size_t whole = buf.size() / record_size * record_size;
    for (size_t off = 0; off < whole; off += record_size) on_record(buf.data() + off);
    buf.erase(0, whole);
  }
  return buf.empty();
}

}  // namespace tidal::testing
