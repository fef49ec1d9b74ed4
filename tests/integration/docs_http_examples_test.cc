// Every `curl` example of docs/http-api.md, run in order against a real
// `tidal serve` on a new data folder. Each ```sh block must exit 0 and get a
// 2xx — or a 4xx with an "error" body when its first line is
// `# expect: 4xx` — and every body but /metrics must be JSON. The status
// comes from a .curlrc (found through CURL_HOME) that makes every curl print
// it on a line of its own after the body.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "server_process.h"

namespace tidal::testing {
namespace {

using namespace std::chrono_literals;

// The contents of the ```sh blocks of a Markdown text, in order.
std::vector<std::string> sh_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream in(markdown);
  std::string line;
  std::string block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```sh") {
      inside = true;
      block.clear();
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return blocks;
}

struct BashResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `script` with `bash -c` and the given environment assignments prefixed.
BashResult run_bash(const std::string& script, const std::vector<std::string>& env) {
  std::vector<std::string> args = {"/usr/bin/env"};
  args.insert(args.end(), env.begin(), env.end());
  args.insert(args.end(), {"bash", "-c", script});
  int fds[2];
  BashResult run;
  if (::pipe2(fds, O_CLOEXEC) != 0) return run;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) run.output.append(buf, size_t(n));
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  run.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return run;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DocsHttpExamples, EveryCurlExampleWorksAgainstALiveServer) {
  std::filesystem::path doc = std::filesystem::path(TIDAL_SOURCE_DIR) / "docs" / "http-api.md";
  std::vector<std::string> blocks = sh_blocks(read_text(doc));
  ASSERT_GE(blocks.size(), 25u) << "too few ```sh examples in " << doc;

  TempDir dir;
  std::filesystem::path curl_home = dir.path() / "curl";
  std::filesystem::create_directories(curl_home);
  std::ofstream(curl_home / ".curlrc") << "-s\n-w \"\\n%{http_code}\\n\"\n";

  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", (dir.path() / "data").string(), "--port", "0"}))
      << server.output();
  std::vector<std::string> env = {"TIDAL=http://127.0.0.1:" + std::to_string(server.port()),
                                  "CURL_HOME=" + curl_home.string()};

  simdjson::dom::parser parser;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string& block = blocks[i];
    SCOPED_TRACE("example " + std::to_string(i + 1) + ":\n" + block);
    BashResult run = run_bash(block, env);
    ASSERT_EQ(run.exit_code, 0) << "output:\n" << run.output;

    // The last line is the status; the body is everything before it.
    std::string out = run.output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    size_t nl = out.rfind('\n');
    ASSERT_NE(nl, std::string::npos) << "no status line in the output:\n" << run.output;
    int status = std::atoi(out.c_str() + nl + 1);
    std::string body = out.substr(0, nl);

    bool expect_4xx = block.rfind("# expect: 4xx\n", 0) == 0;
    if (expect_4xx) {
      EXPECT_TRUE(status >= 400 && status < 500) << "status " << status << ", output:\n"
                                                 << run.output;
      EXPECT_NE(body.find("\"error\""), std::string::npos) << "output:\n" << run.output;
    } else {
      EXPECT_TRUE(status >= 200 && status < 300) << "status " << status << ", output:\n"
                                                 << run.output;
    }
    if (block.find("/metrics") == std::string::npos) {
      simdjson::dom::element doc_element;
      EXPECT_EQ(parser.parse(body).get(doc_element), simdjson::SUCCESS) << "the body is not JSON:\n"
                                                                        << run.output;
    }
  }

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
}

}  // namespace
}  // namespace tidal::testing
