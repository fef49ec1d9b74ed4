#include "text/posting_list.h"

#include <algorithm>
#include <cmath>

namespace tidal::text {

namespace {

// dl / tf as a float no larger than the exact quotient, so a bound built
// from it never falls below a real score.
float ratio_floor(uint32_t dl, uint32_t tf) {
  const double exact = static_cast<double>(dl) / static_cast<double>(tf);
  float f = static_cast<float>(exact);
  if (static_cast<double>(f) > exact) f = std::nextafter(f, 0.0f);
  return f;
}

}  // namespace

void PostingList::insert(uint32_t doc, uint32_t tf, uint32_t dl) {
  tf = std::clamp<uint32_t>(tf, 1, kMaxTf);
  const float ratio = ratio_floor(dl, tf);
  size_t i;
  if (chunks_.empty() || doc > last_doc_) {
    // Append: fill the last chunk up to kFillChunk, then start another.
    if (chunks_.empty() || chunks_.back().docs.size() >= kFillChunk) {
      chunks_.emplace_back();
      lasts_.push_back(doc);
      if (chunks_.size() > 1) {  // a frequent term: this chunk will fill too
        chunks_.back().docs.reserve(kFillChunk);
        chunks_.back().tfs.reserve(kFillChunk);
      }
    }
    i = chunks_.size() - 1;
    Chunk& c = chunks_[i];
    c.docs.push_back(doc);
    c.tfs.push_back(static_cast<uint16_t>(tf));
    lasts_[i] = doc;
  } else {
    i = static_cast<size_t>(std::lower_bound(lasts_.begin(), lasts_.end(), doc) - lasts_.begin());
    Chunk& c = chunks_[i];
    const size_t at =
        static_cast<size_t>(std::lower_bound(c.docs.begin(), c.docs.end(), doc) - c.docs.begin());
    c.docs.insert(c.docs.begin() + static_cast<ptrdiff_t>(at), doc);
    c.tfs.insert(c.tfs.begin() + static_cast<ptrdiff_t>(at), static_cast<uint16_t>(tf));
  }
  Chunk& c = chunks_[i];
  if (c.docs.size() == 1) {
    c.max_tf = tf;
    c.min_ratio = ratio;
  } else {
    c.max_tf = std::max(c.max_tf, tf);
    c.min_ratio = std::min(c.min_ratio, ratio);
  }
  max_tf_ = std::max(max_tf_, tf);
  min_ratio_ = std::min(min_ratio_, ratio);
  ++size_;
  last_doc_ = std::max(last_doc_, doc);
  if (c.docs.size() > kMaxChunk) {
    // Split in half. The bounds of each half are those of the whole chunk
    // (still valid, if looser) until a removal refreshes them; recomputing
    // needs document lengths, which an insert does not have.
    Chunk upper;
    const auto half = static_cast<ptrdiff_t>(c.docs.size() / 2);
    upper.docs.assign(c.docs.begin() + half, c.docs.end());
    upper.tfs.assign(c.tfs.begin() + half, c.tfs.end());
    upper.max_tf = c.max_tf;
    upper.min_ratio = c.min_ratio;
    c.docs.resize(static_cast<size_t>(half));
    c.tfs.resize(static_cast<size_t>(half));
    c.docs.shrink_to_fit();
    c.tfs.shrink_to_fit();
    lasts_[i] = c.docs.back();
    chunks_.insert(chunks_.begin() + static_cast<ptrdiff_t>(i) + 1, std::move(upper));
    lasts_.insert(lasts_.begin() + static_cast<ptrdiff_t>(i) + 1, chunks_[i + 1].docs.back());
  } else {
    lasts_[i] = c.docs.back();
  }
}

bool PostingList::remove(uint32_t doc, const std::vector<uint32_t>& doc_len) {
  if (chunks_.empty() || doc > lasts_.back()) return false;
  size_t i =
      static_cast<size_t>(std::lower_bound(lasts_.begin(), lasts_.end(), doc) - lasts_.begin());
  Chunk& c = chunks_[i];
  auto it = std::lower_bound(c.docs.begin(), c.docs.end(), doc);
  if (it == c.docs.end() || *it != doc) return false;
  const auto at = it - c.docs.begin();
  c.docs.erase(it);
  c.tfs.erase(c.tfs.begin() + at);
  --size_;
  if (c.docs.empty()) {
    chunks_.erase(chunks_.begin() + static_cast<ptrdiff_t>(i));
    lasts_.erase(lasts_.begin() + static_cast<ptrdiff_t>(i));
  } else if (c.docs.size() < kMinChunk && chunks_.size() > 1) {
    // Merge with the smaller neighbour when the two fit in one chunk.
    size_t j = i + 1 < chunks_.size() ? i + 1 : i - 1;
    if (i > 0 && i + 1 < chunks_.size() &&
        chunks_[i - 1].docs.size() < chunks_[i + 1].docs.size()) {
      j = i - 1;
    }
    const size_t lo = std::min(i, j), hi = std::max(i, j);
    if (chunks_[lo].docs.size() + chunks_[hi].docs.size() <= kMaxChunk) {
      Chunk& a = chunks_[lo];
      Chunk& b = chunks_[hi];
      a.docs.insert(a.docs.end(), b.docs.begin(), b.docs.end());
      a.tfs.insert(a.tfs.end(), b.tfs.begin(), b.tfs.end());
      chunks_.erase(chunks_.begin() + static_cast<ptrdiff_t>(hi));
      lasts_.erase(lasts_.begin() + static_cast<ptrdiff_t>(hi));
      i = lo;
    }
    refresh_chunk(i, doc_len);
  } else {
    refresh_chunk(i, doc_len);
  }
  refresh_bounds();
  last_doc_ = lasts_.empty() ? 0 : lasts_.back();
  return true;
}

void PostingList::refresh_chunk(size_t i, const std::vector<uint32_t>& doc_len) {
  Chunk& c = chunks_[i];
  c.max_tf = 0;
  c.min_ratio = std::numeric_limits<float>::infinity();
  for (size_t k = 0; k < c.docs.size(); ++k) {
    const uint32_t dl = c.docs[k] < doc_len.size() ? doc_len[c.docs[k]] : 0;
    c.max_tf = std::max<uint32_t>(c.max_tf, c.tfs[k]);
    c.min_ratio = std::min(c.min_ratio, ratio_floor(dl, c.tfs[k]));
  }
  lasts_[i] = c.docs.back();
}

void PostingList::refresh_bounds() {
  max_tf_ = 0;
  min_ratio_ = std::numeric_limits<float>::infinity();
  for (const Chunk& c : chunks_) {
    max_tf_ = std::max(max_tf_, c.max_tf);
    min_ratio_ = std::min(min_ratio_, c.min_ratio);
  }
}

size_t PostingList::memory_bytes() const {
  size_t n = sizeof(*this) + chunks_.capacity() * sizeof(Chunk) + lasts_.capacity() * 4;
  for (const Chunk& c : chunks_) n += c.docs.capacity() * 4 + c.tfs.capacity() * 2;
  return n;
}

uint32_t PostingList::tf_of(uint32_t doc) const {
  if (chunks_.empty() || doc > lasts_.back()) return 0;
  const size_t i =
      static_cast<size_t>(std::lower_bound(lasts_.begin(), lasts_.end(), doc) - lasts_.begin());
  const Chunk& c = chunks_[i];
  auto it = std::lower_bound(c.docs.begin(), c.docs.end(), doc);
  return it != c.docs.end() && *it == doc ? c.tfs[static_cast<size_t>(it - c.docs.begin())] : 0;
}

// ---------------------------------------------------------------------------
// PostingCursor

void PostingCursor::settle() {
  const std::vector<PostingList::Chunk>& chunks = list_->chunks();
  while (chunk_ < chunks.size() && pos_ >= chunks[chunk_].docs.size()) {
    ++chunk_;
    pos_ = 0;
  }
  doc_ = chunk_ < chunks.size() ? chunks[chunk_].docs[pos_] : kNoDoc;
}

size_t PostingCursor::chunk_for(uint32_t target) const {
  const size_t n = list_->chunks().size();
  size_t i = chunk_;
  if (i >= n || list_->chunk_last(i) >= target) return i;
  // Gallop forward over the chunk ends, then binary search.
  size_t step = 1, lo = i + 1;
  while (lo + step < n && list_->chunk_last(lo + step) < target) {
    lo += step;
    step *= 2;
  }
  size_t hi = std::min(n, lo + step + 1);
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (list_->chunk_last(mid) < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void PostingCursor::seek(uint32_t target) {
  if (doc_ >= target) return;
  const size_t c = chunk_for(target);
  const std::vector<PostingList::Chunk>& chunks = list_->chunks();
  if (c >= chunks.size()) {
    chunk_ = chunks.size();
    pos_ = 0;
    doc_ = kNoDoc;
    return;
  }
  const std::vector<uint32_t>& docs = chunks[c].docs;
  const size_t from = c == chunk_ ? pos_ : 0;
  pos_ = static_cast<size_t>(
      std::lower_bound(docs.begin() + static_cast<ptrdiff_t>(from), docs.end(), target) -
      docs.begin());
  chunk_ = c;
  settle();
}

}  // namespace tidal::text
