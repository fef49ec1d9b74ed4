#include "wal/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/coding.h"

namespace tidal::wal {

namespace {
// What Wal::probe() writes: a few frames' worth.
constexpr size_t kProbeBytes = 64 << 10;
}  // namespace

std::string_view durability_name(Durability d) {
  switch (d) {
    case Durability::kFsync: return "fsync";
    case Durability::kBatch: return "batch";
    case Durability::kNone: return "none";
  }
  return "unknown";
}

Result<Durability> parse_durability(std::string_view text) {
  if (text == "fsync") return Durability::kFsync;
  if (text == "batch") return Durability::kBatch;
  if (text == "none") return Durability::kNone;
  return Status::Invalid(Subsystem::kWal, "durability", text, "must be one of fsync, batch, none");
}

DedupKey Wal::content_key(RecordType type, std::string_view payload) {
  const char t = static_cast<char>(type);
  return blake3_128(std::string_view(&t, 1), payload);
}

DedupKey Wal::idempotency_key(std::string_view key) {
  return blake3_128("idempotency-key:", key);
}

Wal::Wal(WalOptions options) : options_(std::move(options)), dedup_(options_.dedup) {
  if (!options_.on_warning) {
    options_.on_warning = [](const std::string& m) {
      std::fprintf(stderr, "tidal: warning: %s\n", m.c_str());
    };
  }
}

Result<std::unique_ptr<Wal>> Wal::open(WalOptions options) {
  if (options.dir.empty()) {
    return Status::Invalid(Subsystem::kWal, "dir", "", "the WAL needs a directory");
  }
  if (options.max_batch_records == 0) {
    return Status::Invalid(Subsystem::kWal, "max_batch_records", "0", "must be at least 1");
  }
  if (options.max_record_bytes == 0 || options.max_record_bytes > (1u << 30)) {
    return Status::Invalid(Subsystem::kWal, "max_record_bytes",
                           std::to_string(options.max_record_bytes),
                           "must be between 1 byte and 1 GiB");
  }
  std::unique_ptr<Wal> wal(new Wal(std::move(options)));
  TIDAL_RETURN_IF_ERROR(wal->recover());
  wal->last_sync_ = std::chrono::steady_clock::now();
  wal->writer_ = std::thread([w = wal.get()] { w->writer_loop(); });
  return wal;
}

Wal::~Wal() {
  (void)close();
}

void Wal::warn(const std::string& message) {
  report_.warnings.push_back(message);
  options_.on_warning(message);
}

std::string Wal::segment_path(uint64_t first_sequence) const {
  return options_.dir + "/" + segment_file_name(first_sequence);
}

Status Wal::open_segment_for_append(const Segment& seg) {
  TIDAL_ASSIGN_OR_RETURN(active_, FileHandle::open(seg.path, O_WRONLY | O_APPEND));
  TIDAL_ASSIGN_OR_RETURN(active_size_, active_.size());
  return Status::Ok();
}

Status Wal::create_segment(uint64_t first_sequence) {
  std::string path = segment_path(first_sequence);
  TIDAL_ASSIGN_OR_RETURN(FileHandle f,
                         FileHandle::open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND));
  SegmentHeader h;
  h.database_id = options_.database_id;
  h.first_sequence = first_sequence;
  Status st = f.write_all(encode_segment_header(h));
  if (st.ok()) st = f.sync_data();
  if (st.ok()) st = sync_dir(options_.dir);
  if (!st.ok()) {
    // Nothing was written to it: remove it, so that the next attempt (once
    // the disk has room) creates it again.
    (void)f.close();
    ::unlink(path.c_str());
    return st;
  }
  active_ = std::move(f);
  active_size_ = kSegmentHeaderSize;
  std::lock_guard<std::mutex> lk(mu_);
  segments_.push_back({first_sequence, path});
  ++stats_.syncs;
  return Status::Ok();
}

Status Wal::validate(const AppendRequest& r) const {
  if (!is_known_record_type(static_cast<uint8_t>(r.type))) {
    return Status::Invalid(Subsystem::kWal, "type", std::to_string(static_cast<int>(r.type)),
                           "is not a known record type");
  }
  if (r.payload.size() > options_.max_record_bytes) {
    return Status::Invalid(Subsystem::kWal, "payload", std::to_string(r.payload.size()) + " bytes",
                           "records may be at most " + std::to_string(options_.max_record_bytes) +
                               " bytes (max_record_bytes)");
  }
  return Status::Ok();
}

