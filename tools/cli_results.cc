#include "cli_results.h"

#include <unistd.h>

#include <cstdio>

#include "cli_backend.h"
#include "cli_folder.h"
#include "core/time_text.h"
#include "progress_bar.h"
#include "query/parser.h"
#include "server/wire.h"

namespace tidal::cli {

namespace {

// The kind of entity a statement's rows name. The query already ran, so the
// text parses; FEED and anything unexpected list items.
EntityKind row_kind(std::string_view tql) {
  Result<query::Statement> stmt = query::parse(tql);
  return stmt.ok() ? stmt->target : EntityKind::kItem;
}

std::string score_cell(double score) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", score);
  return buf;
}

}  // namespace

std::vector<std::string> table_attributes(const Schema& schema, EntityKind kind) {
  std::vector<std::string> out;
  for (const AttributeDefinition& a : schema.attributes(kind)) {
    if (out.size() == kTableAttributes) break;
    if (a.type != AttributeType::kVector) out.push_back(a.name);
  }
  if (kind == EntityKind::kItem) out.emplace_back("creator");  // built in for every item
  return out;
}

std::optional<ResultFormat> parse_result_format(std::string_view text) {
  if (text == "table") return ResultFormat::kTable;
  if (text == "json") return ResultFormat::kJson;
  return std::nullopt;
}

std::string attribute_cell(const AttributeValue* value) {
  if (value == nullptr) return "-";
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "-";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return score_cell(x);
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return format_timestamp(to_micros(x));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string out;
          for (const std::string& tag : x) out += (out.empty() ? "" : ", ") + tag;
          return out;
        } else {
          return "[" + std::to_string(x.size()) + " numbers]";
        }
      },
      *value);
}

bool wait_for_backfills(Database& db) {
  bool pending = false;
  for (const CohortInfo& c : db.cohorts()) pending = pending || c.backfilling;
  if (!pending) return true;
  std::fprintf(stderr, "counting the cohort's members' earlier events from the cold tier...\n");
  ProgressBar bar(1000, isatty(STDERR_FILENO) != 0, "events");
  uint64_t read = 0;
  Status st =
      db.wait_for_backfills(std::chrono::hours(24), [&](const std::vector<CohortInfo>& left) {
        double progress = 1;
        read = 0;
        for (const CohortInfo& c : left) {
          progress = std::min(progress, c.backfill_progress);
          read = std::max(read, c.backfill_events_read);
        }
        bar.update(read, static_cast<uint64_t>(progress * 1000));
      });
  if (!st.ok()) {
    std::fprintf(stderr, "\ntidal: %s\n", st.message().c_str());
    return false;
  }
  uint64_t total = 0;
  for (const CohortInfo& c : db.cohorts()) total = std::max(total, c.backfill_events_read);
  bar.finish(total, 1000);
  return true;
}

void print_result(Backend& backend, std::string_view tql, const QueryResult& result,
                  ResultFormat format) {
  if (format == ResultFormat::kJson) {
    std::string out;
    server::write_query_result(&out, result, /*with_plan=*/false);
    std::fputs(out.c_str(), stdout);
    return;
  }
  if (!result.message.empty() && result.rows.empty() && !result.explain) {
    std::printf("%s\n", result.message.c_str());
    return;
  }
  if (result.count) {
    std::printf("%llu\n", static_cast<unsigned long long>(*result.count));
    if (result.explain) std::printf("\n%s", result.explain_text().c_str());
    return;
  }
  std::vector<std::string> header = {"#", "key", "score"};
  const EntityKind kind = row_kind(tql);
  Result<Schema> schema = backend.schema();
  const std::vector<std::string> attributes =
      schema.ok() ? table_attributes(*schema, kind) : std::vector<std::string>{};
  header.insert(header.end(), attributes.begin(), attributes.end());
  std::vector<std::string> keys;
  for (const QueryRow& row : result.rows) keys.push_back(row.key);
  const std::vector<std::vector<std::string>> cells =
      attributes.empty() ? std::vector<std::vector<std::string>>(keys.size())
                         : backend.cells(kind, keys, attributes);
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const QueryRow& row = result.rows[i];
    std::vector<std::string> line = {std::to_string(i + 1), row.key, score_cell(row.score)};
    line.insert(line.end(), cells[i].begin(), cells[i].end());
    rows.push_back(std::move(line));
  }
  print_table(header, rows);
  if (!result.message.empty()) std::printf("%s\n", result.message.c_str());
  if (result.explain) std::printf("\n%s", result.explain_text().c_str());
}

}  // namespace tidal::cli
