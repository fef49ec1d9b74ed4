// Wal: the write-ahead log, tidalDB's source of truth.
//
// Every mutation is appended here before it is applied anywhere else. Appends
// from many threads are gathered by one writer thread into batches; each batch
// is written with one write(2) and, in fsync mode, made durable with one
// fdatasync(2) before any caller in it is answered (group commit). A caller
// learns its record's sequence number once the record is as durable as the
// configured Durability promises:
//
//   kFsync  on disk (survives power loss and kill -9). The default.
//   kBatch  written to the operating system (survives kill -9); synced to disk
//           at least every `batch_sync_interval`, so a power loss can lose that
//           much.
//   kNone   queued in memory; written by the writer shortly after. A crash can
//           lose what was queued. Clean close() writes and syncs everything.
//
// Records that carry a dedup key (a content hash of the event, or a hash of a
// client's idempotency key) are checked against a DedupSet first: a key seen
// within the horizon is answered "duplicate" with the original record's
// sequence number, after the original is as durable as the mode promises,
// and nothing is appended. Dedup keys are stored in the frames, so open()
// rebuilds the sets by reading the retained segments.
//
// open() recovers: it reads every segment, truncates a torn tail (a partial or
// damaged frame at the end of the last segment with nothing intact after it)
// with a warning, and fails with an error naming the segment and offset for
// damage anywhere else — unless `salvage` is set, when it skips to the next
// intact frame and reports what was lost in recovery_report().
//
// checkpoint(seq) records that derived state up to `seq` is stored elsewhere,
// then deletes segments whose records are all at or below it — but never a
// segment the dedup sets still need, nor the active segment.
//
// Failures (docs/operations.md). A write(2) that fails (a full disk: ENOSPC)
// is undone: the segment is truncated back to its last whole frame, and the
// batch being written and every record queued behind it are rolled back —
// their callers get the failure (kNoSpace for a full disk), their sequence
// numbers are given to the next records and their dedup keys forgotten, so a
// retry appends them. Nothing of them was applied anywhere. The WAL stays
// open: once space is freed the next append succeeds. A failed sync, a failed
// truncate, or any failure in kNone mode (whose records were acknowledged
// before they were written) is not undone: the WAL stops for good. Records
// written but not known to be durable get kOutcomeUnknown, every later append
// kUnavailable, until the database is reopened (recovery then decides which
// records are there).
//
// Thread safety: append, append_batch and the accessors may be called from any
// thread. replay and checkpoint may run concurrently with appends.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/posix_file.h"
#include "wal/dedup_set.h"
#include "wal/segment_scanner.h"
#include "wal/wal_format.h"

namespace tidal::wal {

enum class Durability : uint8_t { kFsync, kBatch, kNone };

std::string_view durability_name(Durability d);
Result<Durability> parse_durability(std::string_view text);

struct WalOptions {
  std::string dir;           // created if missing
  DatabaseId database_id{};  // every segment must carry this id
  Durability durability = Durability::kFsync;
  // Group commit (kFsync): the writer stops gathering a batch once it holds
  // this many records, once `max_batch_delay` has passed since the batch's
  // first record arrived, or once no new record has arrived for
  // `batch_quiet_period` (so a lone writer is not delayed by max_batch_delay).
  size_t max_batch_records = 100;
  Duration max_batch_delay = std::chrono::milliseconds(10);
  Duration batch_quiet_period = std::chrono::microseconds(50);
  Duration batch_sync_interval = std::chrono::milliseconds(10);  // kBatch
  uint64_t segment_bytes = 64ull << 20;  // a segment rolls once it reaches this size
  size_t max_record_bytes = 16u << 20;   // largest payload accepted
  DedupOptions dedup;
  bool salvage = false;  // skip damaged ranges instead of failing open()
  // Receives recovery warnings (torn tail truncated, salvaged ranges).
  // Defaults to stderr.
  std::function<void(const std::string&)> on_warning;
};

struct AppendRequest {
  RecordType type = RecordType::kCustom;
  Timestamp timestamp;
  std::string_view payload;
  std::optional<DedupKey> dedup_key;
};

struct AppendResult {
  uint64_t sequence = 0;   // the record's, or the original's when duplicate
  bool duplicate = false;  // nothing was appended
};

struct RecoveryReport {
  size_t segments = 0;
  uint64_t records = 0;         // intact records found
  uint64_t first_sequence = 0;  // of the oldest retained record (0 if none)
  uint64_t last_sequence = 0;   // of the newest record (0 if none)
  uint64_t checkpoint_sequence = 0;
  uint64_t torn_bytes = 0;  // bytes cut from the tail of the last segment
  std::vector<std::string> warnings;
  std::vector<std::string> salvaged;  // one line per skipped range (salvage only)
  uint64_t lost_records = 0;          // sequence numbers skipped by salvage
};

// Whether the WAL takes appends, for health checks.
struct WalHealth {
  // Set when the WAL stopped for good; appends fail until it is reopened.
  Status failed;
  // The last write that failed and was rolled back (OK once a later write
  // succeeded): the WAL still takes appends, which fail the same way while
  // the cause (a full disk) lasts.
  Status write_failure;
};

struct WalStats {
  uint64_t appended = 0;
  uint64_t duplicates = 0;
  uint64_t batches = 0;
  uint64_t syncs = 0;
  uint64_t bytes_written = 0;
  size_t segments = 0;
};

class Wal {
 public:
  // Opens (creating if needed) the WAL in options.dir and recovers it.
  static Result<std::unique_ptr<Wal>> open(WalOptions options);

  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one record; blocks until it is as durable as the mode promises.
  Result<AppendResult> append(const AppendRequest& request);

