// A real `tidal serve` (or `tidal demo`) child process on a loopback port, and
// a minimal HTTP/1.1 client for talking to it: one request per connection,
// raw bytes available for malformed-request tests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace tidal::testing {

struct HttpReply {
  int status = 0;  // 0: no reply (connection refused or closed early)
  std::string body;
};

// Sends `raw` to 127.0.0.1:port and reads until the server closes.
inline HttpReply http_raw(uint16_t port, const std::string& raw) {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  size_t sent = 0;
  while (sent < raw.size()) {
    ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (in.rfind("HTTP/1.1 ", 0) != 0 || in.size() < 12) return reply;
  reply.status = std::atoi(in.c_str() + 9);
  size_t body = in.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = in.substr(body + 4);
  return reply;
}

// One request; `headers` are full header lines without CRLF.
inline HttpReply http(uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body = "", const std::vector<std::string>& headers = {}) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& h : headers) raw += h + "\r\n";
  raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return http_raw(port, raw);
}

// `tidal <args>` with stdout and stderr on a pipe; start() waits for the
// "listening on http://127.0.0.1:PORT" line.
class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  // Returns false (and output() says why) when the server did not report
  // listening within `timeout`.
  bool start(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
             std::chrono::seconds timeout = std::chrono::seconds(60)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    std::string binary = (binary_dir() / "tidal").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(binary.c_str()));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string marker = "listening on http://127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
      if (!read_some(200)) {
        if (exited()) return false;
        continue;
      }
      size_t at = output_.find(marker);
      if (at != std::string::npos && output_.find('\n', at) != std::string::npos) {
        port_ = static_cast<uint16_t>(std::atoi(output_.c_str() + at + marker.size()));
        return port_ != 0;
      }
    }
    return false;
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for the process to end; its exit status, or -1 when it was killed
  // by a signal or did not end within `timeout` (then it is killed).
  int wait(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      read_some(50);
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        while (read_some(0)) {
        }
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }

  // Everything the process printed so far.
  const std::string& output() {
    while (read_some(0)) {
    }
    return output_;
  }

 private:
  bool read_some(int timeout_ms) {
    if (out_ < 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  bool exited() {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  uint16_t port_ = 0;
  std::string output_;
};

}  // namespace tidal::testing
