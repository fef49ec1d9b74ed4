#include "crash/fault_injection.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>

namespace tidal::testing {
namespace {

std::atomic<bool> g_armed{false};
std::atomic<uint64_t> g_injected{0};
std::mutex g_mu;
FaultRule g_rule;
int g_skipped = 0;
int g_failed = 0;
bool g_partial_done = false;  // the partial write of the failing call happened

std::string fd_path(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[4096];
  ssize_t n = ::readlink(link, buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

enum class Verdict { kPass, kFail, kPartial };

// Whether this call, on `path`, must fail (or first write part of its bytes).
Verdict decide(FaultOp op, const std::string& path) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_armed.load() || g_rule.op != op) return Verdict::kPass;
  if (!g_rule.path.empty() && path.find(g_rule.path) == std::string::npos) return Verdict::kPass;
  if (g_skipped < g_rule.skip) {
    ++g_skipped;
    return Verdict::kPass;
  }
  if (g_rule.times >= 0 && g_failed >= g_rule.times) return Verdict::kPass;
  if (op == FaultOp::kWrite && g_rule.partial && !g_partial_done) {
    g_partial_done = true;
    return Verdict::kPartial;
  }
  ++g_failed;
  g_partial_done = false;
  g_injected.fetch_add(1);
  return Verdict::kFail;
}

template <typename Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

void Faults::arm(const FaultRule& rule) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_rule = rule;
  g_skipped = 0;
  g_failed = 0;
  g_partial_done = false;
  g_armed.store(true);
}

void Faults::disarm() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_armed.store(false);
}

uint64_t Faults::injected() {
  return g_injected.load();
}

}  // namespace tidal::testing

using tidal::testing::FaultOp;
using tidal::testing::Verdict;

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static auto next = tidal::testing::real<ssize_t (*)(int, const void*, size_t)>("write");
  if (tidal::testing::g_armed.load(std::memory_order_relaxed) && fd > 2) {
    switch (tidal::testing::decide(FaultOp::kWrite, tidal::testing::fd_path(fd))) {
      case Verdict::kPass: break;
      case Verdict::kPartial:
        if (n > 1) return next(fd, buf, n / 2);
        break;
      case Verdict::kFail: errno = tidal::testing::g_rule.err; return -1;
    }
  }
  return next(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  static auto next = tidal::testing::real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (tidal::testing::g_armed.load(std::memory_order_relaxed) && fd > 2) {
    switch (tidal::testing::decide(FaultOp::kWrite, tidal::testing::fd_path(fd))) {
      case Verdict::kPass: break;
      case Verdict::kPartial:
        if (n > 1) return next(fd, buf, n / 2, offset);
        break;
      case Verdict::kFail: errno = tidal::testing::g_rule.err; return -1;
    }
  }
  return next(fd, buf, n, offset);
}

int fdatasync(int fd) {
  static auto next = tidal::testing::real<int (*)(int)>("fdatasync");
  if (tidal::testing::g_armed.load(std::memory_order_relaxed) &&
      tidal::testing::decide(FaultOp::kSync, tidal::testing::fd_path(fd)) == Verdict::kFail) {
    errno = tidal::testing::g_rule.err;
    return -1;
  }
  return next(fd);
}

int fsync(int fd) {
  static auto next = tidal::testing::real<int (*)(int)>("fsync");
  if (tidal::testing::g_armed.load(std::memory_order_relaxed) &&
      tidal::testing::decide(FaultOp::kSync, tidal::testing::fd_path(fd)) == Verdict::kFail) {
    errno = tidal::testing::g_rule.err;
    return -1;
  }
  return next(fd);
}

int rename(const char* from, const char* to) {
  static auto next = tidal::testing::real<int (*)(const char*, const char*)>("rename");
  if (tidal::testing::g_armed.load(std::memory_order_relaxed) &&
      tidal::testing::decide(FaultOp::kRename, std::string(from) + " -> " + to) == Verdict::kFail) {
    errno = tidal::testing::g_rule.err;
    return -1;
  }
  return next(from, to);
}

int ftruncate(int fd, off_t length) {
  static auto next = tidal::testing::real<int (*)(int, off_t)>("ftruncate");
  if (tidal::testing::g_armed.load(std::memory_order_relaxed) &&
      tidal::testing::decide(FaultOp::kTruncate, tidal::testing::fd_path(fd)) == Verdict::kFail) {
    errno = tidal::testing::g_rule.err;
    return -1;
  }
  return next(fd, length);
}

}  // extern "C"
