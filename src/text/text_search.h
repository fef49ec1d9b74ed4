// TextSearch: BM25 over one or more text attributes of a kind, compiled
// once per query and run document-at-a-time (docs/search.md).
//
// Scoring. Each query word is looked up in each searched attribute (with
// that attribute's analyzer, so each attribute may stem differently); a
// document's score is the sum over (word, attribute) pairs of
//   boost · qtf · idf · (k1 + 1) · tf / (tf + k1 · (1 − b + b · dl / avgdl))
// with idf = ln(1 + (N − df + 0.5) / (df + 0.5)), N, df and avgdl taken per
// attribute, qtf the word's count in the query, k1 and b the attribute's.
//
// Strategies, chosen per query (EXPLAIN names the one used):
// - "block-max WAND": words that may match (no +, no phrase): documents are
//   visited in order, and whole blocks of postings are skipped whenever the
//   best they could add cannot beat the current k-th score;
// - "conjunctive": some clause must match (MATCH ALL, +word, a phrase): the
//   posting lists of the required clauses are intersected, and each
//   document in the intersection is checked and scored;
// - "candidates": a small candidate set (a selective WHERE): each candidate
//   is looked up in the posting lists.
// Excluded clauses (-word) are checked for each document a strategy keeps.
// Phrases are checked against the stored text of the documents that reach
// the check, analyzed again (no positions are indexed).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "entities/filter_index.h"
#include "text/query_text.h"
#include "text/text_index.h"

namespace tidal::text {

struct FieldChoice {
  const TextField* field = nullptr;
  double boost = 1.0;  // multiplies the attribute's own boost
};

struct ScoredDoc {
  uint32_t doc = 0;
  double score = 0;
};

// What a run did, for EXPLAIN.
struct SearchStats {
  std::string strategy;
  uint64_t postings = 0;   // in the posting lists the query reads
  uint64_t evaluated = 0;  // documents scored
  uint64_t matched = 0;    // documents that matched and were kept
};

class TextSearch {
 public:
  // `fields` empty: every text attribute of `kind` with its own boost.
  // InvalidArgument for a kind without text attributes.
  static Result<std::unique_ptr<TextSearch>> compile(const TextIndex& index, EntityKind kind,
                                                     std::vector<FieldChoice> fields,
                                                     const std::vector<QueryClause>& clauses,
                                                     bool match_all);
  ~TextSearch();

  // True when no clause has a word any document has (all stop words, or
  // unknown words): nothing can match.
  bool matches_nothing() const;
  // A one-line description: the attributes, words and terms.
  std::string describe() const;

  // The best `k` documents by score (descending, then by document
  // ascending) among those in `candidates` (nullptr: any) that `accept`
  // takes (nullptr: all; it sees the document and its score).
  std::vector<ScoredDoc> top(size_t k, const entities::Bitmap* candidates,
                             const std::function<bool(uint32_t, double)>& accept,
                             SearchStats* stats);
  // Every matching document in `candidates` (nullptr: any) with its score,
  // ascending by document.
  std::vector<ScoredDoc> all(const entities::Bitmap* candidates, SearchStats* stats);

  struct Impl;

 private:
  explicit TextSearch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal::text
