// Subcommands of the `tidal` binary. Each returns the process exit status:
// 0 success, 1 the operation failed, 2 bad usage.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tidal::cli {

inline constexpr const char* kVersion = "0.1.0";

// Minimal flag parsing: --name value, --name=value and bare --flag.
class Args {
 public:
  Args(int argc, char** argv);
  bool has(const std::string& flag) const;
  std::optional<std::string> value(const std::string& flag) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // The first flag not in `known`, if any (for "unknown option" errors).
  std::optional<std::string> unknown(const std::vector<std::string>& known) const;

 private:
  std::vector<std::pair<std::string, std::string>> flags_;
  std::vector<std::string> positional_;
};

int run_demo(const Args& args);
int run_info(const Args& args);
int run_check(const Args& args);
int run_serve(const Args& args);
int run_key(const Args& args);
int run_query(const Args& args);
int run_shell(const Args& args);
int run_import(const Args& args);
int run_bench(const Args& args);
int run_present(const Args& args);
int run_init(const Args& args);
int run_schema(const Args& args);

}  // namespace tidal::cli
