// The `tidal` command line: one binary, one subcommand per job.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli_commands.h"

namespace {

void print_usage() {
  std::printf(
      "usage: tidal <command> [options]\n"
      "\n"
      "commands:\n"
      "  demo     create a data folder with the default schema and show what it holds\n"
      "  info     show a data folder's format, schema and storage\n"
      "  check    verify a data folder's WAL and storage; exit status 0 when intact\n"
      "  version  print the version\n"
      "\n"
      "Run `tidal <command> --help` for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  tidal::cli::Args args(argc - 2, argv + 2);
  if (command == "demo") return tidal::cli::run_demo(args);
  if (command == "info") return tidal::cli::run_info(args);
  if (command == "check") return tidal::cli::run_check(args);
  if (command == "version" || command == "--version") {
    std::printf("tidal %s\n", tidal::cli::kVersion);
    return 0;
  }
  std::fprintf(stderr, "tidal: unknown command \"%s\"\n\n", command.c_str());
  print_usage();
  return 2;
}
