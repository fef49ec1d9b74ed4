#include "import_writer.h"

#include <algorithm>
#include <cstdio>
#include <span>

namespace tidal::cli {

namespace {

BatchIngestResult write_batch(Database& db, std::span<const SignalEvent> batch, BatchMode mode) {
  return db.ingest(batch, mode);
}
BatchIngestResult write_batch(Database& db, std::span<const EntityWrite> batch, BatchMode mode) {
  return db.upsert(batch, mode);
}
BatchIngestResult write_batch(Database& db, std::span<const RelationshipWrite> batch,
                              BatchMode mode) {
  return db.relate(batch, mode);
}

}  // namespace

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
    BatchIngestResult r = write_batch(db_, std::span<const T>(pending.entries), mode_);
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
