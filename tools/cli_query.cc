// `tidal query`: one TQL statement against a data folder, printed as a table
// or as JSON.
#include <strings.h>

#include <cctype>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli_backend.h"
#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_results.h"
#include "cli_usage.h"
#include "core/duration.h"

namespace tidal::cli {

int run_query(const Args& args) {
  static const char* kUsage =
      "usage: tidal query --data DIR [--format table|json] [--budget 2s] [--explain] \"TQL\"\n"
      "       tidal query --url URL [--key KEY] [options] \"TQL\"\n"
      "\n"
      "Opens the database in DIR with the schema stored in it — or sends the\n"
      "statement to the server at URL — runs one TQL statement and prints its\n"
      "rows. With TQL \"-\" the statement is read from stdin.\n"
      "A statement that fails prints the error (syntax errors name line and column)\n"
      "and exits with status 1.\n"
      "\n"
      "  --data DIR       the data folder\n"
      "  --url URL        a running server instead (http://host:port; or TIDAL_URL)\n"
      "  --key KEY        the API key for it (or TIDAL_KEY)\n"
      "  --format FORMAT  table (default): #, key, score and the first attributes\n"
      "                   (creator too for items); json: the HTTP API's result object\n"
      "  --budget D       the most the query may take, e.g. 500ms, 2s (default: 2s)\n"
      "  --explain        run the statement as EXPLAIN: print the plan after the rows\n"
      "\n"
      "example:\n"
      "  tidal query --data ./data \"RANK items BY hot(view) WHERE category = 'music' LIMIT 5\"\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(
          args, {"--data", "--url", "--key", "--format", "--budget", "--explain", "--help"})) {
    return 2;
  }
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

  bool usage = false;
  std::unique_ptr<Backend> backend = open_backend(args, &usage);
  if (!backend) return usage ? 2 : 1;
  Result<QueryResult> result = backend->query(tql, options);
  if (!result.ok()) {
    std::fprintf(stderr, "tidal: %s\n", result.status().message().c_str());
    backend->close();
    return 1;
  }
  print_result(*backend, tql, *result, *format);
  // A cohort defined here is filled before the folder closes (it would
  // resume at the next open otherwise).
  if (!result->message.empty() && !backend->wait_for_backfills()) return 1;
  return backend->close() ? 0 : 1;
}

}  // namespace tidal::cli
