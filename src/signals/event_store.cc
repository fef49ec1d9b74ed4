#include "signals/event_store.h"

#include <iterator>

#include "core/coding.h"

namespace tidal::signals {

EventStore::EventStore(StorageEngine* engine) : engine_(engine) {
  writer_ = std::thread([this] { writer_loop(); });
}

EventStore::~EventStore() {
  (void)drain();
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

Status EventStore::apply(const apply::AppliedRecord& record) {
  if (record.type != wal::RecordType::kSignalEvent) return Status::Ok();
  const apply::SignalRecord& e = *record.signal;
  if (block_events_ == 0) {
    block_first_ = record.sequence;
    block_last_ = record.sequence;
  }
  put_varint64(&block_, record.sequence - block_last_);
  put_varint64(&block_, record.item);
  put_varint64(&block_, e.signal);
  put_length_prefixed(&block_, e.user);
  put_varsint64(&block_, e.time_us);
  put_double_le(&block_, e.value);
  block_last_ = record.sequence;
  if (++block_events_ < kBatchEvents) return Status::Ok();
  return hand_over();
}

Status EventStore::hand_over() {
  if (block_events_ == 0) return Status::Ok();
  std::string key;
  put_fixed64_be(&key, block_first_);
  std::string value;
  value.reserve(block_.size() + 5);
  put_varint64(&value, block_events_);
  value += block_;
  block_.clear();
  block_events_ = 0;
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return queue_.size() < kMaxQueuedBlocks || !failed_.ok(); });
  queue_.emplace_back(std::move(key), std::move(value));
  cv_.notify_all();
  return Status::Ok();
}

Status EventStore::wait_idle() {
  std::unique_lock<std::mutex> lk(mu_);
  uint64_t seen = attempts_;
  if (!failed_.ok()) {
    retry_now_ = true;
    cv_.notify_all();
  }
  cv_.wait(lk, [&] {
    return (queue_.empty() && !writing_) || (!failed_.ok() && attempts_ > seen && !writing_);
  });
  if (queue_.empty() && !writing_) return Status::Ok();
  return failed_;
}

Status EventStore::drain() {
  TIDAL_RETURN_IF_ERROR(hand_over());
  return wait_idle();
}

void EventStore::writer_loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty() && stopping_) return;
    if (!failed_.ok() && !stopping_) {
      // Writes failed: try again after a pause, or at once if asked.
      cv_.wait_for(lk, kRetryInterval, [&] { return retry_now_ || stopping_; });
    }
    retry_now_ = false;
    WriteBatch batch;
    std::deque<std::pair<std::string, std::string>> blocks;
    blocks.swap(queue_);
    for (const auto& [key, value] : blocks) batch.put(Keyspace::kEvents, key, value);
    writing_ = true;
    cv_.notify_all();  // room in the queue again
    lk.unlock();
    Status s = engine_->write(batch, WriteMode::kDerived);
    lk.lock();
    writing_ = false;
    ++attempts_;
    if (s.ok()) {
      failed_ = Status::Ok();
    } else {
      // The blocks go back, ahead of any queued since, for the next attempt.
      queue_.insert(queue_.begin(), std::make_move_iterator(blocks.begin()),
                    std::make_move_iterator(blocks.end()));
      failed_ = s.with_context("writing signal events to storage");
      if (stopping_) {
        cv_.notify_all();
        return;  // the WAL still holds them: replay writes them again
      }
    }
    cv_.notify_all();
  }
}

Status EventStore::scan(uint64_t from_sequence,
                        const std::function<Status(const StoredEvent&)>& visit) {
  TIDAL_RETURN_IF_ERROR(drain());
  return scan_stored(from_sequence, UINT64_MAX, visit);
}

Status EventStore::scan_stored(uint64_t from_sequence, uint64_t until_sequence,
                               const std::function<Status(const StoredEvent&)>& visit) {
  uint64_t last_returned = from_sequence == 0 ? 0 : from_sequence - 1;
  auto it = engine_->scan(Keyspace::kEvents, "", "");
  for (; it->valid(); it->next()) {
    if (it->key().size() != 8) {
      return Status::Corruption(Subsystem::kStorage, "unexpected key in the events keyspace");
    }
    uint64_t seq = decode_fixed64_be(it->key().data());
    ByteReader r(it->value());
    uint64_t count;
    if (!r.read_varint64(&count)) {
      return Status::Corruption(Subsystem::kStorage,
                                "event block " + std::to_string(seq) + " is malformed");
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t delta, item, signal;
      std::string_view user;
      StoredEvent ev;
      if (!r.read_varint64(&delta) || !r.read_varint64(&item) || item > UINT32_MAX ||
          !r.read_varint64(&signal) || signal > UINT16_MAX || !r.read_length_prefixed(&user) ||
          !r.read_varsint64(&ev.time_us) || !r.read_double_le(&ev.value)) {
        return Status::Corruption(Subsystem::kStorage,
                                  "event block " + std::to_string(seq) + " is malformed");
      }
      seq += delta;
      if (seq <= last_returned) continue;  // an overlapping block wrote it already
      if (seq >= until_sequence) return Status::Ok();
      ev.sequence = seq;
      ev.item = static_cast<uint32_t>(item);
      ev.signal = static_cast<uint16_t>(signal);
      ev.user = std::string(user);
      TIDAL_RETURN_IF_ERROR(visit(ev));
      last_returned = seq;
    }
  }
  return it->status();
}

}  // namespace tidal::signals
