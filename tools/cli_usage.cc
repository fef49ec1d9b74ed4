#include "cli_usage.h"

#include <algorithm>
#include <cstdio>

namespace tidal::cli {

bool help_requested(const Args& args, const char* usage) {
  const auto& pos = args.positional();
  if (!args.has("--help") && !args.has("-h") &&
      std::find(pos.begin(), pos.end(), "-h") == pos.end()) {
    return false;
  }
  std::printf("%s", usage);
  return true;
}

bool has_unknown_flag(const Args& args, const std::vector<std::string>& known) {
  std::optional<std::string> unknown = args.unknown(known);
  if (!unknown) {
    for (const std::string& word : args.positional()) {
      if (word.size() > 1 && word[0] == '-' && word != "-h") {
        unknown = word;
        break;
      }
    }
  }
  if (!unknown) return false;
  std::fprintf(stderr, "tidal: unknown option %s (see --help)\n", unknown->c_str());
  return true;
}

std::vector<std::string> operands(const Args& args, const std::vector<std::string>& switches) {
  std::vector<std::string> out;
  for (const std::string& s : switches) {
    std::optional<std::string> attached = args.value(s);
    if (attached && !attached->empty()) out.push_back(*attached);
  }
  for (const std::string& word : args.positional()) {
    if (word != "-h") out.push_back(word);
  }
  return out;
}

std::optional<std::string> flag_value(const Args& args, const std::string& flag, bool* bad) {
  std::optional<std::string> v = args.value(flag);
  if (v && v->empty()) {
    std::fprintf(stderr, "tidal: %s needs a value (see --help)\n", flag.c_str());
    *bad = true;
  }
  return v;
}

std::optional<std::string> data_dir(const Args& args) {
  std::optional<std::string> data = args.value("--data");
  if (!data || data->empty()) {
    std::fprintf(stderr, "tidal: --data DIR is required (the data folder)\n");
    return std::nullopt;
  }
  return data;
}

}  // namespace tidal::cli
