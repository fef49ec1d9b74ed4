// Wal: recovery at open (reading every segment, torn tails, salvage, the
// dedup sets rebuilt) and replay (reading frames ahead on a second thread).
// The writer side is in wal.cc.
#include <fcntl.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/posix_file.h"
#include "wal/wal.h"

namespace tidal::wal {

namespace {

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
  std::string cp_path = options_.dir + "/" + kCheckpointFileName;
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

}  // namespace tidal::wal
