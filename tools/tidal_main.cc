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
      "  init     create a database, with your own schema (--schema FILE)\n"
      "  schema   show the schema as a document; diff or apply a schema file\n"
      "  info     show a data folder's format, schema and storage\n"
      "  check    verify a data folder's WAL and storage; exit status 0 when intact\n"
      "  serve    serve a data folder over HTTP (docs/http-api.md)\n"
      "  key      make an API key for `serve`\n"
      "  query    run one TQL statement and print its rows (table or JSON)\n"
      "  shell    an interactive TQL shell with line editing and history\n"
      "  import   write NDJSON or CSV files of events, entities or relationships\n"
      "  present  show or switch a database's present: live or historical\n"
      "  bench    run the benchmark programs and gather their figures\n"
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
  if (command == "init") return tidal::cli::run_init(args);
  if (command == "schema") return tidal::cli::run_schema(args);
  if (command == "check") return tidal::cli::run_check(args);
  if (command == "serve") return tidal::cli::run_serve(args);
  if (command == "key") return tidal::cli::run_key(args);
  if (command == "query") return tidal::cli::run_query(args);
  if (command == "shell") return tidal::cli::run_shell(args);
  if (command == "import") return tidal::cli::run_import(args);
  if (command == "bench") return tidal::cli::run_bench(args);
  if (command == "present") return tidal::cli::run_present(args);
  if (command == "version" || command == "--version") {
    std::printf("tidal %s\n", tidal::cli::kVersion);
    return 0;
  }
  std::fprintf(stderr, "tidal: unknown command \"%s\"\n\n", command.c_str());
  print_usage();
  return 2;
}