  // Appends several records in order under one lock and one wait. The result
  // has one entry per request. Either every request is valid and each is
  // appended (or answered duplicate), or none is appended and the error names
  // the first invalid request.
  Result<std::vector<AppendResult>> append_batch(std::span<const AppendRequest> requests);

  // Calls `visit` for every record with sequence >= from_sequence that was
  // durable when replay began, in order. Fails if records at or above
  // from_sequence were already truncated.
  Status replay(uint64_t from_sequence, const std::function<Status(const FrameView&)>& visit);

  // Records that derived state up to `sequence` is stored, then deletes the
  // segments no longer needed. `sequence` may not exceed durable_sequence().
  Status checkpoint(uint64_t sequence);

  // Writes and syncs everything appended so far, whatever the durability mode.
  Status sync();

  // Stops the writer after writing and syncing everything pending. Appends
  // after close() fail. Called by the destructor.
  Status close();

  uint64_t last_sequence() const;     // highest sequence assigned
  uint64_t durable_sequence() const;  // highest sequence as durable as the mode promises
  uint64_t checkpoint_sequence() const;
  uint64_t first_retained_sequence() const;  // smallest sequence still readable
  const RecoveryReport& recovery_report() const { return report_; }
  WalStats stats() const;
  WalHealth health() const;
  // While a write failure lasts (health().write_failure), asks the writer to
  // test the disk: it appends a block of zeros past the last frame and cuts
  // it off again, and clears the failure when that worked (say, once space
  // was freed). Does not wait. A no-op otherwise.
  void probe();
  const WalOptions& options() const { return options_; }

  // The dedup key of an event: BLAKE3 of its type and payload.
  static DedupKey content_key(RecordType type, std::string_view payload);
  // The dedup key for a client-supplied idempotency key.
  static DedupKey idempotency_key(std::string_view key);

 private:
  struct Segment {
    uint64_t first_sequence;
    std::string path;
  };

  explicit Wal(WalOptions options);
  Status recover();
  Status recover_segment(size_t index, bool is_last, uint64_t* expected_seq);
  Status open_segment_for_append(const Segment& seg);
  Status create_segment(uint64_t first_sequence);
  Status validate(const AppendRequest& r) const;
  // Under mu_: dedup check, sequence assignment and framing of one request.
  AppendResult enqueue_locked(const AppendRequest& r);
  // Waits until `sequence`, appended while rollbacks_ was `generation`, is as
  // durable as the mode promises, rolled back, or the WAL failed (mu_ held
  // via lk).
  Status wait_durable(std::unique_lock<std::mutex>& lk, uint64_t sequence, uint64_t generation);
  // The failure of the rollback that took `sequence` (appended while
  // rollbacks_ was `generation`), or nullptr if none did (mu_ held).
  const Status* rolled_back(uint64_t sequence, uint64_t generation) const;
  // After a failed write of the frames from `first` on: truncates the
  // segment back and rolls back every record from `first` (mu_ held via lk;
  // released for the truncate). Returns false when the WAL must stop instead.
  bool undo_failed_write(std::unique_lock<std::mutex>& lk, uint64_t first, const Status& why);
  // Stops the WAL for good after `why`; records up to `written` were handed
  // to the operating system (mu_ held).
  void fail_locked(const Status& why, uint64_t written);
  Status refuse_append_locked() const;
  void writer_loop();
  using SegmentFrameVisitor =
      std::function<Status(const std::shared_ptr<const std::string>&, const FrameView&)>;
  // Reads the frames of `segments` with from_sequence <= sequence <= limit, in
  // order; `visit` also gets the segment's bytes, which the payload points into.
  Status read_frames(const std::vector<Segment>& segments, uint64_t from_sequence, uint64_t limit,
                     const SegmentFrameVisitor& visit) const;
  Status write_batch(const std::string& frames, uint64_t first_seq);
  uint64_t durable_sequence_unlocked() const;  // mu_ held
  void warn(const std::string& message);
  std::string segment_path(uint64_t first_sequence) const;

  WalOptions options_;
  RecoveryReport report_;

  // Guards everything below up to the writer's private state.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;     // writer: records pending or stopping
  std::condition_variable arrival_cv_;  // writer, gathering: a record arrived
  std::condition_variable durable_cv_;  // appenders: watermarks moved
  DedupSet dedup_;
  std::string pending_;  // encoded frames not yet handed to the writer
  size_t pending_records_ = 0;
  uint64_t pending_first_seq_ = 0;
  std::chrono::steady_clock::time_point pending_since_;
  uint64_t next_seq_ = 1;
  uint64_t written_seq_ = 0;  // handed to the operating system
  uint64_t synced_seq_ = 0;   // on disk
  uint64_t checkpoint_seq_ = 0;
  bool writer_gathering_ = false;
  bool sync_requested_ = false;
  bool probe_requested_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  Status failed_;         // set once the WAL stops for good; every later append fails
  Status write_failure_;  // the last rolled-back write's failure; OK after a success
  // Rollbacks so far; rollback_log_[g] is the g-th: the first sequence it
  // took and why. A record appended at generation g was rolled back iff its
  // sequence >= rollback_log_[g].first (later rollbacks start after it).
  uint64_t rollbacks_ = 0;
  struct Rollback {
    uint64_t first;
    Status why;
  };
  std::vector<Rollback> rollback_log_;
  WalStats stats_;
  std::vector<Segment> segments_;  // ascending; the last is the active one

  // Writer thread state.
  FileHandle active_;
  uint64_t active_size_ = 0;
  std::chrono::steady_clock::time_point last_sync_;
  std::thread writer_;
};

}  // namespace tidal::wal
