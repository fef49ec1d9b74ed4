// `tidal bench`: runs the benchmark programs built beside the binary and
// gathers the figures they report.
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_usage.h"

namespace tidal::cli {

namespace {

namespace fs = std::filesystem;

// $TIDAL_BENCH_DIR, else bench/ in the folder of the running binary (where
// the bench/ CMake folder puts its programs, beside build/tidal).
fs::path bench_dir() {
  if (const char* env = std::getenv("TIDAL_BENCH_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("bench") : self.parent_path() / "bench";
}

// The executables named *_bench in `dir`, by name.
std::vector<fs::path> bench_programs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 6 && name.ends_with("_bench") && e.is_regular_file(ec) &&
        access(e.path().c_str(), X_OK) == 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Figure {
  std::string bench, metric, value, unit;
};

// A `BENCH {"bench":...,"metric":...,"value":...,"unit":...}` line's figure.
std::optional<Figure> parse_bench_line(std::string_view line, simdjson::dom::parser& parser) {
  constexpr std::string_view kPrefix = "BENCH ";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  simdjson::dom::object obj;
  if (parser.parse(line.data(), line.size()).get(obj) != simdjson::SUCCESS) return std::nullopt;
  Figure f;
  std::string_view s;
  if (obj["bench"].get(s) == simdjson::SUCCESS) f.bench = s;
  if (obj["metric"].get(s) == simdjson::SUCCESS) f.metric = s;
  if (obj["unit"].get(s) == simdjson::SUCCESS) f.unit = s;
  double v;
  if (obj["value"].get(v) == simdjson::SUCCESS) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    f.value = buf;
  }
  return f;
}

// Runs one program with its output (stdout and stderr) streamed to stdout;
// adds its BENCH figures to *figures. Returns "" when it succeeded, else
// how it failed.
std::string run_program(const fs::path& program, bool full, std::vector<Figure>* figures) {
  int fds[2];
  if (pipe(fds) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::string path = program.string();
    std::vector<char*> argv = {path.data()};
    char quick[] = "--quick";
    if (!full) argv.push_back(quick);
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", path.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::FILE* out = fdopen(fds[0], "r");
  simdjson::dom::parser parser;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, out)) > 0) {
    std::fwrite(line, 1, static_cast<size_t>(n), stdout);
    std::fflush(stdout);
    std::string_view text(line, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (std::optional<Figure> f = parse_bench_line(text, parser)) figures->push_back(*f);
  }
  std::free(line);
  std::fclose(out);
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return std::string("waitpid: ") + std::strerror(errno);
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ? "" : "exit status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "ended abnormally";
}

}  // namespace

int run_bench(const Args& args) {
  static const char* kUsage =
      "usage: tidal bench [--full] [--only NAME]\n"
      "\n"
      "Runs the benchmark programs (the *_bench executables in bench/ beside the\n"
      "tidal binary, as a build with -DTIDAL_BUILD_BENCH=ON makes them, or in\n"
      "$TIDAL_BENCH_DIR) one after another in --quick mode, streaming their output,\n"
      "then prints every figure they reported (their BENCH lines) as one table and\n"
      "names the programs that failed. Exit status 1 when one failed or none was\n"
      "found.\n"
      "\n"
      "  --full        run the full-size benchmarks instead (minutes to hours)\n"
      "  --only NAME   run only this program (e.g. wal_bench, or wal)\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--full", "--only", "--help"})) return 2;
  bool bad = false;
  std::optional<std::string> only = flag_value(args, "--only", &bad);
  if (bad) return 2;
  if (!operands(args, {"--full"}).empty()) {
    std::fprintf(stderr, "tidal: bench takes no operands (see --help)\n");
    return 2;
  }
  bool full = args.has("--full");
  fs::path dir = bench_dir();
  std::vector<fs::path> programs = bench_programs(dir);
  if (programs.empty()) {
    std::fprintf(stderr,
                 "tidal: no benchmark programs (*_bench) in %s; build them with "
                 "-DTIDAL_BUILD_BENCH=ON (or point TIDAL_BENCH_DIR at them)\n",
                 dir.c_str());
    return 1;
  }
  if (only) {
    std::string want = only->ends_with("_bench") ? *only : *only + "_bench";
    std::erase_if(programs, [&](const fs::path& p) { return p.filename() != want; });
    if (programs.empty()) {
      std::fprintf(stderr, "tidal: no benchmark program %s in %s\n", want.c_str(), dir.c_str());
      return 1;
    }
  }
  std::vector<Figure> figures;
  std::vector<std::vector<std::string>> failures;
  for (const fs::path& program : programs) {
    std::printf("==> %s%s\n", program.filename().c_str(), full ? "" : " --quick");
    std::string failure = run_program(program, full, &figures);
    if (!failure.empty()) failures.push_back({program.filename().string(), failure});
  }
  std::printf("\n%zu figure%s from %zu program%s:\n", figures.size(),
              figures.size() == 1 ? "" : "s", programs.size(), programs.size() == 1 ? "" : "s");
  std::vector<std::vector<std::string>> rows;
  for (const Figure& f : figures) rows.push_back({f.bench, f.metric, f.value, f.unit});
  print_table({"bench", "metric", "value", "unit"}, rows);
  if (failures.empty()) return 0;
  std::printf("\nFailed:\n");
  print_table({"program", "how"}, failures);
  return 1;
}

}  // namespace tidal::cli
