// EventStore: the cold tier — every signal event kept in the `events`
// keyspace, for history, time-series plots and (later) retrospective cohort
// backfill.
//
// Events are stored in blocks, in WAL order, one key per block keyed by its
// first sequence number. Layout: docs/formats/storage.md#event-blocks
// A block holds the events applied between two hand-overs (at most
// kBatchEvents). Blocks written again after a crash (replay re-applies
// everything after the last checkpoint) may overlap earlier ones; readers
// visit blocks in key order and skip any sequence not above the last one they
// returned, so every event is read exactly once. One put per block keeps the
// cold tier cheap next to the WAL: keys only ever grow, so RocksDB appends.
//
// Writes are asynchronous: apply() adds to the current block; a background
// thread writes full blocks (WriteMode::kDerived). The WAL covers events until
// a checkpoint: checkpoint() (state lock held) hands the partial block to the
// writer, and after_checkpoint() waits until everything is written, so the
// checkpoint's flush makes it durable. If writes fall behind by
// kMaxQueuedBlocks, apply() waits rather than buffering without bound.
//
// A failed write (a full disk) loses nothing: the blocks stay queued and the
// writer tries again every kRetryInterval, and at once when a checkpoint
// waits for it. While writes fail, apply() does not wait for room in the
// queue (the disk may stay full for long, and apply() holds the database's
// lock), and after_checkpoint() reports the failure, so the checkpoint fails
// and the WAL keeps the events. The first write that succeeds clears it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "apply/materializer.h"

namespace tidal::signals {

class EventStore final : public apply::Materializer {
 public:
  static constexpr size_t kBatchEvents = 8192;
  static constexpr size_t kMaxQueuedBlocks = 8;
  static constexpr std::chrono::milliseconds kRetryInterval{1000};

  explicit EventStore(StorageEngine* engine);
  ~EventStore() override;

  std::string_view name() const override { return "event_store"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kGlobal; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch*) override { return hand_over(); }
  Status after_checkpoint() override { return wait_idle(); }
  Status restore(StorageEngine&) override { return Status::Ok(); }

  struct StoredEvent {
    uint64_t sequence;
    uint32_t item;  // dense item index
    uint16_t signal;
    std::string user;
    int64_t time_us;
    double value;
  };

  // Calls `visit` for every stored event with sequence >= from_sequence, in
  // WAL order. Reads a scan of the blocks: filtering by item or time is the
  // caller's. The caller holds the state lock exclusively (no apply() runs).
  Status scan(uint64_t from_sequence, const std::function<Status(const StoredEvent&)>& visit);
  // The same over what storage holds, without the state lock (events not
  // yet handed to storage are not seen: drain() first for those), stopping
  // before the first event with a sequence at or above `until_sequence`.
  Status scan_stored(uint64_t from_sequence, uint64_t until_sequence,
                     const std::function<Status(const StoredEvent&)>& visit);

  // Hands over the partial block and waits until everything queued is
  // written. The caller holds the state lock exclusively.
  Status drain();

 private:
  Status hand_over();  // the partial block to the writer (state lock held)
  // Until the writer has written everything queued, or (when writes fail)
  // until one more attempt has failed.
  Status wait_idle();
  void writer_loop();

  StorageEngine* engine_;
  std::string block_;  // the current block's events, without the count
  uint64_t block_first_ = 0;
  uint64_t block_last_ = 0;
  size_t block_events_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;  // (key, value)
  bool writing_ = false;
  bool stopping_ = false;
  bool retry_now_ = false;  // a waiter asks the failing writer not to wait
  uint64_t attempts_ = 0;   // write attempts finished
  Status failed_;           // the last attempt's failure; OK once one succeeds
  std::thread writer_;
};

}  // namespace tidal::signals
