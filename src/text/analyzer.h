// Analyzer: turns a text attribute's UTF-8 value (or a search query) into
// the terms the inverted index stores (docs/search.md).
//
// The chain, in order:
//   1. word segmentation by Unicode's word-boundary rules (UAX #29, ICU's
//      word BreakIterator); only segments that contain a letter, digit or
//      ideograph are words (spaces and punctuation are dropped);
//   2. NFKC case folding (ICU's NFKC_Casefold: "Straße" -> "strasse",
//      full-width and ligature forms to their plain letters);
//   3. stop words (optional): a word on the list is dropped, but it still
//      takes a position, so a phrase does not match across a removed word;
//   4. stemming (optional): a Snowball stemmer from libstemmer.
//
// ASCII text takes a fast path that gives exactly the words ICU would (a
// property test holds the two to each other): the text is cut at ASCII
// whitespace, where a word boundary always falls, and pieces that are all
// ASCII are segmented by hand (ascii_words.h) and folded by lowercasing;
// other pieces go through ICU (icu_words.h). ICU's root rules differ from
// plain UAX #29 in ways that show in ASCII: ':' does not join letters ("a:b"
// is two words) and '@' counts as a letter ("user@example.com" is one word).
//
// Invalid UTF-8 never fails: ICU reads each ill-formed sequence as U+FFFD,
// which is never part of a word, so invalid bytes separate words and take
// no position. Text of any length is accepted; positions count modulo 2^32.
//
// An Analyzer is immutable after create() and safe to use from many threads
// at once. ICU break iterators and Snowball stemmers are not, so each thread
// keeps its own: one BreakIterator, and per stemming algorithm it has used,
// one stemmer with a stem cache of at most 4 MiB (stem_cache.h). That memory
// belongs to the thread, not to Analyzers: creating and destroying Analyzers
// does not grow it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/status.h"

namespace tidal::text {

// Words longer than this many UTF-8 bytes (after folding) are dropped: they
// are not words a person searches for (base64, hashes, URLs without breaks).
inline constexpr size_t kMaxTermBytes = 64;

struct AnalyzerOptions {
  // "none", or a Snowball algorithm libstemmer knows ("english", "porter",
  // "french", "german", ...; stemmer_names() lists them).
  std::string stemmer = "none";
  // "none", or "english": the 33 classic English stop words (a, an, and,
  // are, as, at, be, but, by, for, if, in, into, is, it, no, not, of, on, or,
  // such, that, the, their, then, there, these, they, this, to, was, will,
  // with).
  std::string stop_words = "none";

  bool operator==(const AnalyzerOptions&) const = default;
};

// One analyzed word.
struct Token {
  std::string term;       // folded, stemmed
  uint32_t position = 0;  // index among all words of the text, stop words included
};

class Analyzer {
 public:
  // InvalidArgument (Subsystem::kSchema) naming "stemmer" or "stop_words",
  // the value and what is accepted, for an unknown name; Internal if ICU's
  // data cannot be loaded.
  static Result<std::unique_ptr<Analyzer>> create(const AnalyzerOptions& options);
  ~Analyzer();

  const AnalyzerOptions& options() const;

  // The terms of `text` in order (stop words dropped, positions kept). Words
  // longer than kMaxTermBytes after folding are dropped too, also keeping
  // their positions. `out` is cleared first; reusing one vector avoids most
  // allocations (its tokens' strings are reused).
  void analyze(std::string_view text, std::vector<Token>* out) const;

  // The Snowball algorithms this build's libstemmer offers, ascending.
  static std::vector<std::string> stemmer_names();

 private:
  // Tests and benchmarks force the ICU path through this (analyzer_internal.h).
  friend void analyze_with_icu(const Analyzer& analyzer, std::string_view text,
                               std::vector<Token>* out);
  struct Impl;
  explicit Analyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal::text
