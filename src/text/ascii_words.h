// Word segmentation of pure-ASCII text by the rules of UAX #29 as ICU's root
// word BreakIterator applies them, without ICU: the analyzer's fast path.
//
// Restricted to ASCII the rules reduce to byte classes:
//   ALetter       A-Z a-z @  ('@' is not ALetter in UAX #29; ICU's root
//                 rules add it, so "@" alone is a word and
//                 "user@example.com" is one word)
//   Numeric       0-9
//   ExtendNumLet  _
//   MidNumLet     .        (joins letter.letter and digit.digit)
//   Single_Quote  '        (joins letter'letter and digit'digit)
//   MidNum        , ;      (joins digit,digit only)
//   everything else breaks on both sides. ':' is MidLetter in UAX #29, but
//   ICU's root rules take it out of MidLetter, so "a:b" is two words.
// Letters, digits and '_' never break between each other (WB5, WB8-WB10,
// WB13a/b); a Mid* byte joins only when its two neighbours qualify (WB6/7,
// WB11/12), so "a..b", "a.1" and "1.a" break, "1,000" and "it's" do not.
//
// A segment is a word (ICU rule status other than UBRK_WORD_NONE) when it
// holds a letter (or '@') or digit, or is two or more '_' (ICU tags WB13a's
// ExtendNumLet x ExtendNumLet as a letter word); a lone '_' is not.
//
// tests/property/analyzer_property_test.cc holds this to ICU. Header-only so
// the analyzer's per-word work inlines into the scan.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tidal::text {
namespace ascii_words_internal {

// Word_Break classes of the ASCII bytes that can be part of a word.
enum Class : uint8_t {
  kOther = 0,
  kLetter,       // ALetter, and '@'
  kDigit,        // Numeric
  kUnderscore,   // ExtendNumLet
  kMidNumLet,    // '.'
  kSingleQuote,  // '\''
  kMidNum,       // ',' ';'
};

constexpr std::array<uint8_t, 128> make_classes() {
  std::array<uint8_t, 128> c{};
  for (int b = 'a'; b <= 'z'; ++b) c[b] = kLetter;
  for (int b = 'A'; b <= 'Z'; ++b) c[b] = kLetter;
  c['@'] = kLetter;
  for (int b = '0'; b <= '9'; ++b) c[b] = kDigit;
  c['_'] = kUnderscore;
  c['.'] = kMidNumLet;
  c['\''] = kSingleQuote;
  c[','] = kMidNum;
  c[';'] = kMidNum;
  return c;
}
inline constexpr std::array<uint8_t, 128> kClasses = make_classes();

inline uint8_t class_of(char b) {
  return kClasses[static_cast<uint8_t>(b) & 0x7f];
}

inline bool is_core(uint8_t c) {
  return c == kLetter || c == kDigit || c == kUnderscore;
}

// Whether a Mid* byte of class `mid` between bytes of classes `before` and
// `after` joins them (WB6/7 for letters, WB11/12 for digits).
inline bool mid_joins(uint8_t before, uint8_t mid, uint8_t after) {
  if (before == kLetter && after == kLetter) return mid == kMidNumLet || mid == kSingleQuote;
  if (before == kDigit && after == kDigit) return mid != kOther;
  return false;
}

}  // namespace ascii_words_internal

// Calls fn(begin, size) for each word of `text`, which must be ASCII, in
// order; offsets are into `text`.
template <typename Fn>
void for_each_ascii_word(std::string_view text, Fn&& fn) {
  using namespace ascii_words_internal;
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    uint8_t c = class_of(p[i]);
    if (!is_core(c)) {
      ++i;
      continue;
    }
    const size_t begin = i;
    bool has_alnum = c != kUnderscore;
    uint8_t prev = c;
    ++i;
    while (i < n) {
      c = class_of(p[i]);
      if (is_core(c)) {
        has_alnum |= c != kUnderscore;
        prev = c;
        ++i;
      } else if (c != kOther && i + 1 < n && mid_joins(prev, c, class_of(p[i + 1]))) {
        prev = class_of(p[i + 1]);
        i += 2;
      } else {
        break;
      }
    }
    if (has_alnum || i - begin >= 2) fn(begin, i - begin);
  }
}

}  // namespace tidal::text
