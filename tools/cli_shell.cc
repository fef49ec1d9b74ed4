// `tidal shell`: a TQL read-eval-print loop over one open database, with
// GNU readline's line editing and history when stdin is a terminal.
#include <readline/history.h>
#include <readline/readline.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli_backend.h"
#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_results.h"
#include "cli_usage.h"

namespace tidal::cli {

namespace {

constexpr const char* kPrompt = "tidal> ";
constexpr const char* kContinuation = "   ...> ";
constexpr int kHistoryLines = 1000;

constexpr const char* kShellHelp =
    "Type a TQL statement and end it with ';' (or a blank line); it may span lines.\n"
    "Lines starting with '\\' are commands:\n"
    "\n"
    "  \\help                 this text (also help)\n"
    "  \\schema               the database's schema\n"
    "  \\stats                counters of the open database\n"
    "  \\format table|json    how results are shown\n"
    "  \\timing               show or hide the query time in the footer\n"
    "  \\quit                 leave (also exit, quit or Ctrl-D)\n"
    "\n"
    "examples:\n"
    "  RANK items BY hot(view) LIMIT 10;\n"
    "  TRENDING items BY like WINDOW 24h\n"
    "    LIMIT 5;\n"
    "  EXPLAIN RANK items BY best WHERE category = 'music' LIMIT 5;\n"
    "  COUNT items WHERE category = 'music';\n";

// Splits the lines typed into statements: one ends at a ';' outside a quoted
// string (TQL strings take '...' or "..." with backslash escapes), or at a
// blank line. Line breaks inside a statement are kept, so that an error's
// line and column point into what was typed.
class StatementSplitter {
 public:
  // Adds one line (without its '\n'); returns the statements it completed.
  std::vector<std::string> add_line(std::string_view line) {
    std::vector<std::string> done;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      if (pending()) done.push_back(take_pending());
      return done;
    }
    if (!text_.empty()) text_ += '\n';
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote_ != 0) {
        text_ += c;
        if (c == '\\' && i + 1 < line.size()) {
          text_ += line[++i];
        } else if (c == quote_) {
          quote_ = 0;
        }
      } else if (c == ';') {
        if (pending()) done.push_back(take_pending());
        text_.clear();
      } else {
        if (c == '\'' || c == '"') quote_ = c;
        text_ += c;
      }
    }
    return done;
  }

  // Part of a statement is waiting for more lines.
  bool pending() const { return text_.find_first_not_of(" \t\r\n") != std::string::npos; }

  std::string take_pending() {
    std::string s = std::move(text_);
    text_.clear();
    quote_ = 0;
    return s;
  }

 private:
  std::string text_;
  char quote_ = 0;  // the quote of an open string, or 0
};

// Where history is kept: $TIDAL_HISTORY, else ~/.tidal_history (none when
// there is no home).
std::string history_path() {
  if (const char* p = std::getenv("TIDAL_HISTORY"); p != nullptr && *p != '\0') return p;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.tidal_history";
  }
  return "";
}

class Shell {
 public:
  explicit Shell(Backend& backend) : db_(backend) {}

  // Runs a statement; prints its result or its error. False on error.
  bool run_statement(const std::string& tql) {
    Result<QueryResult> r = db_.query(tql, QueryOptions{});
    if (!r.ok()) {
      std::printf("error: %s\n", r.status().message().c_str());
      return false;
    }
    print_result(db_, tql, *r, format_);
    if (!r->message.empty() && !db_.wait_for_backfills()) return false;
    if (format_ == ResultFormat::kTable && r->message.empty()) {
      std::string footer =
          r->count ? std::string("counted")
                   : std::to_string(r->rows.size()) + (r->rows.size() == 1 ? " row" : " rows");
      if (timing_) {
        char took[48];
        std::snprintf(took, sizeof(took), " in %.2f ms", r->total_micros / 1000.0);
        footer += took;
      }
      std::printf("%s\n", footer.c_str());
      if (!r->cursor.empty()) std::printf("cursor: '%s'\n", r->cursor.c_str());
    }
    return true;
  }

  // Runs a meta-command (the line starts with '\'). False on a bad one;
  // sets *quit for \quit.
  bool run_meta(std::string_view line, bool* quit) {
    std::string_view rest = line.substr(1);
    size_t space = rest.find_first_of(" \t");
    std::string_view name = rest.substr(0, space);
    std::string_view arg;
    if (space != std::string_view::npos) {
      arg = rest.substr(space);
      arg.remove_prefix(std::min(arg.size(), arg.find_first_not_of(" \t")));
      arg = arg.substr(0, arg.find_last_not_of(" \t\r;") + 1);
    }
    if (name == "quit" || name == "q") {
      *quit = true;
    } else if (name == "help" || name == "h" || name == "?") {
      std::printf("%s", kShellHelp);
    } else if (name == "schema") {
      Result<Schema> schema = db_.schema();
      if (!schema.ok()) {
        std::printf("error: %s\n", schema.status().message().c_str());
        return false;
      }
      print_schema(*schema);
    } else if (name == "stats") {
      Result<std::vector<std::vector<std::string>>> rows = db_.stats();
      if (!rows.ok()) {
        std::printf("error: %s\n", rows.status().message().c_str());
        return false;
      }
      print_table({"counter", "value"}, *rows);
    } else if (name == "format") {
      std::optional<ResultFormat> f = parse_result_format(arg);
      if (!f) {
        std::printf("error: \\format takes table or json\n");
        return false;
      }
      format_ = *f;
      std::printf("format: %s\n", std::string(arg).c_str());
    } else if (name == "timing") {
      timing_ = arg.empty() ? !timing_ : arg == "on";
      std::printf("timing: %s\n", timing_ ? "on" : "off");
    } else {
      std::printf("error: unknown command \\%s (\\help lists them)\n", std::string(name).c_str());
      return false;
    }
    return true;
  }

