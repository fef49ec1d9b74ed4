// What every newer subcommand does with its command line before its own
// work: --help/-h, unknown flags, the data folder, and switches.
//
// Args reads `--flag word` as a flag with the value `word`, so a switch (a
// flag that takes no value) followed by an operand, as in
// `tidal query --explain "RANK items BY hot"`, swallows the operand.
// operands() gives such words back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli_commands.h"

namespace tidal::cli {

// Prints `usage` to stdout and returns true when --help or -h is given.
bool help_requested(const Args& args, const char* usage);

// Returns true, after printing "unknown option X (see --help)" to stderr,
// when a flag not in `known` is given, or a word that looks like a
// single-dash option (-x; "-" alone is an operand and -h asks for help).
bool has_unknown_flag(const Args& args, const std::vector<std::string>& known);

// The operands: the positional words (without -h), each word Args attached
// to one of `switches` first, in the order the switches were given.
std::vector<std::string> operands(const Args& args, const std::vector<std::string>& switches);

// The value of a flag that needs one: nullopt when the flag is absent;
// prints an error and sets *bad when it is given without a value.
std::optional<std::string> flag_value(const Args& args, const std::string& flag, bool* bad);

// --data DIR; prints an error and returns nullopt when it is missing.
std::optional<std::string> data_dir(const Args& args);

}  // namespace tidal::cli