AppendResult Wal::enqueue_locked(const AppendRequest& r) {
  if (r.dedup_key) {
    if (std::optional<uint64_t> original = dedup_.find(*r.dedup_key, r.timestamp)) {
      ++stats_.duplicates;
      return {*original, true};
    }
  }
  uint64_t seq = next_seq_++;
  if (pending_records_ == 0) {
    pending_first_seq_ = seq;
    pending_since_ = std::chrono::steady_clock::now();
  }
  append_frame(&pending_, r.type, seq, r.timestamp, r.dedup_key ? &*r.dedup_key : nullptr,
               r.payload);
  ++pending_records_;
  if (r.dedup_key) dedup_.insert(*r.dedup_key, seq, r.timestamp);
  ++stats_.appended;
  return {seq, false};
}

const Status* Wal::rolled_back(uint64_t sequence, uint64_t generation) const {
  if (generation >= rollbacks_) return nullptr;
  const Rollback& r = rollback_log_[generation];
  return sequence >= r.first ? &r.why : nullptr;
}

Status Wal::wait_durable(std::unique_lock<std::mutex>& lk, uint64_t sequence, uint64_t generation) {
  durable_cv_.wait(lk, [&] {
    return rolled_back(sequence, generation) != nullptr ||
           durable_sequence_unlocked() >= sequence || !failed_.ok();
  });
  if (const Status* why = rolled_back(sequence, generation)) return *why;
  if (durable_sequence_unlocked() >= sequence) return Status::Ok();
  return Status::OutcomeUnknown(
      Subsystem::kWal,
      "the WAL stopped after this record was written (" + failed_.message() +
          "): it may or may not be durable. Once the database is reopened, retry it with the "
          "same idempotency key (a retried event is then answered \"duplicate\" if it was "
          "kept)");
}

Status Wal::refuse_append_locked() const {
  if (stopping_ || closed_) return Status::FailedPrecondition(Subsystem::kWal, "the WAL is closed");
  return Status::Unavailable(Subsystem::kWal, "the WAL stopped after a failure (" +
                                                  failed_.message() +
                                                  "); writes are refused until the database "
                                                  "is reopened");
}

Result<AppendResult> Wal::append(const AppendRequest& request) {
  TIDAL_RETURN_IF_ERROR(validate(request));
  std::unique_lock<std::mutex> lk(mu_);
  if (stopping_ || closed_ || !failed_.ok()) return refuse_append_locked();
  const uint64_t generation = rollbacks_;
  bool was_empty = pending_records_ == 0;
  AppendResult result = enqueue_locked(request);
  if (!result.duplicate) {
    if (was_empty) work_cv_.notify_one();
    if (writer_gathering_) arrival_cv_.notify_one();
  }
  TIDAL_RETURN_IF_ERROR(wait_durable(lk, result.sequence, generation));
  return result;
}

Result<std::vector<AppendResult>> Wal::append_batch(std::span<const AppendRequest> requests) {
  for (size_t i = 0; i < requests.size(); ++i) {
    Status s = validate(requests[i]);
    if (!s.ok()) return s.with_context("record " + std::to_string(i) + " of the batch");
  }
  std::vector<AppendResult> results;
  results.reserve(requests.size());
  std::unique_lock<std::mutex> lk(mu_);
  if (stopping_ || closed_ || !failed_.ok()) return refuse_append_locked();
  const uint64_t generation = rollbacks_;
  bool was_empty = pending_records_ == 0;
  uint64_t highest = 0;
  for (const AppendRequest& r : requests) {
    results.push_back(enqueue_locked(r));
    highest = std::max(highest, results.back().sequence);
  }
  if (pending_records_ > 0) {
    if (was_empty) work_cv_.notify_one();
    if (writer_gathering_) arrival_cv_.notify_one();
  }
  // The batch's records share one fate: a rollback takes the highest one
  // only with all the others after the first it took, and a duplicate's
  // original is older than the batch.
  if (highest > 0) TIDAL_RETURN_IF_ERROR(wait_durable(lk, highest, generation));
  for (const AppendResult& r : results) {
    if (const Status* why = rolled_back(r.sequence, generation)) return *why;
  }
  return results;
}

