// ImportWriter: what `tidal import` read, written in batches — into a
// database opened here (Database::ingest, upsert and relate) or to a server
// (its batch routes, `--url`) — and the tally of it.
//
// Lines are handed over one by one, parsed (add) or not (reject), with their
// line numbers; every `batch_size` lines the parsed ones are written as one
// batch in `mode`. In BatchMode::kAllOrNothing a batch holding a line that
// did not parse is not written at all. The tally counts lines read, accepted
// (duplicates included), duplicates and rejected, and keeps the first
// kRejectionsShown rejections as "FILE:LINE: message", in file and line order.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "server/wire.h"
#include "tidal/database.h"

namespace tidal::cli {

class HttpClient;

// Where batches go. Each write answers per entry, as Database's batch
// writes do.
class ImportSink {
 public:
  virtual ~ImportSink() = default;
  virtual BatchIngestResult write(std::span<const SignalEvent> batch, BatchMode mode) = 0;
  virtual BatchIngestResult write(std::span<const EntityWrite> batch, BatchMode mode) = 0;
  virtual BatchIngestResult write(std::span<const RelationshipWrite> batch, BatchMode mode) = 0;
};
// Into `db` (which must outlive the sink).
std::unique_ptr<ImportSink> database_sink(Database& db);
// To the server `http` talks to: POST /v1/events/batch, /v1/{kind}/batch or
// /v1/relationships/batch. A batch the server does not take as a whole (it
// cannot be reached, refuses the key) rejects every entry with that error.
std::unique_ptr<ImportSink> server_sink(HttpClient& http);

class ImportWriter {
 public:
  static constexpr size_t kRejectionsShown = 20;

  // `sink` must outlive the writer.
  ImportWriter(ImportSink& sink, BatchMode mode, size_t batch_size)
      : sink_(sink), mode_(mode), batch_size_(batch_size) {}

  // Lines added from now on come from `path` (as the rejections name it).
  void begin_file(const std::string& path);
  void add(size_t line, SignalEvent event);
  void add(size_t line, EntityWrite write);
  void add(size_t line, RelationshipWrite write);
  // A line that could not be read or converted.
  void reject(size_t line, Status error);
  // Writes what is pending and adds the file's outcome to the tally.
  void end_file();

  uint64_t lines_read() const { return lines_read_; }
  uint64_t rejected() const { return rejected_; }

  // The tally and the first rejections, to stdout.
  // `present`: the database's present afterwards (describe_present).
  void print_summary(double secs, size_t files, const std::string& present) const;

 private:
  template <typename T>
  struct PendingBatch {
    std::vector<T> entries;
    std::vector<size_t> lines;
  };

  template <typename T>
  void add_to(PendingBatch<T>& pending, size_t line, T entry);
  template <typename T>
  void write(PendingBatch<T>& pending);
  void flush();
  void keep_first_rejections();

  ImportSink& sink_;
  BatchMode mode_;
  size_t batch_size_;
  std::string path_;
  server::BatchOutcome outcome_;  // of the current file
  PendingBatch<SignalEvent> events_;
  PendingBatch<EntityWrite> entities_;
  PendingBatch<RelationshipWrite> relationships_;
  size_t in_batch_ = 0;      // lines since the last write
  size_t bad_in_batch_ = 0;  // of those, lines that did not parse
  uint64_t lines_read_ = 0;
  uint64_t accepted_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t rejected_ = 0;
  std::vector<std::string> shown_;
};

}  // namespace tidal::cli
