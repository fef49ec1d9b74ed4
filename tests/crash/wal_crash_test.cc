// The real crash test: a child process appends with fsync durability from
// several threads and is killed with SIGKILL at a random moment; the parent
// then recovers the WAL and checks that every record the child was told was
// durable is there, intact, with gapless sequence numbers. Each iteration
// reuses the folder, so recovery also runs on the state the previous crash
// (and the previous recovery) left.
//
// TIDAL_CRASH_ITERATIONS overrides the number of kills (scripts/crash-soak.sh
// runs thousands); TIDAL_CRASH_SEED overrides the random seed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "core/hash.h"
#include "support/crash_pipe.h"
#include "support/test_support.h"
#include "support/wal_testing.h"
#include "wal/wal.h"

namespace tidal::wal {
namespace {

constexpr int kWriterThreads = 4;

// What the child reports for each acknowledged record, through a pipe. 16
// bytes, so each write(2) to the pipe is atomic.
struct Ack {
  uint64_t sequence;
  uint64_t checksum;
};

WalOptions crash_options(const std::string& dir) {
  WalOptions o = testing::wal_test_options(dir, Durability::kFsync);
  o.segment_bytes = 16 << 10;  // small, so kills also land around segment rolls
  return o;
}

// Runs in the forked child: appends until killed. Never returns.
[[noreturn]] void run_child(const std::string& dir, int ack_fd, uint64_t seed) {
  auto w = Wal::open(crash_options(dir));
  if (!w.ok()) {
    std::fprintf(stderr, "child: %s\n", w.status().to_string().c_str());
    _exit(3);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriterThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(t));
      for (uint64_t n = 0;; ++n) {
        std::string payload = "seed " + std::to_string(seed) + " thread " + std::to_string(t) +
                              " n " + std::to_string(n) + " ";
        payload.resize(payload.size() + rng() % 200, static_cast<char>('a' + rng() % 26));
        Result<AppendResult> r = (*w)->append(
            {RecordType::kCustom, from_micros(static_cast<int64_t>(n)), payload, std::nullopt});
        if (!r.ok()) {
          std::fprintf(stderr, "child: %s\n", r.status().to_string().c_str());
          _exit(4);
        }
        Ack ack{r->sequence, blake3_64(payload)};
        if (::write(ack_fd, &ack, sizeof(ack)) != sizeof(ack)) _exit(5);
      }
    });
  }
  for (;;) ::pause();
}

// Reads whatever acks are in the pipe until `deadline` (or EOF when deadline
// is nullopt).
void read_acks(int fd, std::map<uint64_t, uint64_t>* acked,
               std::optional<std::chrono::steady_clock::time_point> deadline) {
  bool whole = testing::read_pipe_records(
      fd, sizeof(Ack),
      [&](const char* record) {
        Ack a;
        std::memcpy(&a, record, sizeof(a));
        auto [it, fresh] = acked->emplace(a.sequence, a.checksum);
        EXPECT_TRUE(fresh) << "sequence " << a.sequence << " acknowledged twice";
      },
      deadline);
  EXPECT_TRUE(whole) << "a partial ack in the pipe";
}

TEST(WalCrashTest, AcknowledgedRecordsSurviveSigkill) {
  const uint64_t iterations = testing::env_or("TIDAL_CRASH_ITERATIONS", 50);
  const uint64_t seed = testing::env_or("TIDAL_CRASH_SEED", 20240611);
  std::printf("crash test: %llu iterations, seed %llu\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed));
  testing::TempDir dir;
  std::mt19937_64 rng(seed);
  // Every record acknowledged to the child, and every record recovery has
  // ever shown (acknowledged or not): both must survive every later crash.
  std::map<uint64_t, uint64_t> acked;
  std::map<uint64_t, uint64_t> seen;
  uint64_t acked_total = 0;
  uint64_t torn_tails = 0;
  uint64_t unacked_survivors = 0;

  for (uint64_t it = 0; it < iterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      run_child(dir.str(), fds[1], seed + it);
    }
    ::close(fds[1]);
    auto kill_at =
        std::chrono::steady_clock::now() + std::chrono::microseconds(3000 + rng() % 97000);
    std::map<uint64_t, uint64_t> fresh;
    read_acks(fds[0], &fresh, kill_at);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    read_acks(fds[0], &fresh, std::nullopt);  // acks written before the kill
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own (status " << status << ")";
    for (const auto& [s, c] : fresh) {
      ASSERT_TRUE(acked.emplace(s, c).second) << "sequence " << s << " was reused";
    }
    acked_total += fresh.size();

    auto w = Wal::open(crash_options(dir.str()));
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    torn_tails += (*w)->recovery_report().torn_bytes > 0;
    std::map<uint64_t, uint64_t> now;
    const uint64_t first = (*w)->first_retained_sequence();
    uint64_t expected = first;
    Status s = (*w)->replay(first, [&](const FrameView& f) {
      if (f.sequence != expected) {
        return Status::Internal(Subsystem::kWal, "gap: sequence " + std::to_string(f.sequence) +
                                                     ", expected " + std::to_string(expected));
      }
      ++expected;
      now.emplace(f.sequence, blake3_64(f.payload));
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.to_string();
    for (const auto& [seq, sum] : acked) {
      auto found = now.find(seq);
      ASSERT_NE(found, now.end()) << "acknowledged sequence " << seq << " is lost";
      ASSERT_EQ(found->second, sum) << "acknowledged sequence " << seq << " has another payload";
    }
    for (const auto& [seq, sum] : seen) {
      auto found = now.find(seq);
      ASSERT_NE(found, now.end()) << "recovered sequence " << seq << " vanished later";
      ASSERT_EQ(found->second, sum) << "recovered sequence " << seq << " changed";
    }
    for (const auto& [seq, sum] : now)
      unacked_survivors += !acked.contains(seq) && !seen.contains(seq);
    seen = std::move(now);
    // Now and then derived state "catches up": checkpoint everything so old
    // segments are deleted. Keeps each iteration's replay short, and puts a
    // checkpoint and a truncated WAL under the next crashes.
    if (it % 5 == 4) {
      const uint64_t last = (*w)->last_sequence();
      ASSERT_TRUE((*w)->checkpoint(last).ok());
      const uint64_t kept = (*w)->first_retained_sequence();
      ASSERT_LE(kept, last + 1);
      acked.erase(acked.begin(), acked.lower_bound(kept));
      seen.erase(seen.begin(), seen.lower_bound(kept));
    }
    // The parent must have no threads of its own when it forks again.
    ASSERT_TRUE((*w)->close().ok());
  }
  std::printf(
      "crash test: %llu records acknowledged, %llu unacknowledged survivors, %llu torn "
      "tails truncated\n",
      static_cast<unsigned long long>(acked_total),
      static_cast<unsigned long long>(unacked_survivors),
      static_cast<unsigned long long>(torn_tails));
  EXPECT_GT(acked_total, iterations);  // the children did real work
}

}  // namespace
}  // namespace tidal::wal
