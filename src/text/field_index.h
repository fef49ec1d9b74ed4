// FieldIndex: the inverted index of one text attribute — term -> posting
// list, and each document's length — with the collection statistics BM25
// reads (document count, average length).
//
// Terms get dense ids from an open-addressing dictionary, and posting lists
// are kept by id, so indexing a document costs one dictionary probe per
// distinct word. Documents are dense entity indexes. A document's terms
// arrive as a bag (distinct terms with their counts and hashes) built by
// make_bag(); replacing a document means
// removing its old bag and adding the new one. Writes run under the
// database's exclusive state lock and reads under the shared one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/analyzer.h"
#include "text/posting_list.h"

namespace tidal::text {

// One distinct term of a document, with its hash (for the dictionary).
struct BagTerm {
  std::string term;
  uint64_t hash = 0;
  uint32_t count = 0;
};

// A document's distinct terms with their counts, and its length (words
// indexed, stop words excluded).
struct TermBag {
  std::vector<BagTerm> terms;  // ordered by hash, then term
  uint32_t length = 0;
};

// The bag of analyzed tokens. A pure function (no index state), so start-up
// can build bags on one thread while another adds them to the index.
void make_bag(const std::vector<Token>& tokens, TermBag* out);

class FieldIndex {
 public:
  FieldIndex();

  // Adds document `doc` (not indexed now) with `bag`. An empty bag (no
  // words) still counts the document, with length 0.
  void add(uint32_t doc, const TermBag& bag);
  // Removes document `doc`, indexed with exactly `bag`.
  void remove(uint32_t doc, const TermBag& bag);

  // The posting list of a term; nullptr when no document has it.
  const PostingList* find(std::string_view term) const;
  uint32_t doc_count() const { return docs_; }
  double average_length() const {
    return docs_ == 0 ? 0 : static_cast<double>(total_length_) / docs_;
  }
  uint32_t length(uint32_t doc) const { return doc < lengths_.size() ? lengths_[doc] : 0; }
  const std::vector<uint32_t>& lengths() const { return lengths_; }
  size_t term_count() const { return terms_.size(); }
  size_t memory_bytes() const;

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // The id of `term`, or kEmpty; `slot` gets where it is or would go.
  uint32_t lookup(std::string_view term, uint64_t hash, size_t* slot) const;
  void grow();

  std::vector<std::string> terms_;  // by id
  std::vector<PostingList> lists_;  // by id
  std::vector<uint32_t> table_;     // open addressing: term ids, kEmpty when free
  std::vector<uint32_t> hashes_;    // the high 32 bits of each id's hash
  std::vector<uint32_t> lengths_;   // by document
  std::vector<uint32_t> ids_;       // add()'s scratch: the bag's term ids
  uint64_t total_length_ = 0;
  uint32_t docs_ = 0;
};

// BM25 with the classic (k1 + 1) numerator and Robertson–Spärck Jones idf
// made non-negative as Lucene does: idf = ln(1 + (N - df + 0.5) / (df + 0.5)).
double bm25_idf(uint64_t doc_count, uint64_t df);

}  // namespace tidal::text
