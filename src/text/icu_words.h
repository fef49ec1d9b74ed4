// Word segmentation and case folding of any UTF-8 text through ICU: the
// analyzer's general path (ascii_words.h is the fast one for ASCII).
//
// Segmentation is ICU's word BreakIterator for the root locale (UAX #29, with
// dictionaries for Chinese, Japanese, Thai and the like); a segment is a word
// when its rule status is not UBRK_WORD_NONE (letters, numbers, kana,
// ideographs). ICU reads the UTF-8 in place and sees each ill-formed
// sequence as U+FFFD, which is never part of a word: invalid bytes separate.
//
// Each thread keeps its own clone of one shared BreakIterator (they are not
// thread-safe), so memory grows with threads, not with calls or analyzers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/word_span.h"
#include "tidal/status.h"

namespace tidal::text {

// OK when ICU's word BreakIterator and NFKC_Casefold data can be loaded;
// otherwise why not. The functions below do nothing useful unless it is OK.
Status icu_words_available();

// Appends the words of `text` to `out`, with offsets shifted by `base`.
void icu_word_spans(std::string_view text, size_t base, std::vector<WordSpan>* out);

// Replaces `*out` with the NFKC_Casefold form of the UTF-8 `word`.
void nfkc_casefold(std::string_view word, std::string* out);

}  // namespace tidal::text
