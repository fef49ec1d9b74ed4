// The peer of the text benches: Xapian 1.4 set up to analyze and score as
// tidalDB's flat layout does (one field, title + " " + text), so that quality
// and speed compare like with like:
//
//   analysis   Xapian::TermGenerator and Xapian::QueryParser, both with
//              Xapian::Stem("english") (Snowball English = Porter2, as
//              tidalDB's "english"), STEM_ALL (every word stemmed, no
//              unstemmed "exact" terms: tidalDB stems every word; STEM_SOME
//              would index each word twice and leave capitalized query words
//              unstemmed), and a SimpleStopper with the 33 English stop words
//              of src/text/analyzer.h; the TermGenerator skips stop words
//              (STOP_ALL), as tidalDB drops them from the index.
//   query      bag_of_words, and the characters that make Xapian's
//              QueryParser join words into a phrase (- / : \ @, '.' unless
//              between digits) become spaces; QueryParser flags 0 (no
//              boolean operators, phrases or +/-); default operator OP_OR.
//              So every word is one optional term, as in tidalDB.
//   scoring    Xapian::BM25Weight(k1 = 0.9, k2 = 0, k3 = 1, b = 0.4,
//              min_normlen = 0.5): Anserini's k1 and b; k2 = 0 drops
//              Xapian's extra length correction; k3 = 1 weighs a query word
//              written n times by 2n / (1 + n) (Lucene, summing one clause
//              per occurrence, by n; the two agree for n = 1, nearly every
//              word of these queries).
//
// Known differences that remain: Xapian's IDF is log((N - n + 0.5) / (n +
// 0.5)) (clamped), Lucene's and tidalDB's log(1 + (N - n + 0.5) / (n + 0.5));
// Xapian's tokenizer is its own, not UAX #29.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/beir.h"
#include "support/ir_metrics.h"
#include "tidal/status.h"

namespace tidal::bench {

// English stop words, the same 33 as tidalDB's "english" list.
const std::vector<std::string>& english_stop_words();

// One Xapian database on disk: build it with add() and commit(), then search.
// Not thread-safe. Every Xapian::Error becomes a Status (kIo) naming the call.
class XapianTextIndex {
 public:
  // Creates (or overwrites) a database in `folder`.
  static Result<std::unique_ptr<XapianTextIndex>> create(const std::string& folder);
  ~XapianTextIndex();

  // Indexes flat_contents(doc) with the document id as the document's data.
  Status add(const BeirDocument& doc);
  // Makes everything added durable and searchable.
  Status commit();
  // add() of documents [0, count) of `source`, then commit(). Returns the
  // seconds spent in add() and commit() (making the documents is not counted).
  Result<double> add_all(size_t count, const DocumentSource& source);

  // The best `k` documents for the bag-of-words form of `query`, best first.
  Result<std::vector<ScoredDoc>> search(std::string_view query, size_t k);

  // The number of documents indexed.
  size_t size() const;

 private:
  struct Impl;
  explicit XapianTextIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal::bench
