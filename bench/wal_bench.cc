// wal_bench: append throughput and commit latency of the write-ahead log per
// durability mode and writer count, the disk's raw fdatasync rate for the same
// write sizes (the physical limit of fsync mode), single-writer throughput in
// `none` mode, and replay speed.
//
//   wal_bench [--quick] [folder]   (default folder: a fresh one under $TMPDIR or /tmp)
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/bench_report.h"
#include "wal/wal.h"

namespace tidal::bench {
namespace {

constexpr size_t kPayloadBytes = 64;
constexpr size_t kFrameBytes = 30 + kPayloadBytes;  // frame header and fixed body: 30 bytes
constexpr const char* kTargets =
    "targets: fsync >=16 writers >= 90% of batch x syncs/s; none >= 2M rec/s (1 core, 64 B); "
    "replay >= 2M rec/s";

struct RunResult {
  double seconds = 0;
  uint64_t appends = 0;
  std::vector<double> latencies_us;
  wal::WalStats stats;
};

wal::WalOptions bench_options(const std::string& dir, wal::Durability d) {
  wal::WalOptions o;
  o.dir = dir;
  o.database_id.fill(0x42);
  o.durability = d;
  return o;
}

std::string payload_of(uint64_t n) {
  std::string p = std::to_string(n) + ":";
  p.resize(kPayloadBytes, 'x');
  return p;
}

// `writers` threads append 64-byte records for `seconds`, timing each append.
RunResult run_appends(const std::string& dir, wal::Durability d, int writers, double seconds) {
  std::filesystem::remove_all(dir);
  auto w = wal::Wal::open(bench_options(dir, d));
  if (!w.ok()) {
    std::fprintf(stderr, "wal_bench: %s\n", w.status().to_string().c_str());
    std::exit(1);
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(writers));
  std::vector<std::thread> threads;
  double start = now_seconds();
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = lat[static_cast<size_t>(t)];
      mine.reserve(1 << 16);
      for (uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        std::string p = payload_of(n * 64 + static_cast<uint64_t>(t));
        double t0 = now_seconds();
        Result<wal::AppendResult> r =
            (*w)->append({wal::RecordType::kSignalEvent, Timestamp(), p, std::nullopt});
        double t1 = now_seconds();
        if (!r.ok()) {
          std::fprintf(stderr, "wal_bench: %s\n", r.status().to_string().c_str());
          std::exit(1);
        }
        mine.push_back((t1 - t0) * 1e6);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  RunResult r;
  r.seconds = now_seconds() - start;
  r.stats = (*w)->stats();
  for (auto& v : lat) r.latencies_us.insert(r.latencies_us.end(), v.begin(), v.end());
  r.appends = r.latencies_us.size();
  (void)(*w)->close();
  return r;
}

// The disk's fdatasync rate for `write_bytes`-sized appends to a growing file
// in `dir`: the most syncs per second any fsync-mode writer could do.
double raw_syncs_per_second(const std::string& dir, size_t write_bytes, double seconds) {
  std::string path = dir + "/raw-sync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("wal_bench: open probe");
    std::exit(1);
  }
  std::string block(std::max<size_t>(write_bytes, 1), 'r');
  uint64_t syncs = 0;
  double start = now_seconds();
  double end = start + seconds;
  double now = start;
  while (now < end) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror("wal_bench: probe write");
      std::exit(1);
    }
    ++syncs;
    now = now_seconds();
  }
  ::close(fd);
  std::filesystem::remove(path);
  return static_cast<double>(syncs) / (now - start);
}

// Single writer, no per-append timing: the figure the `none` target is about.
double none_single_writer_rate(const std::string& dir, uint64_t records) {
  std::filesystem::remove_all(dir);
  auto w = wal::Wal::open(bench_options(dir, wal::Durability::kNone));
  if (!w.ok()) std::exit(1);
  std::vector<std::string> payloads;
  for (uint64_t n = 0; n < 1024; ++n) payloads.push_back(payload_of(n));
  double start = now_seconds();
  for (uint64_t n = 0; n < records; ++n) {
    Result<wal::AppendResult> r = (*w)->append(
        {wal::RecordType::kSignalEvent, Timestamp(), payloads[n & 1023], std::nullopt});
    if (!r.ok()) std::exit(1);
  }
  double appended = now_seconds() - start;
  (void)(*w)->close();  // writes and syncs the rest; not part of the figure
  return static_cast<double>(records) / appended;
}

std::string mode_tag(wal::Durability d, int writers) {
  return std::string(wal::durability_name(d)) + "_" + std::to_string(writers) + "w";
}

