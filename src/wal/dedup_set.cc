#include "wal/dedup_set.h"

#include <algorithm>

namespace tidal::wal {

void DedupSet::close_current() {
  previous_ = std::move(current_);
  current_ = Generation();
  current_.keys.reserve(std::min<size_t>(previous_.keys.size(), options_.generation_keys));
}

void DedupSet::close_due_generations(Timestamp now) {
  if (current_.keys.empty()) {
    // Right after a close no key has started the next generation, so nothing
    // would ever retire the previous one: drop it once it is twice the age
    // limit old, as it would have been had a key arrived.
    if (!previous_.keys.empty() && now - previous_.start >= 2 * options_.generation_age) clear();
    return;
  }
  Duration age = now - current_.start;
  if (age >= 2 * options_.generation_age) {
    // Both generations are older than the horizon.
    clear();
  } else if (age >= options_.generation_age) {
    close_current();
  }
}

std::optional<uint64_t> DedupSet::find(const DedupKey& key, Timestamp now) {
  close_due_generations(now);
  if (auto it = current_.keys.find(key); it != current_.keys.end()) return it->second;
  if (auto it = previous_.keys.find(key); it != previous_.keys.end()) return it->second;
  return std::nullopt;
}

void DedupSet::insert(const DedupKey& key, uint64_t seq, Timestamp now) {
  close_due_generations(now);
  if (current_.keys.size() >= options_.generation_keys) close_current();
  if (current_.keys.empty()) {
    current_.start = now;
    current_.first_sequence = seq;
  }
  current_.keys.emplace(key, seq);
}

std::optional<uint64_t> DedupSet::oldest_sequence() const {
  if (!previous_.keys.empty()) return previous_.first_sequence;
  if (!current_.keys.empty()) return current_.first_sequence;
  return std::nullopt;
}

void DedupSet::forget_from(uint64_t seq) {
  for (Generation* g : {&current_, &previous_}) {
    std::erase_if(g->keys, [&](const auto& kv) { return kv.second >= seq; });
  }
}

void DedupSet::clear() {
  current_ = Generation();
  previous_ = Generation();
}

}  // namespace tidal::wal
