// Running the real `tidal` binary from a test: its exit status and what it
// printed (stdout and stderr together), and a data folder filled through
// `tidal import` for the commands that read one.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace tidal::testing {

struct CliRun {
  int status = -1;  // the exit status; -1 when it did not exit normally
  std::string output;
};

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Runs `tidal args...` with `input` on stdin (a file, so never a terminal)
// and `env` (NAME=value words) in its environment.
inline CliRun run_tidal(const std::vector<std::string>& args, const std::string& input = "",
                        const std::vector<std::string>& env = {}) {
  static int runs = 0;
  TempDir scratch;
  std::string in = scratch.sub("stdin-" + std::to_string(runs++));
  write_file(in, input);
  std::string cmd;
  for (const std::string& e : env) cmd += e + " ";
  cmd += shell_quote((binary_dir() / "tidal").string());
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += " < " + shell_quote(in) + " 2>&1";
  CliRun run;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) run.output.append(buf, n);
  int status = pclose(p);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Items for the default schema: six rows, two of them bad (line 4: a
// duration that is not a number, in a record whose quoted title spans lines
// 4-5; line 7: too many cells).
inline const char* kItemsCsv =
    "key,title,category,duration,language,creator\n"
    "video_1,\"Cats, Dogs and \"\"Friends\"\"\",music,120,en,studio_a\n"
    "video_2,Midnight Ramen,cooking,300,ja,studio_b\n"
    "video_3,\"Two\n"
    "Lines\",music,abc,en,studio_a\n"
    "video_4,Road Trip,travel,90,es,studio_c\n"
    "video_5,Too,Many,Cells,1,2,3,4\n"
    "video_6,Lazy Cat,pets,45,en,studio_c\n";

// Events: eight non-blank lines; line 4 repeats line 3's idempotency key
// (a duplicate), line 5 is not JSON, line 6 has an unknown field, line 8
// names a signal the schema lacks (rejected by the database).
inline const char* kEventsNdjson =
    "{\"item\":\"video_1\",\"signal\":\"view\",\"user\":\"u1\"}\n"
    "{\"item\":\"video_1\",\"signal\":\"like\",\"user\":\"u1\"}\n"
    "{\"item\":\"video_2\",\"signal\":\"view\",\"user\":\"u2\",\"idempotency_key\":\"k1\"}\n"
    "{\"item\":\"video_2\",\"signal\":\"view\",\"user\":\"u2\",\"idempotency_key\":\"k1\"}\n"
    "{\"item\":\"video_4\",\"signal\":\"view\"\n"
    "{\"item\":\"video_4\",\"signal\":\"view\",\"colour\":\"red\"}\n"
    "\n"
    "{\"item\":\"video_4\",\"signal\":\"nope\"}\n"
    "{\"item\":\"video_1\",\"signal\":\"view\",\"user\":\"u3\"}\n";

}  // namespace tidal::testing
