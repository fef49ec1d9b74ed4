// PostingList: the documents of one term in one text attribute, with the
// term's count in each, kept sorted by document for document-at-a-time
// search with block-max pruning (Ding & Suel, "Faster top-k document
// retrieval using block-max indexes", SIGIR 2011).
//
// The list is a sequence of chunks of at most kMaxChunk postings, each
// sorted and all in document order. A document added after every other one
// (the common case: new documents get new dense indexes) is appended; one
// added in the middle goes into its chunk, which splits when full; a removed
// posting leaves its chunk, which merges into a neighbour when small. So an
// update costs O(log n + kMaxChunk), never a shift of the whole list.
//
// Each chunk keeps what bounds the BM25 score of any of its documents for
// any k1, b and average length: with c1 = k1 (1 - b) and c2 = k1 b / avgdl,
// a document's term score is w tf / (tf + c1 + c2 dl) = w / (1 + c1 / tf +
// c2 dl / tf), so the chunk's largest tf and smallest dl / tf give
// bound = w / (1 + c1 / max_tf + c2 min_ratio) >= every score in the chunk.
// The whole list keeps the same two numbers over all chunks (after a
// removal they are recomputed, so they stay exact bounds, never loose by
// more than one removal's worth).
//
// Not thread-safe: writes happen under the database's exclusive state
// lock, reads under the shared one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tidal::text {

inline constexpr uint32_t kNoDoc = std::numeric_limits<uint32_t>::max();
// A term's count in one document is kept up to this (BM25 saturates long
// before: at k1 = 1.2 the score of tf = 65,535 is within 0.002% of the limit).
inline constexpr uint32_t kMaxTf = 65535;

class PostingList {
 public:
  static constexpr size_t kMaxChunk = 256;   // a chunk splits above this
  static constexpr size_t kFillChunk = 128;  // appends start a new chunk at this
  static constexpr size_t kMinChunk = 32;    // a chunk merges below this

  struct Chunk {
    std::vector<uint32_t> docs;  // ascending
    std::vector<uint16_t> tfs;
    uint32_t max_tf = 0;
    float min_ratio = 0;  // smallest dl / tf, rounded down
  };

  // Adds `doc` (not in the list) with count `tf` (>= 1; capped at kMaxTf)
  // and the document's length `dl` in this attribute.
  void insert(uint32_t doc, uint32_t tf, uint32_t dl);
  // Removes `doc`; false when it is not in the list. `doc_len[d]` is the
  // length of document d (for the bounds of what remains).
  bool remove(uint32_t doc, const std::vector<uint32_t>& doc_len);

  size_t size() const { return size_; }  // the document frequency
  bool empty() const { return size_ == 0; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  // The last document of chunk i (for skipping without touching the chunk).
  uint32_t chunk_last(size_t i) const { return lasts_[i]; }
  uint32_t max_tf() const { return max_tf_; }
  // Where an append will write (for prefetching a batch of inserts).
  const void* tail() const {
    return chunks_.empty() ? static_cast<const void*>(this) : chunks_.back().docs.data();
  }
  float min_ratio() const { return min_ratio_; }
  size_t memory_bytes() const;

  // The posting of `doc`'s count, 0 when absent (tests, phrase checks).
  uint32_t tf_of(uint32_t doc) const;

 private:
  void refresh_chunk(size_t i, const std::vector<uint32_t>& doc_len);
  void refresh_bounds();

  std::vector<Chunk> chunks_;
  std::vector<uint32_t> lasts_;  // lasts_[i] == chunks_[i].docs.back()
  uint32_t last_doc_ = 0;        // lasts_.back() when not empty (saves a cache miss)
  size_t size_ = 0;
  uint32_t max_tf_ = 0;
  float min_ratio_ = std::numeric_limits<float>::infinity();
};

// A forward cursor over a PostingList for document-at-a-time search.
class PostingCursor {
 public:
  PostingCursor() = default;
  explicit PostingCursor(const PostingList* list) : list_(list) { settle(); }

  uint32_t doc() const { return doc_; }  // kNoDoc at the end
  uint32_t tf() const { return list_->chunks()[chunk_].tfs[pos_]; }
  void next() {
    ++pos_;
    settle();
  }
  // Moves to the first document >= target (never backwards).
  void seek(uint32_t target);
  // The index of the chunk that would hold `target` (>= the current one),
  // without moving: for block-max bounds. chunks().size() past the end.
  size_t chunk_for(uint32_t target) const;
  const PostingList* list() const { return list_; }

 private:
  // Moves past an exhausted chunk and sets doc_.
  void settle();

  const PostingList* list_ = nullptr;
  size_t chunk_ = 0;
  size_t pos_ = 0;
  uint32_t doc_ = kNoDoc;
};

}  // namespace tidal::text
