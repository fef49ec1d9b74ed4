// `tidal import`: NDJSON and CSV files of events, entities or relationships
// written into a database in batches.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "cli_backend.h"
#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_usage.h"
#include "csv_columns.h"
#include "csv_reader.h"
#include "import_writer.h"
#include "progress_bar.h"
#include "server/wire.h"

namespace tidal::cli {

namespace {

constexpr size_t kMaxBatch = 100'000;
constexpr size_t kReadChunk = 4 << 20;

struct ImportFile {
  std::string path;
  ImportKind kind = ImportKind::kEvents;
  bool csv = false;
  uint64_t bytes = 0;
};

// The kind a file name names ("events-2024.ndjson": events), if exactly one.
std::optional<ImportKind> kind_from_name(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  std::optional<ImportKind> found;
  for (ImportKind k : {ImportKind::kEvents, ImportKind::kItems, ImportKind::kUsers,
                       ImportKind::kCreators, ImportKind::kRelationships}) {
    if (name.find(import_kind_name(k)) == std::string::npos) continue;
    if (found) return std::nullopt;  // two kinds named: ambiguous
    found = k;
  }
  return found;
}

// true for CSV, false for NDJSON, nullopt when the extension says neither.
std::optional<bool> csv_from_name(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".csv") return true;
  if (ext == ".ndjson" || ext == ".jsonl" || ext == ".json") return false;
  return std::nullopt;
}

// What a file holds and how it is written, from the flags or its name.
// Returns 0, or the exit status after printing why not.
int plan_file(const std::string& path, std::optional<ImportKind> kind,
              const std::optional<std::string>& format, ImportFile* file) {
  file->path = path;
  std::error_code ec;
  file->bytes = std::filesystem::file_size(path, ec);
  if (ec) {
    std::fprintf(stderr, "tidal: %s: %s\n", path.c_str(), ec.message().c_str());
    return 1;
  }
  std::optional<ImportKind> k = kind ? kind : kind_from_name(path);
  if (!k) {
    std::fprintf(stderr,
                 "tidal: %s: cannot tell what it holds from its name; give --kind events, items, "
                 "users, creators or relationships\n",
                 path.c_str());
    return 2;
  }
  file->kind = *k;
  std::optional<bool> csv = format ? std::optional<bool>(*format == "csv") : csv_from_name(path);
  if (!csv) {
    std::fprintf(stderr,
                 "tidal: %s: cannot tell its format from its extension; give --format ndjson or "
                 "csv\n",
                 path.c_str());
    return 2;
  }
  file->csv = *csv;
  return 0;
}

Status json_error(simdjson::error_code err) {
  return Status(Subsystem::kCore, StatusCode::kInvalidArgument,
                std::string("not valid JSON: ") + simdjson::error_message(err));
}

// Calls fn(line_number, line, bytes_before_line) for every non-blank line,
// reading the file in chunks so that its size does not matter.
Status read_lines(std::FILE* f, const std::function<void(size_t, std::string_view, uint64_t)>& fn) {
  std::string buf;
  size_t base_line = 0;
  uint64_t consumed = 0;
  while (true) {
    size_t old = buf.size();
    buf.resize(old + kReadChunk);
    size_t n = std::fread(buf.data() + old, 1, kReadChunk, f);
    buf.resize(old + n);
    bool eof = n == 0;
    if (eof && std::ferror(f)) return Status::IoErrorFromErrno(Subsystem::kIo, "read", errno);
    size_t cut = buf.rfind('\n');
    if (eof) {
      cut = buf.size();
    } else if (cut == std::string::npos) {
      continue;  // one line longer than the chunk: read on
    } else {
      ++cut;
    }
    std::string_view body(buf.data(), cut);
    TIDAL_RETURN_IF_ERROR(server::for_each_ndjson_line(body, [&](size_t n, std::string_view line) {
      fn(base_line + n, line, consumed + static_cast<uint64_t>(line.data() - body.data()));
      return Status::Ok();
    }));
    base_line += static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
    consumed += cut;
    buf.erase(0, cut);
    if (eof) return Status::Ok();
  }
}

// One NDJSON file: every line an object read_event / read_entity /
// read_relationship reads (the HTTP API's shapes).
Status import_ndjson(std::FILE* f, const ImportFile& file, const Schema& schema,
                     ImportWriter* writer, const std::function<void(uint64_t)>& progress) {
  simdjson::dom::parser parser;
  return read_lines(f, [&](size_t line_no, std::string_view line, uint64_t offset) {
    progress(offset);
    simdjson::dom::element doc;
    if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
      writer->reject(line_no, json_error(err));
      return;
    }
    Status st;
    if (file.kind == ImportKind::kEvents) {
      SignalEvent e;
      st = server::read_event(doc, "", &e);
      if (st.ok()) writer->add(line_no, std::move(e));
    } else if (file.kind == ImportKind::kRelationships) {
      RelationshipWrite w;
      st = server::read_relationship(doc, "", &w);
      if (st.ok()) writer->add(line_no, std::move(w));
    } else {
      EntityWrite w;
      st = server::read_entity(doc, "", schema, entity_kind_of(file.kind), "", &w);
      if (st.ok()) writer->add(line_no, std::move(w));
    }
    if (!st.ok()) writer->reject(line_no, st);
  });
}

