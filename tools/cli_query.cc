// `tidal query`: one TQL statement against a data folder, printed as a table
// or as JSON.
#include <strings.h>

#include <cctype>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_results.h"
#include "cli_usage.h"
#include "core/duration.h"

namespace tidal::cli {

int run_query(const Args& args) {
  static const char* kUsage =
      "usage: tidal query --data DIR [--format table|json] [--budget 2s] [--explain] \"TQL\"\n"
      "\n"
      "Opens the database in DIR with the schema stored in it, runs one TQL\n"
      "statement and prints its rows. With TQL \"-\" the statement is read from stdin.\n"
      "A statement that fails prints the error (syntax errors name line and column)\n"
      "and exits with status 1.\n"
      "\n"
      "  --data DIR       the data folder\n"
      "  --format FORMAT  table (default): #, key, score and, for items, title,\n"
      "                   category and creator; json: the HTTP API's result object\n"
      "  --budget D       the most the query may take, e.g. 500ms, 2s (default: 2s)\n"
      "  --explain        run the statement as EXPLAIN: print the plan after the rows\n"
      "\n"
      "example:\n"
      "  tidal query --data ./data \"RANK items BY hot(view) WHERE category = 'music' LIMIT 5\"\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--format", "--budget", "--explain", "--help"})) return 2;
  std::optional<std::string> dir = data_dir(args);
  if (!dir) return 2;
  bool bad = false;
  std::optional<std::string> format_text = flag_value(args, "--format", &bad);
  std::optional<std::string> budget_text = flag_value(args, "--budget", &bad);
  if (bad) return 2;
  std::optional<ResultFormat> format = parse_result_format(format_text.value_or("table"));
  if (!format) {
    std::fprintf(stderr, "tidal: --format must be table or json, not \"%s\"\n",
                 format_text->c_str());
    return 2;
  }
  QueryOptions options;
  if (budget_text) {
    Result<Duration> budget = parse_duration(*budget_text, "--budget");
    if (!budget.ok()) {
      std::fprintf(stderr, "tidal: %s\n", budget.status().message().c_str());
      return 2;
    }
    options.time_budget = *budget;
  }
  std::vector<std::string> words = operands(args, {"--explain"});
  if (words.size() != 1) {
    std::fprintf(stderr, "tidal: give exactly one TQL statement (quoted), or - to read stdin\n");
    return 2;
  }
  std::string tql = words[0];
  if (tql == "-") {
    tql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  // A trailing ';' is how the shell ends statements; accept it here too.
  while (!tql.empty() &&
         (std::isspace(static_cast<unsigned char>(tql.back())) || tql.back() == ';')) {
    tql.pop_back();
  }
  size_t start = tql.find_first_not_of(" \t\r\n");
  bool is_explain =
      start != std::string::npos && strncasecmp(tql.c_str() + start, "explain", 7) == 0;
  if (args.has("--explain") && !is_explain) tql = "EXPLAIN " + tql;

  std::unique_ptr<Database> db = open_database(*dir, DatabaseOptions{});
  if (!db) return 1;
  Result<QueryResult> result = db->query(tql, options);
  if (!result.ok()) {
    std::fprintf(stderr, "tidal: %s\n", result.status().message().c_str());
    return 1;
  }
  print_result(*db, tql, *result, *format);
  // A cohort defined here is filled before the folder closes (it would
  // resume at the next open otherwise).
  if (!wait_for_backfills(*db)) return 1;
  return close_database(*db) ? 0 : 1;
}

}  // namespace tidal::cli
