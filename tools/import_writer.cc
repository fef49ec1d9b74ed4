#include "import_writer.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <span>

#include "http_client.h"
#include "query/ast.h"

namespace tidal::cli {

namespace {

class DatabaseSink final : public ImportSink {
 public:
  explicit DatabaseSink(Database& db) : db_(db) {}
  BatchIngestResult write(std::span<const SignalEvent> batch, BatchMode mode) override {
    return db_.ingest(batch, mode);
  }
  BatchIngestResult write(std::span<const EntityWrite> batch, BatchMode mode) override {
    return db_.upsert(batch, mode);
  }
  BatchIngestResult write(std::span<const RelationshipWrite> batch, BatchMode mode) override {
    return db_.relate(batch, mode);
  }

 private:
  Database& db_;
};

class ServerSink final : public ImportSink {
 public:
  explicit ServerSink(HttpClient& http) : http_(http) {}
  BatchIngestResult write(std::span<const SignalEvent> batch, BatchMode mode) override {
    return post("/v1/events/batch", "events", batch, mode,
                [](std::string* out, const SignalEvent& e) { server::write_event(out, e); });
  }
  BatchIngestResult write(std::span<const EntityWrite> batch, BatchMode mode) override {
    const std::string name(query::target_name(batch.empty() ? EntityKind::kItem : batch[0].kind));
    return post("/v1/" + name + "/batch", name, batch, mode,
                [](std::string* out, const EntityWrite& w) { server::write_entity_write(out, w); });
  }
  BatchIngestResult write(std::span<const RelationshipWrite> batch, BatchMode mode) override {
    return post(
        "/v1/relationships/batch", "relationships", batch, mode,
        [](std::string* out, const RelationshipWrite& r) { server::write_relationship(out, r); });
  }

 private:
  template <typename T, typename Write>
  BatchIngestResult post(const std::string& target, const std::string& name,
                         std::span<const T> batch, BatchMode mode, Write write_one) {
    std::string body = "{\"" + name + "\":[";
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i > 0) body += ',';
      write_one(&body, batch[i]);
    }
    body += "],\"mode\":";
    body += mode == BatchMode::kAllOrNothing ? "\"all_or_nothing\"}" : "\"apply_valid\"}";
    Result<HttpAnswer> a =
        failed_.ok() ? http_.request("POST", target, body) : Result<HttpAnswer>(failed_);
    // 200, and also 400 (nothing accepted) and 5xx (a server-side failure),
    // answer entry by entry when the body is a batch outcome.
    if (a.ok()) {
      Result<BatchIngestResult> r = read_outcome(a->body, batch.size());
      if (r.ok()) return std::move(*r);
      if (a->status == 200) a = r.status();
    }
    // The batch as a whole failed: every entry carries the reason. A server
    // that cannot be reached is not tried again for the next batches.
    Status st = a.ok() ? http_.error_of(*a) : a.status();
    if (!a.ok()) failed_ = st;
    BatchIngestResult r;
    r.errors.assign(batch.size(), st);
    r.results.resize(batch.size());
    r.rejected = batch.size();
    return r;
  }

  // {"accepted", "rejected", "duplicates", "last_sequence", "errors": [{"index", "error"}]}
  Result<BatchIngestResult> read_outcome(const std::string& body, size_t n) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    uint64_t accepted = 0, rejected = 0, duplicates = 0, last = 0;
    simdjson::dom::array errors;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS ||
        doc["accepted"].get_uint64().get(accepted) != simdjson::SUCCESS ||
        doc["rejected"].get_uint64().get(rejected) != simdjson::SUCCESS ||
        doc["errors"].get_array().get(errors) != simdjson::SUCCESS) {
      return Status::IoError(Subsystem::kServer,
                             "the server at " + http_.url() + " answered a batch unreadably");
    }
    if (doc["duplicates"].get_uint64().get(duplicates) != simdjson::SUCCESS) duplicates = 0;
    if (doc["last_sequence"].get_uint64().get(last) != simdjson::SUCCESS) last = 0;
    BatchIngestResult r;
    r.errors.assign(n, Status::Ok());
    r.results.assign(n, IngestResult{.sequence = last});
    r.accepted = accepted;
    r.rejected = rejected;
    for (simdjson::dom::element e : errors) {
      uint64_t index = 0;
      if (e["index"].get_uint64().get(index) != simdjson::SUCCESS || index >= n) continue;
      r.errors[index] = http_.error_of(HttpAnswer{.status = 400, .body = simdjson::minify(e)});
    }
    // The answer counts duplicates without naming them: mark that many
    // accepted entries, which is all the tally needs.
    for (size_t i = 0; i < n && duplicates > 0; ++i) {
      if (r.errors[i].ok()) {
        r.results[i].duplicate = true;
        --duplicates;
      }
    }
    return r;
  }

  HttpClient& http_;
  Status failed_ = Status::Ok();
};

}  // namespace

