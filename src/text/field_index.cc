#include "text/field_index.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace tidal::text {

namespace {

uint64_t hash_of(std::string_view s) {
  return std::hash<std::string_view>()(s);
}

}  // namespace

FieldIndex::FieldIndex() : table_(1024, kEmpty) {}

uint32_t FieldIndex::lookup(std::string_view term, uint64_t hash, size_t* slot) const {
  const size_t mask = table_.size() - 1;
  const auto high = static_cast<uint32_t>(hash >> 32);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint32_t id = table_[i];
    if (id == kEmpty) {
      *slot = i;
      return kEmpty;
    }
    if (hashes_[id] == high && terms_[id] == term) {
      *slot = i;
      return id;
    }
  }
}

void FieldIndex::grow() {
  std::vector<uint32_t> bigger(table_.size() * 2, kEmpty);
  const size_t mask = bigger.size() - 1;
  for (uint32_t id = 0; id < terms_.size(); ++id) {
    size_t i = hash_of(terms_[id]) & mask;
    while (bigger[i] != kEmpty) i = (i + 1) & mask;
    bigger[i] = id;
  }
  table_ = std::move(bigger);
}

void make_bag(const std::vector<Token>& tokens, TermBag* out) {
  out->length = static_cast<uint32_t>(tokens.size());
  std::vector<std::pair<uint64_t, const std::string*>> order;
  order.reserve(tokens.size());
  for (const Token& t : tokens) order.emplace_back(hash_of(t.term), &t.term);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  });
  size_t n = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && order[j].first == order[i].first &&
           *order[j].second == *order[i].second) {
      ++j;
    }
    if (n == out->terms.size()) out->terms.emplace_back();
    BagTerm& b = out->terms[n++];
    b.term = *order[i].second;  // reuses the slot's capacity
    b.hash = order[i].first;
    b.count = static_cast<uint32_t>(j - i);
    i = j;
  }
  out->terms.resize(n);
}

void FieldIndex::add(uint32_t doc, const TermBag& bag) {
  if (doc >= lengths_.size()) lengths_.resize(static_cast<size_t>(doc) + 1, 0);
  lengths_[doc] = bag.length;
  total_length_ += bag.length;
  ++docs_;
  // Two passes, each prefetching a few terms ahead — the dictionary slots,
  // then the posting lists' tails: indexing is bound by cache misses, not
  // by arithmetic.
  constexpr size_t kAhead = 6;
  const size_t n = bag.terms.size();
  ids_.resize(n);
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) {
      __builtin_prefetch(&table_[bag.terms[k + kAhead].hash & (table_.size() - 1)]);
    }
    const BagTerm& t = bag.terms[k];
    size_t slot;
    uint32_t id = lookup(t.term, t.hash, &slot);
    if (id == kEmpty) {
      id = static_cast<uint32_t>(terms_.size());
      terms_.push_back(t.term);
      hashes_.push_back(static_cast<uint32_t>(t.hash >> 32));
      lists_.emplace_back();
      table_[slot] = id;
      if (terms_.size() * 2 > table_.size()) grow();  // load factor <= 1/2
    }
    ids_[k] = id;
  }
  for (size_t k = 0; k < n; ++k) {
    if (k + 2 * kAhead < n) __builtin_prefetch(&lists_[ids_[k + 2 * kAhead]]);
    if (k + kAhead < n) __builtin_prefetch(lists_[ids_[k + kAhead]].tail());
    lists_[ids_[k]].insert(doc, bag.terms[k].count, bag.length);
  }
}

void FieldIndex::remove(uint32_t doc, const TermBag& bag) {
  for (const BagTerm& t : bag.terms) {
    size_t slot;
    const uint32_t id = lookup(t.term, t.hash, &slot);
    if (id != kEmpty) lists_[id].remove(doc, lengths_);
  }
  if (doc < lengths_.size()) {
    total_length_ -= std::min<uint64_t>(total_length_, lengths_[doc]);
    lengths_[doc] = 0;
  }
  if (docs_ > 0) --docs_;
}

const PostingList* FieldIndex::find(std::string_view term) const {
  size_t slot;
  const uint32_t id = lookup(term, hash_of(term), &slot);
  return id == kEmpty || lists_[id].empty() ? nullptr : &lists_[id];
}

size_t FieldIndex::memory_bytes() const {
  size_t n = sizeof(*this) + lengths_.capacity() * 4 + table_.capacity() * 4 +
             hashes_.capacity() * 4 + terms_.capacity() * sizeof(std::string) +
             lists_.capacity() * sizeof(PostingList);
  for (const std::string& t : terms_) n += t.capacity() > 15 ? t.capacity() + 1 : 0;
  for (const PostingList& l : lists_) n += l.memory_bytes() - sizeof(PostingList);
  return n;
}

double bm25_idf(uint64_t doc_count, uint64_t df) {
  const double n = static_cast<double>(doc_count), d = static_cast<double>(df);
  return std::log(1.0 + (n - d + 0.5) / (d + 0.5));
}

}  // namespace tidal::text
