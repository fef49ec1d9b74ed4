// Database::Impl: checkpoints, the background loop (sweeps, checkpoints,
// retries after a disk failure) and shutdown.

#include "core/coding.h"
#include "db/database_impl.h"
#include "schema/schema_catalog.h"
#include "storage/meta_keys.h"

namespace tidal {

Status Database::Impl::checkpoint() {
  MutexLock cp(checkpoint_mu_);
  if (!wal_) return Status::FailedPrecondition(Subsystem::kStorage, "the database is not open");
  WriteBatch batch;
  uint64_t seq;
  Status st;
  {
    // Holding the order lock keeps a half-applied batch out of the snapshot.
    MutexLock order(order_mu_);
    WriterLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(apply_failed_);
    seq = applied_seq_;
    for (KeyMap& keys : keys_) keys.checkpoint(&batch);
    st = registry_.checkpoint(&batch);
    std::string v;
    put_fixed64_le(&v, seq);
    batch.put(Keyspace::kMeta, meta_keys::kCheckpointSequence, v);
    v.clear();
    put_fixed64_le(&v, events_applied_.load());
    batch.put(Keyspace::kMeta, meta_keys::kCheckpointEventsApplied, v);
    db::store_present(present_state(), &batch);
    // The schema in force, which a schema change since the last checkpoint
    // may have extended (docs/schema.md#changing-a-schema).
    put_schema(schema_, &batch);
  }
  if (st.ok()) st = registry_.after_checkpoint();
  if (st.ok()) st = storage_->write(batch, WriteMode::kDerived);
  if (st.ok()) st = storage_->flush();
  {
    // Whatever the batch held must be written again if it did not reach
    // storage: the next checkpoint claims a later sequence number.
    WriterLock lk(state_mu_);
    for (KeyMap& keys : keys_) keys.end_checkpoint(st.ok());
    registry_.end_checkpoint(st.ok());
  }
  if (st.ok() && seq > 0) st = wal_->checkpoint(seq);
  if (!st.ok()) {
    st = st.with_context("checkpoint at WAL sequence " + std::to_string(seq) +
                         " failed; every acknowledged write is still in the WAL");
    MutexLock h(health_mu_);
    checkpoint_failure_ = st;
    return st;
  }
  {
    MutexLock h(health_mu_);
    checkpoint_failure_ = Status::Ok();
  }
  checkpoint_seq_.store(seq);
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  last_checkpoint_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

void Database::Impl::crash_for_testing() {
  {
    MutexLock lk(background_mu_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  stop_backfill();
  // Every acknowledged record is in the WAL already; nothing is pending.
  if (wal_) (void)wal_->close();
  // Unflushed (kDerived) writes live only in RocksDB's memtables: a crash
  // loses them.
  if (storage_) storage_->drop_unflushed_on_close();
}

void Database::Impl::background_loop() {
  // While the disk refuses writes, the WAL is probed and a failed checkpoint
  // retried this often (and a failure printed once, not at every retry).
  constexpr auto kRetryInterval = std::chrono::seconds(5);
  auto last_sweep = std::chrono::steady_clock::now();
  auto last_retry = last_sweep;
  bool reported = false;  // the current run of checkpoint failures was printed
  while (true) {
    {
      MutexLock lk(background_mu_);
      if (stopping_) break;
      lk.wait_for(background_cv_, std::chrono::seconds(1));
      if (stopping_) break;
    }
    auto now = std::chrono::steady_clock::now();
    if (options_.sweep_interval.count() > 0 && now - last_sweep >= options_.sweep_interval) {
      sweep();
      last_sweep = now;
    }
    const bool retry_due = now - last_retry >= kRetryInterval;
    if (retry_due) {
      last_retry = now;
      wal_->probe();  // a no-op unless the last WAL write failed
    }
    if (options_.background_checkpoints) {
      bool due;
      {
        MutexLock cp(checkpoint_mu_);
        uint64_t written = wal_->stats().bytes_written;
        due = written - wal_bytes_at_checkpoint_ >= options_.checkpoint_wal_bytes ||
              (now - last_checkpoint_ >= options_.checkpoint_interval &&
               wal_->last_sequence() > checkpoint_seq_.load());
      }
      // After a failed checkpoint (this loop's or one asked for), retry.
      bool failing;
      {
        MutexLock h(health_mu_);
        failing = !checkpoint_failure_.ok();
      }
      if (failing) due = retry_due;
      if (due) {
        Status s = checkpoint();
        if (!s.ok() && !reported) {
          std::fprintf(stderr, "tidal: background checkpoint failed (retried every %llds): %s\n",
                       static_cast<long long>(kRetryInterval.count()), s.to_string().c_str());
        } else if (s.ok() && reported) {
          std::fprintf(stderr, "tidal: background checkpoint succeeded again\n");
        }
        reported = !s.ok();
      }
    }
  }
}

Status Database::Impl::close() {
  {
    MutexLock lk(background_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    stopping_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  // A backfill in progress stops between batches; its cursor is checkpointed
  // and the next open resumes it.
  stop_backfill();
  Status st;
  if (wal_) {
    st = checkpoint();
    Status w = wal_->close();
    if (st.ok()) st = w;
  }
  return st;
}

}  // namespace tidal
