#include <algorithm>

#include "cli_commands.h"

namespace tidal::cli {

Args::Args(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      flags_.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      flags_.emplace_back(a, argv[++i]);
    } else {
      flags_.emplace_back(a, "");
    }
  }
}

bool Args::has(const std::string& flag) const {
  return std::any_of(flags_.begin(), flags_.end(), [&](const auto& f) { return f.first == flag; });
}

std::optional<std::string> Args::value(const std::string& flag) const {
  for (const auto& f : flags_) {
    if (f.first == flag) return f.second;
  }
  return std::nullopt;
}

std::optional<std::string> Args::unknown(const std::vector<std::string>& known) const {
  for (const auto& f : flags_) {
    if (std::find(known.begin(), known.end(), f.first) == known.end()) return f.first;
  }
  return std::nullopt;
}

}  // namespace tidal::cli