 private:
  Backend& db_;
  ResultFormat format_ = ResultFormat::kTable;
  bool timing_ = true;
};

// `exit`, `quit` or `help` alone on a line (any case, an optional ';'),
// which psql also takes outside a statement: the meta-command it stands for,
// or "" for any other line.
std::string_view bare_command(std::string_view line) {
  while (!line.empty() &&
         (line.back() == ' ' || line.back() == '\t' || line.back() == ';' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  auto is = [&](std::string_view word) {
    return line.size() == word.size() &&
           std::equal(line.begin(), line.end(), word.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  };
  if (is("exit") || is("quit")) return "\\quit";
  if (is("help")) return "\\help";
  return "";
}

// Reads one line: through readline with `prompt` when interactive, else
// plainly from stdin. nullopt at the end of the input.
std::optional<std::string> read_line(bool interactive, const char* prompt) {
  if (interactive) {
    char* line = readline(prompt);
    if (line == nullptr) return std::nullopt;
    std::string s(line);
    std::free(line);
    return s;
  }
  std::string s;
  if (!std::getline(std::cin, s)) return std::nullopt;
  return s;
}

// Adds an entry to the history, a statement typed over several lines as one
// line (the history file keeps one entry per line).
void remember(bool interactive, std::string entry, int* added) {
  if (!interactive || entry.empty()) return;
  std::replace(entry.begin(), entry.end(), '\n', ' ');
  add_history(entry.c_str());
  ++*added;
}

}  // namespace

int run_shell(const Args& args) {
  static const char* kUsage =
      "usage: tidal shell --data DIR\n"
      "       tidal shell --url URL [--key KEY]\n"
      "\n"
      "An interactive TQL shell on the database in DIR, or on the server at URL\n"
      "(TIDAL_URL and TIDAL_KEY in the environment do too). Statements end with ';' or a\n"
      "blank line and may span lines; results print as `tidal query` prints them,\n"
      "with the row count and the query time. \\help inside lists the commands\n"
      "(\\schema, \\stats, \\format table|json, \\timing, \\quit).\n"
      "\n"
      "Line editing and history come from GNU readline; history is kept in\n"
      "$TIDAL_HISTORY, or ~/.tidal_history when it is not set. When stdin is not a\n"
      "terminal the shell reads statements from it without prompts and exits with\n"
      "status 1 if any of them failed:\n"
      "\n"
      "  echo \"RANK items BY hot(view) LIMIT 3;\" | tidal shell --data ./data\n"
      "\n"
      "  --data DIR   the data folder\n"
      "  --url URL    a running server instead (http://host:port)\n"
      "  --key KEY    the API key for it\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--url", "--key", "--help"})) return 2;
  if (!operands(args, {}).empty()) {
    std::fprintf(stderr, "tidal: shell takes no operands (see --help)\n");
    return 2;
  }
  bool usage = false;
  std::unique_ptr<Backend> db = open_backend(args, &usage);
  if (!db) return usage ? 2 : 1;

  bool interactive = isatty(STDIN_FILENO) != 0;
  std::string history = interactive ? history_path() : "";
  if (interactive) {
    using_history();
    if (!history.empty()) read_history(history.c_str());
    std::printf("tidalDB %s shell on %s. \\help for help, \\quit to leave.\n", kVersion,
                db->where().c_str());
  }
  Shell shell(*db);
  StatementSplitter splitter;
  int added = 0;
  bool failed = false;
  bool quit = false;
  while (!quit) {
    std::optional<std::string> line =
        read_line(interactive, splitter.pending() ? kContinuation : kPrompt);
    if (!line) break;
    std::string_view trimmed(*line);
    trimmed.remove_prefix(std::min(trimmed.size(), trimmed.find_first_not_of(" \t")));
    // A meta-command may come in the middle of a statement (which stays
    // pending), as in psql.
    // exit, quit and help alone mean \quit and \help when no statement is
    // pending (none of them can start a TQL statement).
    const std::string_view bare = splitter.pending() ? "" : bare_command(trimmed);
    if (!bare.empty()) {
      remember(interactive, std::string(trimmed), &added);
      failed |= !shell.run_meta(bare, &quit);
    } else if (!trimmed.empty() && trimmed[0] == '\\') {
      remember(interactive, std::string(trimmed), &added);
      failed |= !shell.run_meta(trimmed, &quit);
    } else {
      for (const std::string& stmt : splitter.add_line(*line)) {
        remember(interactive, stmt + ";", &added);
        failed |= !shell.run_statement(stmt);
      }
    }
    std::fflush(stdout);
  }
  if (!quit && splitter.pending()) {
    std::string stmt = splitter.take_pending();
    remember(interactive, stmt + ";", &added);
    failed |= !shell.run_statement(stmt);
  }
  if (interactive) {
    if (!quit) std::printf("\n");
    if (!history.empty() && added > 0) {
      std::error_code ec;
      int err = std::filesystem::exists(history, ec) ? append_history(added, history.c_str())
                                                     : write_history(history.c_str());
      if (err == 0) history_truncate_file(history.c_str(), kHistoryLines);
    }
  }
  if (!db->close()) return 1;
  return interactive || !failed ? 0 : 1;
}

}  // namespace tidal::cli
