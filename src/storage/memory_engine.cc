#include "storage/memory_engine.h"

#include <mutex>

namespace tidal {

class MemoryEngine::Iterator final : public StorageIterator {
 public:
  Iterator(MemoryEngine* engine, Keyspace ks, std::string_view begin, std::string_view end)
      : engine_(engine), ks_(ks), end_(end) {
    std::shared_lock lock(engine_->mu_);
    load(engine_->map(ks_).lower_bound(begin));
  }

  bool valid() const override { return valid_; }

  void next() override {
    if (!valid_) return;
    std::shared_lock lock(engine_->mu_);
    load(engine_->map(ks_).upper_bound(key_));
  }

  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return Status::Ok(); }

 private:
  // Copies the entry at `it` if it lies inside the range. Caller holds the lock.
  void load(Map::const_iterator it) {
    valid_ = it != engine_->map(ks_).end() && (end_.empty() || it->first < end_);
    if (valid_) {
      key_ = it->first;
      value_ = it->second;
    }
  }

  MemoryEngine* engine_;
  Keyspace ks_;
  std::string end_;
  bool valid_ = false;
  std::string key_;
  std::string value_;
};

Result<std::optional<std::string>> MemoryEngine::get(Keyspace ks, std::string_view key) {
  std::shared_lock lock(mu_);
  const Map& m = map(ks);
  auto it = m.find(key);
  if (it == m.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryEngine::put(Keyspace ks, std::string_view key, std::string_view value, WriteMode) {
  std::unique_lock lock(mu_);
  map(ks).insert_or_assign(std::string(key), std::string(value));
  return Status::Ok();
}

Status MemoryEngine::del(Keyspace ks, std::string_view key, WriteMode) {
  std::unique_lock lock(mu_);
  Map& m = map(ks);
  auto it = m.find(key);
  if (it != m.end()) m.erase(it);
  return Status::Ok();
}

Status MemoryEngine::write(const WriteBatch& batch, WriteMode) {
  std::unique_lock lock(mu_);
  for (const WriteBatch::Op& op : batch.ops()) {
    Map& m = map(op.keyspace);
    switch (op.type) {
      case WriteBatch::OpType::kPut: m.insert_or_assign(op.key, op.value); break;
      case WriteBatch::OpType::kDelete: m.erase(op.key); break;
      case WriteBatch::OpType::kDeleteRange: {
        const std::string& end = op.value;
        if (!end.empty() && op.key >= end) break;  // an empty range
        auto last = end.empty() ? m.end() : m.lower_bound(end);
        m.erase(m.lower_bound(op.key), last);
        break;
      }
    }
  }
  return Status::Ok();
}

std::unique_ptr<StorageIterator> MemoryEngine::scan(Keyspace ks, std::string_view begin,
                                                    std::string_view end) {
  return std::make_unique<Iterator>(this, ks, begin, end);
}

Result<uint64_t> MemoryEngine::approximate_count(Keyspace ks) {
  std::shared_lock lock(mu_);
  return static_cast<uint64_t>(map(ks).size());
}

}  // namespace tidal
