#include "support/crash_pipe.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string run_until_killed(size_t record_size, const std::function<void(int fd)>& child,
                             const std::function<void(const char* record)>& on_record,
                             std::chrono::steady_clock::time_point kill_at) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1]);
    ::_exit(6);  // the child must not return
  }
  ::close(fds[1]);
  std::string problem;
  if (!read_pipe_records(fds[0], record_size, on_record, kill_at)) problem = "a partial record";
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // The records written before the kill.
  if (!read_pipe_records(fds[0], record_size, on_record, std::nullopt))
    problem = "a partial record";
  ::close(fds[0]);
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    problem = "the child ended on its own (status " + std::to_string(status) + ")";
  }
  return problem;
}

void child_fail(const Status& s, int code) {
  std::fprintf(stderr, "child: %s\n", s.to_string().c_str());
  ::_exit(code);
}

std::unique_ptr<Database> open_child_database(const std::string& dir, const Schema& schema) {
  auto opened = Database::open(dir, schema, crash_database_options());
  if (!opened.ok()) child_fail(opened.status(), 3);
  return std::move(opened).value();
}

}  // namespace tidal::testing