int run(int argc, char** argv) {
  BenchArgs args = parse_bench_args(argc, argv, "wal_bench [--quick | --smoke] [folder]");
  const double per_run = args.sized(3.0, 0.4, 0.05);
  const double probe = args.sized(2.0, 0.4, 0.05);
  const uint64_t none_records = args.sized<uint64_t>(10'000'000, 2'000'000, 20'000);

  std::string base;
  if (!args.rest.empty()) {
    base = args.rest[0] + "/wal-bench";
    std::filesystem::create_directories(base);
  } else {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/tidal-wal-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    base = tmpl;
  }
  const std::string dir = base + "/wal";
  std::printf("wal_bench: folder %s, %zu-byte payloads, %.1f s per run%s\n", base.c_str(),
              kPayloadBytes, per_run, args.mode_flag());

  BenchReport appends("wal_bench");
  appends.add("targets", 0, "-", kTargets);
  BenchReport limits("wal_bench");
  limits.add("targets", 0.9, "ratio", kTargets);
  for (wal::Durability d :
       {wal::Durability::kFsync, wal::Durability::kBatch, wal::Durability::kNone}) {
    for (int writers : {1, 4, 16}) {
      // The disk's sync rate drifts (shared machines, other load): probe it
      // right before and right after the fsync run and use the mean.
      const size_t probe_bytes = kFrameBytes * static_cast<size_t>(writers);
      double raw_before =
          d == wal::Durability::kFsync ? raw_syncs_per_second(base, probe_bytes, probe) : 0;
      RunResult r = run_appends(dir, d, writers, per_run);
      std::string tag = mode_tag(d, writers);
      double rate = static_cast<double>(r.appends) / r.seconds;
      appends.add(tag + "_appends", rate, "rec/s");
      appends.add(tag + "_p50", percentile(r.latencies_us, 50), "us");
      appends.add(tag + "_p99", percentile(r.latencies_us, 99), "us");
      if (d != wal::Durability::kFsync) continue;
      // Syncs include one per segment created; batches are the write(2)s.
      double per_sync = static_cast<double>(r.stats.appended) / static_cast<double>(r.stats.syncs);
      size_t write_bytes = r.stats.batches ? r.stats.bytes_written / r.stats.batches : 0;
      double raw_after = raw_syncs_per_second(base, write_bytes, probe);
      double raw = (raw_before + raw_after) / 2;
      double limit = per_sync * raw;
      limits.add(tag + "_records_per_sync", per_sync, "rec");
      limits.add(tag + "_raw_fdatasync", raw, "syncs/s",
                 "mean of before (" + std::to_string(static_cast<int>(raw_before)) + ", " +
                     std::to_string(probe_bytes) + " B writes) and after (" +
                     std::to_string(static_cast<int>(raw_after)) + ", " +
                     std::to_string(write_bytes) + " B = mean batch) the run");
      limits.add(tag + "_physical_limit", limit, "rec/s", "records/sync x raw syncs/s");
      limits.add(tag + "_achieved", rate, "rec/s");
      limits.add(tag + "_ratio", rate / limit, "ratio",
                 writers >= 16 ? (rate / limit >= 0.9 ? "meets >= 0.9" : "below 0.9") : "");
    }
  }

  BenchReport single("wal_bench");
  single.add("targets", 2e6, "rec/s", kTargets);
  double none_rate = none_single_writer_rate(dir, none_records);
  single.add("none_1w_untimed_appends", none_rate, "rec/s",
             none_rate >= 2e6 ? "meets >= 2M" : "below 2M");
  {
    double t0 = now_seconds();
    auto w = wal::Wal::open(bench_options(dir, wal::Durability::kNone));
    double opened = now_seconds() - t0;
    if (!w.ok()) return 1;
    uint64_t n = 0;
    uint64_t bytes = 0;
    double t1 = now_seconds();
    Status s = (*w)->replay(1, [&](const wal::FrameView& f) {
      ++n;
      bytes += f.payload.size();
      return Status::Ok();
    });
    double replayed = now_seconds() - t1;
    if (!s.ok() || n != none_records) {
      std::fprintf(stderr, "wal_bench: replay: %s (%llu records)\n", s.to_string().c_str(),
                   static_cast<unsigned long long>(n));
      return 1;
    }
    single.add("replay", static_cast<double>(n) / replayed, "rec/s",
               static_cast<double>(n) / replayed >= 2e6 ? "meets >= 2M" : "below 2M");
    single.add("recovery_open", static_cast<double>(n) / opened, "rec/s",
               "open(): scan + checksum every frame");
  }

  appends.print();
  limits.print();
  single.print();
  std::filesystem::remove_all(base);
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run(argc, argv);
}
