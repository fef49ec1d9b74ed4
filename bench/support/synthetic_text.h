// A synthetic corpus of any size with a real corpus's vocabulary statistics,
// for measuring text indexing and search beyond the real corpus's size.
//
// Statistics taken from the real documents (title + " " + text, split on
// every byte that is not an ASCII letter or digit, lowercased): the unigram
// frequency of every word, and the number of words of every document.
// Synthetic document i has a length drawn from the real lengths (uniformly
// over the real documents) and that many words drawn independently from the
// unigram distribution (Vose's alias method), joined by spaces. Each document
// draws from its own generator, seeded from (seed, i): document i is the same
// in every run and on every machine, whatever order documents are made in.
//
// Words are independent of each other, so there are no phrases or topics: the
// corpus has the real term-frequency skew and document lengths, not real
// co-occurrence. Posting-list lengths scale with the corpus size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/beir.h"

namespace tidal::bench {

class SyntheticCorpus {
 public:
  // Takes the statistics of `real` (which must hold a document with a word).
  SyntheticCorpus(const std::vector<BeirDocument>& real, uint64_t seed);

  // Document `i`: id "syn<i>", an empty title, the words as text.
  void document(size_t i, BeirDocument* out) const;

  size_t vocabulary() const { return words_.size(); }
  double mean_length() const;

 private:
  uint64_t seed_;
  std::vector<std::string> words_;
  // Vose's alias table over words_: pick column c uniformly, then c with
  // probability prob_[c], else alias_[c].
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
  std::vector<uint32_t> lengths_;  // words per real document
};

}  // namespace tidal::bench
