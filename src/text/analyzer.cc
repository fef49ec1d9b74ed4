#include "text/analyzer.h"

#include <libstemmer.h>

#include <algorithm>
#include <cstring>

#include "schema/stemmers.h"
#include "text/analyzer_internal.h"
#include "text/ascii_words.h"
#include "text/icu_words.h"
#include "text/stem_cache.h"

namespace tidal::text {
namespace {

// Sorted, for binary search.
constexpr std::string_view kEnglishStopWords[] = {
    "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
    "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
    "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
constexpr size_t kLongestStopWord = 5;

bool is_english_stop_word(std::string_view word) {
  return word.size() <= kLongestStopWord &&
         std::binary_search(std::begin(kEnglishStopWords), std::end(kEnglishStopWords), word);
}

std::string accepted(const std::vector<std::string>& names) {
  std::string out = "must be \"none\" or one of:";
  for (size_t i = 0; i < names.size(); ++i) out += (i == 0 ? " " : ", ") + names[i];
  return out;
}

// This thread's stemmers, one per algorithm used, created on first use.
// Bounded by the number of algorithms, however many Analyzers come and go.
StemCache* thread_stemmer(int algorithm) {
  thread_local std::vector<std::unique_ptr<StemCache>> caches;
  if (caches.empty()) caches.resize(stemmer_algorithms().size());
  auto& cache = caches[static_cast<size_t>(algorithm)];
  if (!cache) {
    const std::string& name = stemmer_algorithms()[static_cast<size_t>(algorithm)];
    cache = std::make_unique<StemCache>(sb_stemmer_new(name.c_str(), "UTF_8"));
  }
  return cache.get();
}

// ASCII whitespace: no word contains it, and a word boundary falls on both
// sides of it whatever the neighbours (WB3a/b for CR, LF, VT, FF; space and
// tab are WSegSpace and Other, which no rule joins to a letter or digit).
// So the text can be cut there and each piece segmented on its own.
inline bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The first byte at or after `from` that is not ASCII, or text.size().
size_t find_non_ascii(std::string_view text, size_t from) {
  const size_t n = text.size();
  size_t i = from;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < n && static_cast<uint8_t>(text[i]) < 0x80) ++i;
  return i;
}

// Per-call state: numbers the words and appends the surviving terms.
class TokenSink {
 public:
  TokenSink(bool stop_words, StemCache* stems, std::vector<Token>* out)
      : stop_words_(stop_words), stems_(stems), out_(out) {}

  // Every word takes a position, whether or not it is kept.
  void word(std::string_view folded) { add(folded, 0, false); }

  // The same, for a word padded as StemCache::hash_padded() requires, with
  // its hash.
  void padded_word(std::string_view folded, uint32_t hash) { add(folded, hash, true); }

  StemCache* stems() const { return stems_; }

  // Drops what is left of the tokens out held before.
  void finish() { out_->resize(count_); }

 private:
  void add(std::string_view folded, uint32_t hash, bool padded) {
    const uint32_t position = next_position_++;
    if (folded.empty() || folded.size() > kMaxTermBytes) return;
    if (stop_words_ && is_english_stop_word(folded)) return;
    std::string_view term = folded;
    if (stems_ != nullptr) term = padded ? stems_->stem_padded(folded, hash) : stems_->stem(folded);
    if (count_ < out_->size()) {
      Token& t = (*out_)[count_];  // reuse the string's buffer
      t.term.assign(term);
      t.position = position;
    } else {
      out_->push_back(Token{std::string(term), position});
    }
    ++count_;
  }

  bool stop_words_;
  StemCache* stems_;
  std::vector<Token>* out_;
  size_t count_ = 0;
  uint32_t next_position_ = 0;
};

struct ThreadBuffers {
  std::vector<WordSpan> spans;  // of one piece of non-ASCII text
  std::string folded;

