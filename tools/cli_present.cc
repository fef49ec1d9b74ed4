// `tidal present`: show or switch a database's present (docs/time.md).
#include <cstdio>

#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_usage.h"
#include "core/time_text.h"

namespace tidal::cli {

std::string describe_present(const Present& p) {
  std::string out = p.mode == PresentMode::kLive ? "live (the clock)" : "historical";
  if (p.mode == PresentMode::kHistorical) {
    out += p.pinned ? " (pinned)" : " (the newest event time)";
  }
  out += ": now is " + format_timestamp(to_micros(p.now));
  return out;
}

int run_present(const Args& args) {
  static const char* kUsage =
      "usage: tidal present --data DIR [live | historical [--at TIME]]\n"
      "\n"
      "Shows the database's present, the time every query, window and decayed\n"
      "score is read at (docs/time.md). With a mode, switches it — a durable\n"
      "write, logged like any other:\n"
      "\n"
      "  live               the present is the clock; events must be recent\n"
      "                     (7 days back by default)\n"
      "  historical         the present is the newest event time applied; events\n"
      "                     of any time since 1970 are accepted (backfills)\n"
      "  historical --at T  pinned at T (RFC 3339, e.g. 2018-09-24T00:00:00Z),\n"
      "                     which must not be before the newest event time\n"
      "\n"
      "The folder must not be open in another process (stop `tidal serve` first,\n"
      "or use POST /v1/present on the server).\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--at", "--help", "-h"})) return 2;
  std::optional<std::string> dir = data_dir(args);
  if (!dir) return 2;
  bool bad = false;
  std::optional<std::string> at_text = flag_value(args, "--at", &bad);
  if (bad) return 2;
  std::vector<std::string> words = operands(args, {});
  if (words.size() > 1) {
    std::fprintf(stderr, "tidal: give at most one mode, live or historical (see --help)\n");
    return 2;
  }
  std::optional<PresentMode> mode;
  if (!words.empty()) {
    if (words[0] == "live") {
      mode = PresentMode::kLive;
    } else if (words[0] == "historical") {
      mode = PresentMode::kHistorical;
    } else {
      std::fprintf(stderr, "tidal: the mode must be live or historical, not \"%s\"\n",
                   words[0].c_str());
      return 2;
    }
  }
  std::optional<Timestamp> at;
  if (at_text) {
    if (mode != PresentMode::kHistorical) {
      std::fprintf(stderr, "tidal: --at pins a historical present: give `historical --at TIME`\n");
      return 2;
    }
    Result<Timestamp> t = parse_rfc3339(*at_text, "--at");
    if (!t.ok()) {
      std::fprintf(stderr, "tidal: %s\n", t.status().message().c_str());
      return 2;
    }
    at = *t;
  }
  std::unique_ptr<Database> db = open_database(*dir, DatabaseOptions{});
  if (!db) return 1;
  if (mode) {
    Result<uint64_t> seq = db->set_present(*mode, at);
    if (!seq.ok()) {
      std::fprintf(stderr, "tidal: %s\n", seq.status().message().c_str());
      return 1;
    }
  }
  std::printf("present: %s\n", describe_present(db->present()).c_str());
  return close_database(*db) ? 0 : 1;
}

}  // namespace tidal::cli