void Wal::writer_loop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lk(mu_);
  std::string frames;
  while (true) {
    auto sync_due = [&] {
      return options_.durability == Durability::kBatch && synced_seq_ < written_seq_ &&
             Clock::now() - last_sync_ >= options_.batch_sync_interval;
    };
    while (pending_records_ == 0 && !stopping_ && !sync_requested_ && !probe_requested_ &&
           !sync_due()) {
      if (options_.durability == Durability::kBatch && synced_seq_ < written_seq_) {
        work_cv_.wait_until(lk, last_sync_ + options_.batch_sync_interval);
      } else {
        work_cv_.wait(lk);
      }
    }
    if (pending_records_ == 0 && stopping_ && synced_seq_ == written_seq_) break;
    if (probe_requested_) {
      probe_requested_ = false;
      if (pending_records_ == 0 && failed_.ok() && !write_failure_.ok()) {
        lk.unlock();
        Status wrote = active_.write_all(std::string(kProbeBytes, '\0'));
        Status cut = active_.truncate(active_size_);
        lk.lock();
        if (!cut.ok()) {
          fail_locked(cut.with_context("cutting off the WAL's disk probe"), written_seq_);
        } else if (wrote.ok()) {
          write_failure_ = Status::Ok();
        }
        durable_cv_.notify_all();
        continue;
      }
      if (pending_records_ == 0 && !stopping_ && !sync_requested_ && !sync_due()) continue;
    }

    // Group commit: in fsync mode, give concurrent appenders a moment to join
    // this batch, since its sync is the expensive part.
    if (options_.durability == Durability::kFsync && pending_records_ > 0 && !stopping_) {
      auto deadline = pending_since_ + options_.max_batch_delay;
      while (pending_records_ < options_.max_batch_records && !stopping_) {
        size_t before = pending_records_;
        writer_gathering_ = true;
        arrival_cv_.wait_until(lk, std::min(Clock::now() + options_.batch_quiet_period, deadline));
        writer_gathering_ = false;
        if (pending_records_ == before || Clock::now() >= deadline) break;
      }
    }

    frames.clear();
    frames.swap(pending_);
    size_t count = pending_records_;
    uint64_t first = pending_first_seq_;
    uint64_t last = next_seq_ - 1;
    pending_records_ = 0;
    bool do_sync =
        options_.durability == Durability::kFsync || stopping_ || sync_requested_ || sync_due();
    if (!failed_.ok()) {
      // Nothing more is written after a failure; waiters were already told.
      sync_requested_ = false;
      if (stopping_) break;
      continue;
    }
    lk.unlock();

    Status written;
    if (count > 0) written = write_batch(frames, first);
    Status synced;
    if (written.ok() && do_sync) synced = active_.sync_data();
    auto synced_at = Clock::now();

    lk.lock();
    if (!written.ok()) {
      if (options_.durability == Durability::kNone || !undo_failed_write(lk, first, written)) {
        fail_locked(written, written_seq_);
      }
    } else if (!synced.ok()) {
      fail_locked(synced, count > 0 ? last : written_seq_);
    } else {
      write_failure_ = Status::Ok();
      if (count > 0) {
        written_seq_ = last;
        ++stats_.batches;
        stats_.bytes_written += frames.size();
      }
      if (do_sync) {
        synced_seq_ = written_seq_;
        last_sync_ = synced_at;
        ++stats_.syncs;
      }
    }
    if (synced_seq_ >= next_seq_ - 1 || !failed_.ok()) sync_requested_ = false;
    durable_cv_.notify_all();
  }
}

bool Wal::undo_failed_write(std::unique_lock<std::mutex>& lk, uint64_t first, const Status& why) {
  // active_size_ moves only after a whole write: cut whatever part of the
  // batch reached the file (the writer thread alone touches the file).
  lk.unlock();
  Status cut = active_.truncate(active_size_);
  lk.lock();
  if (!cut.ok()) return false;
  const uint64_t last = next_seq_ - 1;
  Status reason(why.subsystem(), why.code(),
                why.message() + ": not written (records " + std::to_string(first) + " to " +
                    std::to_string(last) +
                    " were rolled back and nothing of them was applied); retry once the "
                    "cause is gone",
                why.field());
  rollback_log_.push_back({first, reason});
  ++rollbacks_;
  stats_.appended -= std::min<uint64_t>(stats_.appended, last - first + 1);
  next_seq_ = first;
  pending_.clear();
  pending_records_ = 0;
  dedup_.forget_from(first);
  write_failure_ = std::move(reason);
  return true;
}

void Wal::fail_locked(const Status& why, uint64_t written) {
  if (!failed_.ok()) return;
  failed_ = why;
  if (options_.durability == Durability::kNone) {
    // Those records were acknowledged when appended: say what was lost.
    if (written + 1 < next_seq_) {
      failed_ = why.with_context("records " + std::to_string(written + 1) + " to " +
                                 std::to_string(next_seq_ - 1) +
                                 " were acknowledged (durability none) but not written");
    }
    return;
  }
  // Queued records after the last one written never reached the file.
  if (written + 1 < next_seq_) {
    rollback_log_.push_back(
        {written + 1,
         Status::Unavailable(Subsystem::kWal, "not written: the WAL stopped before this record (" +
                                                  why.message() + "); nothing of it was applied")});
    ++rollbacks_;
    pending_.clear();
    pending_records_ = 0;
  }
}