std::unique_ptr<ImportSink> database_sink(Database& db) {
  return std::make_unique<DatabaseSink>(db);
}

std::unique_ptr<ImportSink> server_sink(HttpClient& http) {
  return std::make_unique<ServerSink>(http);
}

void ImportWriter::begin_file(const std::string& path) {
  path_ = path;
  outcome_ = {};
}

void ImportWriter::add(size_t line, SignalEvent event) {
  add_to(events_, line, std::move(event));
}
void ImportWriter::add(size_t line, EntityWrite write) {
  add_to(entities_, line, std::move(write));
}
void ImportWriter::add(size_t line, RelationshipWrite write) {
  add_to(relationships_, line, std::move(write));
}

void ImportWriter::reject(size_t line, Status error) {
  ++lines_read_;
  ++outcome_.rejected;
  outcome_.errors.emplace_back(line, std::move(error));
  ++bad_in_batch_;
  if (++in_batch_ >= batch_size_) flush();
}

void ImportWriter::end_file() {
  flush();
  for (const auto& [line, error] : outcome_.errors) {
    if (shown_.size() >= kRejectionsShown) break;
    shown_.push_back(path_ + ":" + std::to_string(line) + ": " + error.message());
  }
  accepted_ += outcome_.accepted;
  duplicates_ += outcome_.duplicates;
  rejected_ += outcome_.rejected;
}

void ImportWriter::print_summary(double secs, size_t files, const std::string& present) const {
  std::printf("lines read: %llu (%zu file%s, %.2f s)\n",
              static_cast<unsigned long long>(lines_read_), files, files == 1 ? "" : "s", secs);
  std::printf("accepted:   %llu\n", static_cast<unsigned long long>(accepted_));
  std::printf("duplicates: %llu (of those accepted: already in the database, not applied again)\n",
              static_cast<unsigned long long>(duplicates_));
  std::printf("rejected:   %llu\n", static_cast<unsigned long long>(rejected_));
  std::printf("present:    %s\n", present.c_str());
  if (shown_.empty()) return;
  std::printf("\n");
  for (const std::string& s : shown_) std::printf("%s\n", s.c_str());
  if (rejected_ > shown_.size()) {
    std::printf("... and %llu more\n", static_cast<unsigned long long>(rejected_ - shown_.size()));
  }
}

template <typename T>
void ImportWriter::add_to(PendingBatch<T>& pending, size_t line, T entry) {
  ++lines_read_;
  pending.entries.push_back(std::move(entry));
  pending.lines.push_back(line);
  if (++in_batch_ >= batch_size_) flush();
}

void ImportWriter::flush() {
  write(events_);
  write(entities_);
  write(relationships_);
  in_batch_ = 0;
  bad_in_batch_ = 0;
  keep_first_rejections();
}

template <typename T>
void ImportWriter::write(PendingBatch<T>& pending) {
  if (pending.entries.empty()) return;
  if (mode_ == BatchMode::kAllOrNothing && bad_in_batch_ > 0) {
    // A line of this batch did not even parse: the database never saw it,
    // so the rest must not be written either.
    for (size_t line : pending.lines) {
      outcome_.errors.emplace_back(
          line, Status::Aborted(Subsystem::kCore,
                                "not applied: another line of the all-or-nothing batch is "
                                "invalid"));
    }
    outcome_.rejected += pending.entries.size();
  } else {
    BatchIngestResult r = sink_.write(std::span<const T>(pending.entries), mode_);
    server::add_batch_result(&outcome_, r, pending.lines);
  }
  pending.entries.clear();
  pending.lines.clear();
}

// Only the first kRejectionsShown rejections of a file can be shown; the
// rest are only counted. A later batch rejects only later lines, so keeping
// the lowest line numbers after each write is exact.
void ImportWriter::keep_first_rejections() {
  auto& errors = outcome_.errors;
  std::stable_sort(errors.begin(), errors.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (errors.size() > kRejectionsShown) errors.resize(kRejectionsShown);
}

}  // namespace tidal::cli
