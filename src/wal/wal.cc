#include "wal/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <filesystem>

#include "core/coding.h"

namespace tidal::wal {

namespace {

constexpr const char* kCheckpointFile = "CHECKPOINT";

std::string hex(const DatabaseId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string at(const std::string& path, uint64_t offset) {
  return "segment " + path + " offset " + std::to_string(offset);
}

Result<uint64_t> parse_checkpoint_file(const std::string& path, const std::string& text) {
  // "sequence <N>\n"
  constexpr std::string_view kPrefix = "sequence ";
  std::string_view t = text;
  if (!t.starts_with(kPrefix) || !t.ends_with("\n") || t.size() <= kPrefix.size() + 1) {
    return Status::Corruption(Subsystem::kWal, path + ": not a WAL checkpoint file");
  }
  t = t.substr(kPrefix.size(), t.size() - kPrefix.size() - 1);
  uint64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) {
      return Status::Corruption(Subsystem::kWal, path + ": bad sequence number");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

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

Status Wal::recover() {
  TIDAL_RETURN_IF_ERROR(create_dirs(options_.dir));
  TIDAL_ASSIGN_OR_RETURN(std::vector<std::string> names, list_dir(options_.dir));
  for (const std::string& name : names) {
    if (auto first = parse_segment_file_name(name)) {
      segments_.push_back({*first, options_.dir + "/" + name});
    } else if (name.ends_with(".tmp")) {
      // A checkpoint file that was being replaced when the process stopped.
      std::filesystem::remove(options_.dir + "/" + name);
    }
  }
  std::string cp_path = options_.dir + "/" + kCheckpointFile;
  if (std::filesystem::exists(cp_path)) {
    TIDAL_ASSIGN_OR_RETURN(std::string text, read_file(cp_path));
    TIDAL_ASSIGN_OR_RETURN(checkpoint_seq_, parse_checkpoint_file(cp_path, text));
  }
  report_.checkpoint_sequence = checkpoint_seq_;

  uint64_t expected = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    bool is_last = i + 1 == segments_.size();
    TIDAL_RETURN_IF_ERROR(recover_segment(i, is_last, &expected));
    // recover_segment may drop a last segment that never got its header.
    if (i >= segments_.size()) break;
  }
  report_.segments = segments_.size();

  next_seq_ = segments_.empty() ? checkpoint_seq_ + 1 : std::max<uint64_t>(expected, 1);
  if (next_seq_ <= checkpoint_seq_) {
    // Derived state was checkpointed past the end of what the WAL still holds
    // (possible only when records were lost in kNone mode). Continue after the
    // checkpoint, in a new segment, so sequence numbers are never reused.
    warn("WAL ends at sequence " + std::to_string(next_seq_ - 1) + " but the checkpoint is at " +
         std::to_string(checkpoint_seq_) + "; continuing after the checkpoint");
    next_seq_ = checkpoint_seq_ + 1;
  }
  // Appends continue in the last segment, unless there is none or the
  // sequence jumped past the checkpoint (a segment's frames are contiguous).
  if (segments_.empty() || next_seq_ != expected) {
    TIDAL_RETURN_IF_ERROR(create_segment(next_seq_));
  } else {
    TIDAL_RETURN_IF_ERROR(open_segment_for_append(segments_.back()));
  }
  written_seq_ = synced_seq_ = next_seq_ - 1;
  report_.last_sequence = report_.records > 0 ? next_seq_ - 1 : 0;
  return Status::Ok();
}

Status Wal::recover_segment(size_t index, bool is_last, uint64_t* expected) {
  const Segment seg = segments_[index];
  TIDAL_ASSIGN_OR_RETURN(std::string data, read_file(seg.path));
  if (data.size() < kSegmentHeaderSize && is_last) {
    // The process stopped while creating this segment: nothing in it was
    // ever acknowledged.
    warn("removing segment " + seg.path + " with an incomplete header (" +
         std::to_string(data.size()) + " bytes)");
    std::filesystem::remove(seg.path);
    segments_.pop_back();
    return sync_dir(options_.dir);
  }
  TIDAL_ASSIGN_OR_RETURN(SegmentHeader header, decode_segment_header(data, seg.path));
  if (header.database_id != options_.database_id) {
    return Status::FailedPrecondition(Subsystem::kWal,
                                      "segment " + seg.path + " belongs to another database (id " +
                                          hex(header.database_id) + ", this database is " +
                                          hex(options_.database_id) + ")");
  }
  if (header.first_sequence != seg.first_sequence) {
    return Status::Corruption(Subsystem::kWal, "segment " + seg.path + " is named for sequence " +
                                                   std::to_string(seg.first_sequence) +
                                                   " but its header says " +
                                                   std::to_string(header.first_sequence));
  }
  if (index == 0) {
    *expected = header.first_sequence;
    report_.first_sequence = header.first_sequence;
  } else if (header.first_sequence != *expected) {
    bool checkpointed_gap =
        header.first_sequence > *expected && header.first_sequence <= checkpoint_seq_ + 1;
    if (!checkpointed_gap) {
      std::string what = "segment " + seg.path + " starts at sequence " +
                         std::to_string(header.first_sequence) + " but the previous segment ends " +
                         "before " + std::to_string(*expected) +
                         ": a segment is missing or damaged";
      if (!options_.salvage || header.first_sequence < *expected) {
        return Status::Corruption(Subsystem::kWal, what);
      }
      report_.salvaged.push_back(what);
      report_.lost_records += header.first_sequence - *expected;
      warn("salvage: " + what);
    }
    *expected = header.first_sequence;
  }

  const size_t max_body = frame_size(options_.max_record_bytes, true) - kFrameHeaderSize;
  uint64_t start = kSegmentHeaderSize;
  while (true) {
    auto visit = [&](const FrameView& f) -> Status {
      if (f.sequence != *expected) {
        std::string what = at(seg.path, f.offset) + ": sequence " + std::to_string(f.sequence) +
                           ", expected " + std::to_string(*expected);
        if (!options_.salvage || f.sequence < *expected) {
          return Status::Corruption(Subsystem::kWal, what);
        }
        report_.salvaged.push_back(what);
        report_.lost_records += f.sequence - *expected;
        warn("salvage: " + what);
      }
      if (f.dedup_key) dedup_.insert(*f.dedup_key, f.sequence, f.timestamp);
      *expected = f.sequence + 1;
      ++report_.records;
      return Status::Ok();
    };
    TIDAL_ASSIGN_OR_RETURN(ScanResult r, scan_segment(data, start, max_body, visit));
    if (!r.stopped) break;
    const ScanProblem& p = r.problem;
    if (p.status == FrameStatus::kUnknownType || p.status == FrameStatus::kBadFlags) {
      return Status::NotSupported(Subsystem::kWal,
                                  at(seg.path, p.offset) + ": " +
                                      std::string(frame_status_name(p.status)) +
                                      " (written by a newer tidalDB?); refusing to skip it");
    }
    if (p.next_valid_offset == 0 && is_last) {
      // A torn tail: the end of the last write never fully reached the disk.
      // Nothing in it was acknowledged in fsync mode.
      uint64_t torn = data.size() - p.offset;
      warn("truncating torn tail of " + seg.path + ": " + std::to_string(torn) +
           " bytes from offset " + std::to_string(p.offset) + " (" +
           std::string(frame_status_name(p.status)) + ")");
      TIDAL_ASSIGN_OR_RETURN(FileHandle f, FileHandle::open(seg.path, O_WRONLY));
      TIDAL_RETURN_IF_ERROR(f.truncate(p.offset));
      TIDAL_RETURN_IF_ERROR(f.sync_data());
      report_.torn_bytes += torn;
      break;
    }
    uint64_t resume = p.next_valid_offset == 0 ? data.size() : p.next_valid_offset;
    std::string what = at(seg.path, p.offset) + ": " + std::string(frame_status_name(p.status));
    if (!options_.salvage) {
      if (p.next_valid_offset != 0) {
        what += "; intact frames follow at offset " + std::to_string(p.next_valid_offset);
      } else {
        what += "; the rest of the segment is unreadable";
      }
      return Status::Corruption(Subsystem::kWal,
                                what +
                                    " (open with salvage to skip the damaged range; the "
                                    "records in it are lost)");
    }
    what += ": skipped bytes [" + std::to_string(p.offset) + ", " + std::to_string(resume) + ")";
    report_.salvaged.push_back(what);
    warn("salvage: " + what);
    if (resume >= data.size()) break;
    start = resume;
  }
  return Status::Ok();
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
  TIDAL_RETURN_IF_ERROR(f.write_all(encode_segment_header(h)));
  TIDAL_RETURN_IF_ERROR(f.sync_data());
  TIDAL_RETURN_IF_ERROR(sync_dir(options_.dir));
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

Status Wal::wait_durable(std::unique_lock<std::mutex>& lk, uint64_t sequence) {
  durable_cv_.wait(lk, [&] { return durable_sequence_unlocked() >= sequence || !failed_.ok(); });
  if (durable_sequence_unlocked() >= sequence) return Status::Ok();
  return failed_.with_context("the WAL failed before this record was durable");
}

Result<AppendResult> Wal::append(const AppendRequest& request) {
  TIDAL_RETURN_IF_ERROR(validate(request));
  std::unique_lock<std::mutex> lk(mu_);
  if (stopping_ || closed_) return Status::FailedPrecondition(Subsystem::kWal, "the WAL is closed");
  if (!failed_.ok()) return failed_.with_context("the WAL failed earlier; reopen the database");
  bool was_empty = pending_records_ == 0;
  AppendResult result = enqueue_locked(request);
  if (!result.duplicate) {
    if (was_empty) work_cv_.notify_one();
    if (writer_gathering_) arrival_cv_.notify_one();
  }
  TIDAL_RETURN_IF_ERROR(wait_durable(lk, result.sequence));
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
  if (stopping_ || closed_) return Status::FailedPrecondition(Subsystem::kWal, "the WAL is closed");
  if (!failed_.ok()) return failed_.with_context("the WAL failed earlier; reopen the database");
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
  if (highest > 0) TIDAL_RETURN_IF_ERROR(wait_durable(lk, highest));
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
    while (pending_records_ == 0 && !stopping_ && !sync_requested_ && !sync_due()) {
      if (options_.durability == Durability::kBatch && synced_seq_ < written_seq_) {
        work_cv_.wait_until(lk, last_sync_ + options_.batch_sync_interval);
      } else {
        work_cv_.wait(lk);
      }
    }
    if (pending_records_ == 0 && stopping_ && synced_seq_ == written_seq_) break;

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

    Status st;
    if (count > 0) st = write_batch(frames, first);
    if (st.ok() && do_sync) st = active_.sync_data();
    auto synced_at = Clock::now();

    lk.lock();
    if (!st.ok()) {
      failed_ = st;
    } else {
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
  durable_cv_.wait(lk, [&] { return synced_seq_ >= target || !failed_.ok(); });
  if (synced_seq_ >= target) return Status::Ok();
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
  TIDAL_RETURN_IF_ERROR(write_file_atomic(options_.dir + "/" + kCheckpointFile,
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

Status Wal::read_frames(const std::vector<Segment>& segments, uint64_t from_sequence,
                        uint64_t limit, const SegmentFrameVisitor& visit) const {
  const size_t max_body = frame_size(options_.max_record_bytes, true) - kFrameHeaderSize;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i + 1 < segments.size() && segments[i + 1].first_sequence <= from_sequence) continue;
    if (segments[i].first_sequence > limit) break;
    TIDAL_ASSIGN_OR_RETURN(std::string bytes, read_file(segments[i].path));
    auto data = std::make_shared<const std::string>(std::move(bytes));
    TIDAL_RETURN_IF_ERROR(decode_segment_header(*data, segments[i].path).status());
    bool done = false;
    uint64_t last_seen = 0;
    uint64_t start = kSegmentHeaderSize;
    while (true) {
      auto filter = [&](const FrameView& f) -> Status {
        if (f.sequence > limit) {
          done = true;
          return Status::Aborted(Subsystem::kWal, "replay limit reached");
        }
        last_seen = f.sequence;
        if (f.sequence < from_sequence) return Status::Ok();
        return visit(data, f);
      };
      Result<ScanResult> r = scan_segment(*data, start, max_body, filter);
      if (done) break;
      if (!r.ok()) return r.status();
      if (!r->stopped || last_seen >= limit) break;
      const ScanProblem& p = r->problem;
      bool skippable = p.status != FrameStatus::kUnknownType && p.status != FrameStatus::kBadFlags;
      if (options_.salvage && skippable && p.next_valid_offset != 0) {
        start = p.next_valid_offset;
        continue;
      }
      if (options_.salvage && skippable && p.next_valid_offset == 0) break;
      return Status::Corruption(Subsystem::kWal, at(segments[i].path, p.offset) + ": " +
                                                     std::string(frame_status_name(p.status)));
    }
    if (done) break;
  }
  return Status::Ok();
}

Status Wal::replay(uint64_t from_sequence, const std::function<Status(const FrameView&)>& visit) {
  std::vector<Segment> segments;
  uint64_t limit;
  {
    std::lock_guard<std::mutex> lk(mu_);
    segments = segments_;
    limit = options_.durability == Durability::kNone ? written_seq_ : durable_sequence_unlocked();
  }
  from_sequence = std::max<uint64_t>(from_sequence, 1);
  if (segments.empty() || from_sequence > limit) return Status::Ok();
  if (from_sequence < segments.front().first_sequence) {
    return Status::NotFound(Subsystem::kWal, "cannot replay from sequence " +
                                                 std::to_string(from_sequence) +
                                                 ": the WAL was truncated and starts at sequence " +
                                                 std::to_string(segments.front().first_sequence));
  }
  // Reading and checking frames runs on a helper thread, a few batches ahead
  // of `visit`, so a recovery uses both cores. A batch keeps the segment its
  // payloads point into alive, and owns copies of the dedup keys.
  struct Batch {
    std::shared_ptr<const std::string> segment;
    std::vector<FrameView> frames;
    std::vector<DedupKey> keys;
  };
  constexpr size_t kBatchFrames = 4096;
  constexpr size_t kQueuedBatches = 4;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Batch> queue;
  bool produced = false;
  bool stop = false;
  Status read_status;
  std::thread reader([&] {
    Batch batch;
    auto push = [&]() -> bool {
      std::unique_lock<std::mutex> lk(m);
      cv.wait(lk, [&] { return queue.size() < kQueuedBatches || stop; });
      if (stop) return false;
      queue.push_back(std::move(batch));
      batch = Batch();
      cv.notify_all();
      return true;
    };
    Status st = read_frames(
        segments, from_sequence, limit,
        [&](const std::shared_ptr<const std::string>& segment, const FrameView& f) -> Status {
          if ((batch.segment != segment && !batch.frames.empty()) ||
              batch.frames.size() == kBatchFrames) {
            if (!push()) return Status::Aborted(Subsystem::kWal, "replay stopped");
          }
          if (batch.frames.empty()) {
            batch.segment = segment;
            batch.keys.reserve(kBatchFrames);  // keys never move: frames point at them
          }
          FrameView copy = f;
          if (f.dedup_key) {
            batch.keys.push_back(*f.dedup_key);
            copy.dedup_key = &batch.keys.back();
          }
          batch.frames.push_back(copy);
          return Status::Ok();
        });
    // If push() finds the consumer stopped, the consumer's error is what replay returns.
    if (st.ok() && !batch.frames.empty()) (void)push();
    std::lock_guard<std::mutex> lk(m);
    read_status = st;
    produced = true;
    cv.notify_all();
  });

  Status result;
  while (result.ok()) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lk(m);
      cv.wait(lk, [&] { return !queue.empty() || produced; });
      if (queue.empty()) break;
      batch = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    for (const FrameView& f : batch.frames) {
      result = visit(f);
      if (!result.ok()) break;
    }
  }
  {
    std::lock_guard<std::mutex> lk(m);
    stop = true;
    cv.notify_all();
  }
  reader.join();
  return result.ok() ? read_status : result;
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
