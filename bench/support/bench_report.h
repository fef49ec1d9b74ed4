// What every benchmark program shares: the --quick flag, timing, percentiles,
// a human table, and one machine-readable line per figure:
//   BENCH {"bench":"storage_bench","metric":"rocksdb_put","value":123.4,"unit":"ops/s"}
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tidal::bench {

struct BenchArgs {
  bool quick = false;
  std::vector<std::string> rest;  // arguments the common parser did not consume
};

// Understands --quick and --help (prints `usage` and exits).
BenchArgs parse_bench_args(int argc, char** argv, const std::string& usage);

// Seconds since an arbitrary point, monotonic, double precision.
double now_seconds();

// p in [0, 100]; sorts a copy. Returns 0 for an empty sample.
double percentile(std::vector<double> sample, double p);

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