// One CSV file: a header row naming the columns, then one row per line
// (csv_columns.h).
Status import_csv(std::FILE* f, const ImportFile& file, const Schema& schema, ImportWriter* writer,
                  const std::function<void(uint64_t)>& progress) {
  CsvReader reader(f);
  std::vector<std::string> row;
  Status error;
  if (!reader.next(&row, &error)) return Status::Ok();  // empty file
  if (!error.ok()) {
    writer->reject(reader.line(), error);
    return Status::Ok();
  }
  Result<CsvColumns> columns = CsvColumns::from_header(row, file.kind, schema);
  if (!columns.ok()) {
    writer->reject(reader.line(), columns.status());
    return Status::Ok();
  }
  while (reader.next(&row, &error)) {
    progress(reader.bytes());
    size_t line = reader.line();
    if (!error.ok()) {
      writer->reject(line, error);
      continue;
    }
    Status st;
    if (file.kind == ImportKind::kEvents) {
      SignalEvent e;
      st = columns->read_event(row, &e);
      if (st.ok()) writer->add(line, std::move(e));
    } else if (file.kind == ImportKind::kRelationships) {
      RelationshipWrite w;
      st = columns->read_relationship(row, &w);
      if (st.ok()) writer->add(line, std::move(w));
    } else {
      EntityWrite w;
      st = columns->read_entity(row, &w);
      if (st.ok()) writer->add(line, std::move(w));
    }
    if (!st.ok()) writer->reject(line, st);
  }
  if (std::ferror(f)) return Status::IoErrorFromErrno(Subsystem::kIo, "read", errno);
  return Status::Ok();
}

// The server's present after an import, as GET /v1/present answers it.
std::string remote_present(HttpClient& http) {
  Result<HttpAnswer> a = http.request("GET", "/v1/present");
  if (!a.ok() || a->status != 200) return "(the server's: GET /v1/present)";
  std::string body = a->body;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  return body;
}

}  // namespace