void Wal::probe() {
  std::lock_guard<std::mutex> lk(mu_);
  if (write_failure_.ok() || !failed_.ok() || closed_) return;
  probe_requested_ = true;
  work_cv_.notify_one();
}

WalHealth Wal::health() const {
  std::lock_guard<std::mutex> lk(mu_);
  return {.failed = failed_, .write_failure = write_failure_};
}

Status Wal::write_batch(const std::string& frames, uint64_t first_seq) {
  if (active_size_ >= options_.segment_bytes) {
    // Everything in the old segment is made durable before the new one
    // starts, so only the active segment can ever have a torn tail.
    TIDAL_RETURN_IF_ERROR(active_.sync_data());
    TIDAL_RETURN_IF_ERROR(create_segment(first_seq));
  }
  TIDAL_RETURN_IF_ERROR(active_.write_all(frames));
  active_size_ += frames.size();
  return Status::Ok();
}

Status Wal::sync() {
  std::unique_lock<std::mutex> lk(mu_);
  uint64_t target = next_seq_ - 1;
  if (synced_seq_ >= target) return Status::Ok();
  if (closed_) return Status::FailedPrecondition(Subsystem::kWal, "the WAL is closed");
  sync_requested_ = true;
  work_cv_.notify_one();
  // A rollback may take records up to `target` away: then there is less to sync.
  durable_cv_.wait(lk,
                   [&] { return synced_seq_ >= std::min(target, next_seq_ - 1) || !failed_.ok(); });
  if (synced_seq_ >= std::min(target, next_seq_ - 1)) return Status::Ok();
  return failed_;
}

Status Wal::checkpoint(uint64_t sequence) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (sequence >= next_seq_) {
      return Status::Invalid(
          Subsystem::kWal, "sequence", std::to_string(sequence),
          "is beyond the last appended sequence " + std::to_string(next_seq_ - 1));
    }
    if (sequence <= checkpoint_seq_) return Status::Ok();
  }
  // Derived state must never be ahead of what the WAL holds on disk.
  TIDAL_RETURN_IF_ERROR(sync());
  TIDAL_RETURN_IF_ERROR(write_file_atomic(options_.dir + "/" + kCheckpointFileName,
                                          "sequence " + std::to_string(sequence) + "\n"));
  std::vector<std::string> doomed;
  {
    std::lock_guard<std::mutex> lk(mu_);
    checkpoint_seq_ = std::max(checkpoint_seq_, sequence);
    // Keep every record above the checkpoint, and every record whose dedup
    // key is still remembered, so a restart rebuilds the same dedup horizon.
    uint64_t keep_from = checkpoint_seq_ + 1;
    if (std::optional<uint64_t> oldest = dedup_.oldest_sequence()) {
      keep_from = std::min(keep_from, *oldest);
    }
    size_t drop = 0;
    while (drop + 1 < segments_.size() && segments_[drop + 1].first_sequence <= keep_from) ++drop;
    for (size_t i = 0; i < drop; ++i) doomed.push_back(segments_[i].path);
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(drop));
  }
  for (const std::string& path : doomed) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IoErrorFromErrno(Subsystem::kWal, "unlink " + path, errno);
    }
  }
  if (!doomed.empty()) TIDAL_RETURN_IF_ERROR(sync_dir(options_.dir));
  return Status::Ok();
}

Status Wal::close() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return failed_;
    stopping_ = true;
    work_cv_.notify_one();
    arrival_cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lk(mu_);
  closed_ = true;
  Status st = active_.close();
  durable_cv_.notify_all();
  return failed_.ok() ? st : failed_;
}

uint64_t Wal::durable_sequence_unlocked() const {
  switch (options_.durability) {
    case Durability::kFsync: return synced_seq_;
    case Durability::kBatch: return written_seq_;
    case Durability::kNone: return next_seq_ - 1;
  }
  return synced_seq_;
}

uint64_t Wal::last_sequence() const {
  std::lock_guard<std::mutex> lk(mu_);
  return next_seq_ - 1;
}

uint64_t Wal::durable_sequence() const {
  std::lock_guard<std::mutex> lk(mu_);
  return durable_sequence_unlocked();
}

uint64_t Wal::checkpoint_sequence() const {
  std::lock_guard<std::mutex> lk(mu_);
  return checkpoint_seq_;
}

uint64_t Wal::first_retained_sequence() const {
  std::lock_guard<std::mutex> lk(mu_);
  return segments_.empty() ? next_seq_ : segments_.front().first_sequence;
}

WalStats Wal::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  WalStats s = stats_;
  s.segments = segments_.size();
  return s;
}

}  // namespace tidal::wal