  // Lets go of what one huge text made the buffers grow to.
  void trim() {
    constexpr size_t kKeepSpans = size_t{1} << 16;
    constexpr size_t kKeepFolded = size_t{1} << 16;
    if (spans.capacity() > kKeepSpans) std::vector<WordSpan>().swap(spans);
    if (folded.capacity() > kKeepFolded) std::string().swap(folded);
  }
};

ThreadBuffers& thread_buffers() {
  thread_local ThreadBuffers buffers;
  return buffers;
}

// ASCII folding is lowercasing; it keeps the length. `out` has room for
// kMaxTermBytes.
inline void ascii_lower(const char* word, size_t size, char* out) {
  for (size_t i = 0; i < size; ++i) {
    const char c = word[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
}

// How many words ahead the stem cache's slots are fetched: a slot is one
// cache line, and the cache is larger than the CPU's.
constexpr size_t kPrefetchWords = 4;

void emit_ascii(std::string_view text, size_t begin, size_t end, TokenSink* sink) {
  const std::string_view piece = text.substr(begin, end - begin);
  StemCache* stems = sink->stems();
  if (stems == nullptr) {
    for_each_ascii_word(piece, [&](size_t b, size_t size) {
      if (size > kMaxTermBytes) {
        sink->word(piece.substr(b, size));  // dropped, takes a position
        return;
      }
      char lower[kMaxTermBytes];
      ascii_lower(piece.data() + b, size, lower);
      sink->word(std::string_view(lower, size));
    });
    return;
  }
  // With stemming: each word is folded and hashed kPrefetchWords words
  // before it is used, and its slot in the stem cache fetched meanwhile.
  struct Folded {
    char lower[kMaxTermBytes];  // zero-padded to StemCache::kKeyBytes
    size_t size;
    uint32_t hash;
  };
  static_assert(kMaxTermBytes >= StemCache::kKeyBytes);
  Folded ring[kPrefetchWords];
  size_t pending = 0;  // words folded, not yet emitted
  size_t next = 0;     // the ring index of the oldest of them
  auto emit_oldest = [&] {
    const Folded& f = ring[next];
    if (f.size > kMaxTermBytes) {
      sink->word(std::string_view());  // empty: dropped, takes a position
    } else {
      sink->padded_word(std::string_view(f.lower, f.size), f.hash);
    }
    next = (next + 1) % kPrefetchWords;
    --pending;
  };
  for_each_ascii_word(piece, [&](size_t b, size_t size) {
    if (pending == kPrefetchWords) emit_oldest();
    Folded& f = ring[(next + pending) % kPrefetchWords];
    ++pending;
    f.size = size;
    if (size > kMaxTermBytes) return;
    std::memset(f.lower, 0, StemCache::kKeyBytes);
    ascii_lower(piece.data() + b, size, f.lower);
    f.hash = StemCache::hash_padded(f.lower, size);
    stems->prefetch(f.hash);
  });
  while (pending > 0) emit_oldest();
}

void emit_icu(std::string_view text, size_t begin, size_t end, TokenSink* sink) {
  ThreadBuffers& buf = thread_buffers();
  buf.spans.clear();
  icu_word_spans(text.substr(begin, end - begin), begin, &buf.spans);
  for (const WordSpan& s : buf.spans) {
    nfkc_casefold(text.substr(s.begin, s.size), &buf.folded);
    sink->word(buf.folded);
  }
}

}  // namespace

struct Analyzer::Impl {
  AnalyzerOptions options;
  int stemmer = -1;  // index into stemmer_algorithms(), or -1 for none
  bool english_stop_words = false;

  TokenSink sink(std::vector<Token>* out) const {
    return TokenSink(english_stop_words, stemmer >= 0 ? thread_stemmer(stemmer) : nullptr, out);
  }
};

Result<std::unique_ptr<Analyzer>> Analyzer::create(const AnalyzerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.stemmer != "none") {
    const auto& names = stemmer_algorithms();
    auto it = std::find(names.begin(), names.end(), options.stemmer);
    if (it == names.end()) {
      return Status::Invalid(Subsystem::kSchema, "stemmer", options.stemmer, accepted(names));
    }
    impl->stemmer = static_cast<int>(it - names.begin());
  }
  if (options.stop_words == "english") {
    impl->english_stop_words = true;
  } else if (options.stop_words != "none") {
    return Status::Invalid(Subsystem::kSchema, "stop_words", options.stop_words,
                           "must be \"none\" or \"english\"");
  }
  TIDAL_RETURN_IF_ERROR(icu_words_available());
  return std::unique_ptr<Analyzer>(new Analyzer(std::move(impl)));
}

Analyzer::Analyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Analyzer::~Analyzer() = default;

const AnalyzerOptions& Analyzer::options() const {
  return impl_->options;
}

// Cuts the text at ASCII whitespace into pieces; a piece that is all ASCII
// is segmented by ascii_words, any other by ICU. Consecutive ASCII pieces are
// segmented together, and so are non-ASCII pieces with little ASCII between
// them (one ICU call costs more than a short stretch of ICU text).
void Analyzer::analyze(std::string_view text, std::vector<Token>* out) const {
  constexpr size_t kJoinIcuWithin = 64;  // bytes
  TokenSink sink = impl_->sink(out);
  const size_t n = text.size();
  auto piece_begin = [&](size_t non_ascii, size_t floor) {
    while (non_ascii > floor && !is_ascii_space(text[non_ascii - 1])) --non_ascii;
    return non_ascii;
  };
  auto piece_end = [&](size_t non_ascii) {
    while (non_ascii < n && !is_ascii_space(text[non_ascii])) ++non_ascii;
    return non_ascii;
  };
  size_t pos = 0;
  size_t non_ascii = find_non_ascii(text, 0);
  while (pos < n) {
    if (non_ascii == n) {
      emit_ascii(text, pos, n, &sink);
      break;
    }
    const size_t begin = piece_begin(non_ascii, pos);
    if (begin > pos) emit_ascii(text, pos, begin, &sink);
    size_t end = piece_end(non_ascii);
    non_ascii = find_non_ascii(text, end);
    while (non_ascii < n && non_ascii - end <= kJoinIcuWithin) {
      end = piece_end(non_ascii);
      non_ascii = find_non_ascii(text, end);
    }
    emit_icu(text, begin, end, &sink);
    pos = end;
  }
  sink.finish();
  thread_buffers().trim();
}

void analyze_with_icu(const Analyzer& analyzer, std::string_view text, std::vector<Token>* out) {
  TokenSink sink = analyzer.impl_->sink(out);
  emit_icu(text, 0, text.size(), &sink);
  sink.finish();
  thread_buffers().trim();
}

std::vector<std::string> Analyzer::stemmer_names() {
  return tidal::stemmer_names();
}

}  // namespace tidal::text
