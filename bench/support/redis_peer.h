// The Redis peer of the benchmarks that run one (signal_bench, cohort_bench):
// redis-server started in a fresh folder on a free loopback port (appendonly,
// appendfsync everysec) and a hiredis connection. Any error ends the program
// (a benchmark has no recovery to offer). Needs hiredis (TIDAL_HAVE_HIREDIS).
#pragma once

#ifdef TIDAL_HAVE_HIREDIS

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace tidal::bench::redis_peer {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "redis peer: %s\n", what.c_str());
  std::exit(1);
}

inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    die("no free loopback port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

using RedisReply = std::unique_ptr<redisReply, void (*)(void*)>;

// One connection; dies on any error (a benchmark has no recovery to offer).
class RedisConnection {
 public:
  explicit RedisConnection(int port) : c_(redisConnect("127.0.0.1", port)) {
    if (c_ == nullptr || c_->err) die("redis connect: " + std::string(c_ ? c_->errstr : "oom"));
  }
  ~RedisConnection() { redisFree(c_); }
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void append(const std::vector<std::string>& argv) {
    std::vector<const char*> a;
    std::vector<size_t> l;
    for (const std::string& s : argv) {
      a.push_back(s.data());
      l.push_back(s.size());
    }
    append(a.size(), a.data(), l.data());
  }
  void append(size_t argc, const char** argv, const size_t* lens) {
    if (redisAppendCommandArgv(c_, static_cast<int>(argc), argv, lens) != REDIS_OK) {
      die("redis append: " + std::string(c_->errstr));
    }
  }
  RedisReply reply() {
    void* r = nullptr;
    if (redisGetReply(c_, &r) != REDIS_OK || r == nullptr) die("redis: " + std::string(c_->errstr));
    RedisReply out(static_cast<redisReply*>(r), freeReplyObject);
    if (out->type == REDIS_REPLY_ERROR) die("redis: " + std::string(out->str, out->len));
    return out;
  }
  // Sends what was appended and ignores the outcome.
  void drain() {
    void* r = nullptr;
    if (redisGetReply(c_, &r) == REDIS_OK && r != nullptr) freeReplyObject(r);
  }
  RedisReply command(const std::vector<std::string>& argv) {
    append(argv);
    return reply();
  }

 private:
  redisContext* c_;
};

// redis-server in a fresh folder on a free loopback port; shut down (NOSAVE)
// and the folder removed by stop().
class RedisServer {
 public:
  explicit RedisServer(const std::string& dir) : dir_(dir), port_(free_loopback_port()) {
    std::filesystem::create_directories(dir_);
    std::string port = std::to_string(port_);
    std::string log = dir_ + "/redis.log";
    pid_ = ::fork();
    if (pid_ < 0) die("fork");
    if (pid_ == 0) {
      ::execl(kRedisServer, "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
              "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--dir",
              dir_.c_str(), "--logfile", log.c_str(), "--daemonize", "no",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500; ++i) {
      redisContext* c = redisConnect("127.0.0.1", port_);
      bool up = c != nullptr && c->err == 0;
      redisFree(c);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    die("redis-server did not start (see " + log + ")");
  }

  int port() const { return port_; }

  void stop() {
    if (pid_ <= 0) return;
    {
      RedisConnection c(port_);
      c.append({"SHUTDOWN", "NOSAVE"});
      c.drain();  // the server closes the connection instead of answering
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    std::filesystem::remove_all(dir_);
  }

  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      std::filesystem::remove_all(dir_);
    }
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace tidal::bench::redis_peer

#endif  // TIDAL_HAVE_HIREDIS
