#include "text/icu_words.h"

#include <unicode/brkiter.h>
#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include <memory>

namespace tidal::text {
namespace {

// BreakIterator native indexes are int32_t: longer text is handed to ICU in
// parts of at most this many bytes, cut at a character boundary. Only a run
// of more than 1 GiB without a break could be cut differently.
constexpr size_t kMaxIcuPart = size_t{1} << 30;

struct Shared {
  std::unique_ptr<icu::BreakIterator> prototype;
  const icu::Normalizer2* casefold = nullptr;
  Status status;
};

const Shared& shared() {
  static const Shared* s = [] {
    auto* out = new Shared();  // lives for the process: threads may still use it at exit
    UErrorCode err = U_ZERO_ERROR;
    out->prototype.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), err));
    if (U_FAILURE(err) || out->prototype == nullptr) {
      out->status = Status::Internal(
          Subsystem::kCore, std::string("ICU word BreakIterator unavailable: ") + u_errorName(err));
      out->prototype.reset();
      return out;
    }
    err = U_ZERO_ERROR;
    out->casefold = icu::Normalizer2::getNFKCCasefoldInstance(err);
    if (U_FAILURE(err) || out->casefold == nullptr) {
      out->status = Status::Internal(
          Subsystem::kCore, std::string("ICU NFKC_Casefold unavailable: ") + u_errorName(err));
      out->casefold = nullptr;
    }
    return out;
  }();
  return *s;
}

// This thread's BreakIterator and the UText it reads through.
struct ThreadSegmenter {
  std::unique_ptr<icu::BreakIterator> iter;
  UText text = UTEXT_INITIALIZER;

  ThreadSegmenter() {
    if (shared().prototype) iter.reset(shared().prototype->clone());
  }
  ~ThreadSegmenter() { utext_close(&text); }
  ThreadSegmenter(const ThreadSegmenter&) = delete;
  ThreadSegmenter& operator=(const ThreadSegmenter&) = delete;
};

// Where to end a part of at most kMaxIcuPart bytes: not inside a UTF-8
// sequence (continuation bytes are 10xxxxxx).
size_t part_end(std::string_view text, size_t begin) {
  size_t end = begin + kMaxIcuPart;
  if (end >= text.size()) return text.size();
  for (int back = 0; back < 3 && (static_cast<uint8_t>(text[end]) & 0xc0) == 0x80; ++back) --end;
  return end;
}

}  // namespace

Status icu_words_available() {
  return shared().status;
}

void icu_word_spans(std::string_view text, size_t base, std::vector<WordSpan>* out) {
  thread_local ThreadSegmenter seg;
  if (!seg.iter) return;
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = part_end(text, begin);
    UErrorCode err = U_ZERO_ERROR;
    utext_openUTF8(&seg.text, text.data() + begin, static_cast<int64_t>(end - begin), &err);
    if (U_FAILURE(err)) return;
    seg.iter->setText(&seg.text, err);
    if (U_FAILURE(err)) return;
    int32_t from = seg.iter->first();
    for (int32_t to = seg.iter->next(); to != icu::BreakIterator::DONE;
         from = to, to = seg.iter->next()) {
      if (seg.iter->getRuleStatus() == UBRK_WORD_NONE) continue;
      out->push_back({base + begin + static_cast<size_t>(from), static_cast<size_t>(to - from)});
    }
    begin = end;
  }
}

void nfkc_casefold(std::string_view word, std::string* out) {
  out->clear();
  const icu::Normalizer2* casefold = shared().casefold;
  if (casefold == nullptr) return;
  icu::StringByteSink<std::string> sink(out);
  UErrorCode err = U_ZERO_ERROR;
  casefold->normalizeUTF8(0, icu::StringPiece(word.data(), static_cast<int32_t>(word.size())), sink,
                          nullptr, err);
  if (U_FAILURE(err)) out->clear();
}

}  // namespace tidal::text
