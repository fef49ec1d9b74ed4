// What every benchmark program shares: the --quick flag, timing, percentiles,
// a human table, and one machine-readable line per figure:
//   BENCH {"bench":"storage_bench","metric":"rocksdb_put","value":123.4,"unit":"ops/s"}
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tidal::bench {

// Three sizes of run: full (the workload's own sizes), --quick (seconds,
// CI-sized figures) and --smoke (tiny sizes, no peer servers: `make test` runs
// every bench this way so that a bench that breaks fails CI; its figures mean
// nothing). --smoke implies quick, so code that only knows quick shrinks too.
struct BenchArgs {
  bool quick = false;
  bool smoke = false;
  std::vector<std::string> rest;  // arguments the common parser did not consume

  // The value for this run's size.
  template <class T>
  T sized(T full, T quick_value, T smoke_value) const {
    return smoke ? smoke_value : quick ? quick_value : full;
  }
  // "", " --quick" or " --smoke", for headers.
  const char* mode_flag() const { return smoke ? " --smoke" : quick ? " --quick" : ""; }
};

// Understands --quick, --smoke and --help (prints `usage` and exits).
BenchArgs parse_bench_args(int argc, char** argv, const std::string& usage);

// Takes every "<prefix><value>" argument (e.g. prefix "--data=") out of
// `args` and returns the last value, or `fallback` when there is none.
std::string take_flag(std::vector<std::string>* args, std::string_view prefix,
                      std::string fallback);

// Takes every "<prefix><n>" argument out of `args` and returns the last n,
// or `fallback` when there is none. Stops the bench (bench_fail) when n is
// not a positive count.
size_t take_count_flag(std::vector<std::string>* args, std::string_view prefix, size_t fallback,
                       const std::string& bench);

// The data folder of a run: <folder>/<name> (emptied first) when the
// arguments name a folder, else a fresh tidal-<name>-XXXXXX under $TMPDIR
// or /tmp. Exits with a message when it cannot be made.
std::string bench_folder(const BenchArgs& args, const std::string& name);

// How every bench stops on an error: prints "<bench>: <what>" to stderr,
// removes `work` (the run's folder) when given, and exits 1.
[[noreturn]] void bench_fail(const std::string& bench, const std::string& what,
                             const std::string& work = "");

// Seconds since an arbitrary point, monotonic, double precision.
double now_seconds();

// p in [0, 100]; sorts a copy. Returns 0 for an empty sample.
double percentile(std::vector<double> sample, double p);

// A note on a figure with a target: "meets <target>" or "MISSES <target>".
std::string meets(bool ok, const std::string& target);

// VmRSS of this process in MiB (0 when unknown).
double rss_mib();

// Runs this program again in a new process (/proc/self/exe) with
// `arguments` (a shell-quoted string) and returns what it printed (stdout
// and stderr). For measurements that need a fresh process, e.g. a restart.
std::string run_this_program(const std::string& arguments);

// The host's 1-minute load average: other work on the machine skews every
// figure, so reports show how busy it was. 0 when unknown.
double host_load();

struct Latency {
  double p50_us = 0;
  double p99_us = 0;
  size_t queries = 0;  // how many were timed
};

// Runs `query` `warmup` times untimed (at most budget_s / 6 seconds), then up
// to `n` times timed, stopping once `budget_s` has passed.
Latency time_queries(const std::function<void()>& query, size_t n, size_t warmup,
                     double budget_s = 1e9);

// `threads` threads take consecutive batches of `batch` of the indexes
// [0, total) in turn (so the work stays close to index order) and hand each to
// `run_batch(thread, begin, end)`. Returns the seconds until all are done.
double run_batches(size_t total, size_t batch, int threads,
                   const std::function<void(int thread, size_t begin, size_t end)>& run_batch);

// Collects figures, prints them as an aligned table and as BENCH lines.
class BenchReport {
 public:
  explicit BenchReport(std::string bench) : bench_(std::move(bench)) {}

  // Records one figure; printed by print().
  void add(const std::string& metric, double value, const std::string& unit,
           const std::string& note = "");
  // Prints the table, then one BENCH line per figure, to stdout.
  void print() const;

 private:
  struct Row {
    std::string metric;
    double value;
    std::string unit;
    std::string note;
  };
  std::string bench_;
  std::vector<Row> rows_;
};

}  // namespace tidal::bench