int run_import(const Args& args) {
  static const char* kUsage =
      "usage: tidal import --data DIR [--kind KIND] [--format ndjson|csv] [--batch 5000]\n"
      "                    [--mode apply_valid|all_or_nothing] [--historical]\n"
      "                    [--schema FILE] FILE...\n"
      "       tidal import --url URL [--key KEY] [--kind ...] [--batch ...] FILE...\n"
      "\n"
      "Writes the events, items, users, creators or relationships in FILE... into\n"
      "the database in DIR, in batches. A folder without a database gets a new one\n"
      "with the schema of --schema FILE, or the default schema (the one `tidal demo`\n"
      "uses). With --url (or TIDAL_URL) the batches go to a running server's batch\n"
      "routes instead (a key needs the write scope), with the same report.\n"
      "\n"
      "NDJSON files hold one JSON object per line, as the HTTP API takes them:\n"
      "  events         {\"item\", \"signal\", \"user\"?, \"timestamp\"?, \"value\"?, "
      "\"idempotency_key\"?}\n"
      "  items/users/creators  {\"key\", \"attributes\": {...}}\n"
      "  relationships  {\"user\", \"relation\", \"target_kind\", \"target\", \"active\"?}\n"
      "CSV files start with a header row naming the columns: for events item,\n"
      "signal (both required), user, timestamp (RFC 3339 or seconds since the\n"
      "epoch), value, idempotency_key; for entities key and attribute names (tags\n"
      "separated by '|', vectors as space-separated numbers); for relationships\n"
      "user, relation, target_kind, target, active. An empty cell is no value.\n"
      "\n"
      "A line that does not parse or that the database rejects is reported as\n"
      "FILE:LINE: message and the import goes on. The exit status is 0 when every\n"
      "line was accepted and 1 otherwise.\n"
      "\n"
      "  --data DIR       the data folder (created when missing)\n"
      "  --url URL        a running server instead (http://host:port)\n"
      "  --key KEY        the API key for it\n"
      "  --schema FILE    a new folder's schema, as GET /v1/schema prints it\n"
      "                   (docs/schema.md); an existing folder's must match it\n"
      "  --kind KIND      events, items, users, creators or relationships (default:\n"
      "                   the one the file name contains)\n"
      "  --format F       ndjson or csv (default: from the extension: .ndjson, .jsonl,\n"
      "                   .json or .csv)\n"
      "  --batch N        lines per write (default: 5000, at most 100000)\n"
      "  --mode M         apply_valid (default): write the valid lines of a batch;\n"
      "                   all_or_nothing: a batch with an invalid line writes nothing\n"
      "  --historical     make the database historical (stored in the folder, so\n"
      "                   every later command and the server keep it): events of any\n"
      "                   time since 1970 are accepted (not only those within the\n"
      "                   accepted skew of now) and the database's present is the\n"
      "                   newest event time; for backfills. `tidal present --data DIR\n"
      "                   live` switches it back to the clock (docs/time.md)\n"
      "\n"
      "example:\n"
      "  tidal import --data ./data items.csv events.ndjson\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--kind", "--format", "--batch", "--mode", "--historical",
                              "--schema", "--url", "--key", "--help"})) {
    return 2;
  }
  bool bad = false;
  std::optional<std::string> kind_text = flag_value(args, "--kind", &bad);
  std::optional<std::string> format_text = flag_value(args, "--format", &bad);
  std::optional<std::string> batch_text = flag_value(args, "--batch", &bad);
  std::optional<std::string> mode_text = flag_value(args, "--mode", &bad);
  if (bad) return 2;
  std::optional<ImportKind> kind;
  if (kind_text && !(kind = parse_import_kind(*kind_text))) {
    std::fprintf(stderr,
                 "tidal: --kind must be events, items, users, creators or relationships, not "
                 "\"%s\"\n",
                 kind_text->c_str());
    return 2;
  }
  if (format_text && *format_text != "ndjson" && *format_text != "csv") {
    std::fprintf(stderr, "tidal: --format must be ndjson or csv, not \"%s\"\n",
                 format_text->c_str());
    return 2;
  }
  char* end = nullptr;
  const std::string batch_word = batch_text.value_or("5000");
  long batch = std::strtol(batch_word.c_str(), &end, 10);
  if (*end != '\0' || batch < 1 || batch > static_cast<long>(kMaxBatch)) {
    std::fprintf(stderr, "tidal: --batch must be a number between 1 and %zu\n", kMaxBatch);
    return 2;
  }
  BatchMode mode = BatchMode::kApplyValid;
  if (mode_text && *mode_text == "all_or_nothing") {
    mode = BatchMode::kAllOrNothing;
  } else if (mode_text && *mode_text != "apply_valid") {
    std::fprintf(stderr, "tidal: --mode must be apply_valid or all_or_nothing, not \"%s\"\n",
                 mode_text->c_str());
    return 2;
  }
  std::vector<std::string> paths = operands(args, {"--historical"});
  if (paths.empty()) {
    std::fprintf(stderr, "tidal: name at least one FILE to import (see --help)\n");
    return 2;
  }
  std::vector<ImportFile> files(paths.size());
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (int status = plan_file(paths[i], kind, format_text, &files[i]); status != 0) return status;
    total_bytes += files[i].bytes;
  }

  bool bad_target = false;
  std::optional<ServerTarget> target = server_target(args, &bad_target);
  if (bad_target) return 2;
  if (target && (args.has("--historical") || args.has("--schema"))) {
    std::fprintf(stderr,
                 "tidal: %s applies to a data folder; a server has its own (tidal serve "
                 "--historical / --schema, POST /v1/present, tidal schema apply)\n",
                 args.has("--historical") ? "--historical" : "--schema");
    return 2;
  }
  std::unique_ptr<Database> db;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<ImportSink> sink;
  Schema schema;
  if (target) {
    http = connect_server(*target);
    if (!http) return 1;
    Result<Schema> s = server_schema(*http);
    if (!s.ok()) {
      std::fprintf(stderr, "tidal: %s\n", s.status().message().c_str());
      return 1;
    }
    schema = *s;
    sink = server_sink(*http);
  } else {
    std::optional<std::string> dir = data_dir(args);
    if (!dir) return 2;
    bool bad_schema = false;
    std::optional<SchemaFile> schema_file = schema_flag(args, &bad_schema);
    if (bad_schema) return 2;
    DatabaseOptions options;
    options.historical_import = args.has("--historical");
    db = open_database(*dir, options, /*create=*/true, schema_file ? &*schema_file : nullptr);
    if (!db) return 1;
    schema = db->schema();
    sink = database_sink(*db);
  }

  auto t0 = std::chrono::steady_clock::now();
  ImportWriter writer(*sink, mode, static_cast<size_t>(batch));
  ProgressBar bar(total_bytes, isatty(STDERR_FILENO) != 0);
  uint64_t bytes_before = 0;
  bool failed = false;
  for (const ImportFile& file : files) {
    std::FILE* f = std::fopen(file.path.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "tidal: %s: %s\n", file.path.c_str(), std::strerror(errno));
      failed = true;
      continue;
    }
    writer.begin_file(file.path);
    auto progress = [&](uint64_t offset) {
      bar.update(writer.lines_read(), bytes_before + offset);
    };
    Status st = file.csv ? import_csv(f, file, schema, &writer, progress)
                         : import_ndjson(f, file, schema, &writer, progress);
    std::fclose(f);
    writer.end_file();
    bytes_before += file.bytes;
    if (!st.ok()) {
      std::fprintf(stderr, "tidal: %s: %s\n", file.path.c_str(), st.message().c_str());
      failed = true;
    }
  }
  bar.finish(writer.lines_read(), bytes_before);
  std::string present = db ? describe_present(db->present()) : remote_present(*http);
  Status closed = db ? db->close() : Status::Ok();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  writer.print_summary(secs, files.size(), present);
  if (!closed.ok()) {
    std::fprintf(stderr, "tidal: %s\n", closed.to_string().c_str());
    return 1;
  }
  return failed || writer.rejected() > 0 ? 1 : 0;
}

}  // namespace tidal::cli
