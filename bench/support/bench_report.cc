#include "support/bench_report.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tidal::bench {

BenchArgs parse_bench_args(int argc, char** argv, const std::string& usage) {
  BenchArgs args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      args.quick = true;
    } else if (std::strcmp(argv[i], "--smoke") == 0) {
      args.quick = true;
      args.smoke = true;
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("%s\n", usage.c_str());
      std::exit(0);
    } else {
      args.rest.emplace_back(argv[i]);
    }
  }
  return args;
}

std::string take_flag(std::vector<std::string>* args, std::string_view prefix,
                      std::string fallback) {
  std::vector<std::string> rest;
  for (std::string& a : *args) {
    if (a.starts_with(prefix)) {
      fallback = a.substr(prefix.size());
    } else {
      rest.push_back(std::move(a));
    }
  }
  *args = std::move(rest);
  return fallback;
}

size_t take_count_flag(std::vector<std::string>* args, std::string_view prefix, size_t fallback,
                       const std::string& bench) {
  const std::string text = take_flag(args, prefix, "");
  if (text.empty()) return fallback;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || n == 0 || text[0] == '-') {
    bench_fail(bench, std::string(prefix) + text + ": must be a positive count");
  }
  return static_cast<size_t>(n);
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double percentile(std::vector<double> sample, double p) {
  if (sample.empty()) return 0;
  std::sort(sample.begin(), sample.end());
  double rank = p / 100.0 * static_cast<double>(sample.size() - 1);
  auto lo = static_cast<size_t>(std::floor(rank));
  auto hi = static_cast<size_t>(std::ceil(rank));
  double frac = rank - static_cast<double>(lo);
  return sample[lo] * (1 - frac) + sample[hi] * frac;
}

std::string meets(bool ok, const std::string& target) {
  return (ok ? "meets " : "MISSES ") + target;
}

double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024;
  }
  return 0;
}

std::string run_this_program(const std::string& arguments) {
  const std::string command = "/proc/" + std::to_string(::getpid()) + "/exe " + arguments + " 2>&1";
  std::string output;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
    ::pclose(p);
  }
  return output;
}

double host_load() {
  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  return load;
}

Latency time_queries(const std::function<void()>& query, size_t n, size_t warmup, double budget_s) {
  double start = now_seconds();
  for (size_t i = 0; i < warmup && now_seconds() - start < budget_s / 6; ++i) query();
  std::vector<double> us;
  us.reserve(n);
  start = now_seconds();
  for (size_t i = 0; i < n && now_seconds() - start < budget_s; ++i) {
    double t0 = now_seconds();
    query();
    us.push_back((now_seconds() - t0) * 1e6);
  }
  return {percentile(us, 50), percentile(us, 99), us.size()};
}

double run_batches(size_t total, size_t batch, int threads,
                   const std::function<void(int thread, size_t begin, size_t end)>& run_batch) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  double start = now_seconds();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (;;) {
        size_t begin = next.fetch_add(batch);
        if (begin >= total) return;
        run_batch(t, begin, std::min(begin + batch, total));
      }
    });
  }
  for (std::thread& w : workers) w.join();
  return now_seconds() - start;
}

void BenchReport::add(const std::string& metric, double value, const std::string& unit,
                      const std::string& note) {
  rows_.push_back({metric, value, unit, note});
}

void BenchReport::print() const {
  size_t w = 6;
  for (const Row& r : rows_) w = std::max(w, r.metric.size());
  std::printf("\n%-*s  %16s  %-8s  %s\n", static_cast<int>(w), "metric", "value", "unit", "note");
  std::printf("%s\n", std::string(w + 40, '-').c_str());
  for (const Row& r : rows_) {
    std::printf("%-*s  %16.3f  %-8s  %s\n", static_cast<int>(w), r.metric.c_str(), r.value,
                r.unit.c_str(), r.note.c_str());
  }
  std::printf("\n");
  for (const Row& r : rows_) {
    std::printf("BENCH {\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n",
                bench_.c_str(), r.metric.c_str(), r.value, r.unit.c_str());
  }
  std::fflush(stdout);
}

void bench_fail(const std::string& bench, const std::string& what, const std::string& work) {
  std::fprintf(stderr, "%s: %s\n", bench.c_str(), what.c_str());
  if (!work.empty()) std::filesystem::remove_all(work);
  std::exit(1);
}

std::string bench_folder(const BenchArgs& args, const std::string& name) {
  if (!args.rest.empty()) {
    std::string base = args.rest[0] + "/" + name;
    std::filesystem::remove_all(base);
    std::filesystem::create_directories(base);
    return base;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/tidal-" + name + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "%s: cannot make a folder from %s: %s\n", name.c_str(), tmpl.c_str(),
                 std::strerror(errno));
    std::exit(1);
  }
  return tmpl;
}

}  // namespace tidal::bench
