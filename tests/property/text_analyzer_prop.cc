// The analyzer's ASCII fast path and its cutting of text at ASCII whitespace
// must give exactly the tokens ICU gives for the whole text
// (analyze_with_icu). Generated text leans on what the word-break rules treat
// specially: letters, digits, '_', the Mid* punctuation . , ' : ; and line
// breaks; the mixed generator adds non-ASCII letters, combining marks,
// format characters, emoji, CJK, other spaces and invalid UTF-8.
#include <gtest/gtest.h>
#include <libstemmer.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "text/analyzer.h"
#include "text/analyzer_internal.h"

namespace tidal::text {
namespace {

using Pairs = std::vector<std::pair<std::string, uint32_t>>;

Pairs pairs(const std::vector<Token>& tokens) {
  Pairs out;
  for (const Token& t : tokens) out.emplace_back(t.term, t.position);
  return out;
}

const Analyzer& analyzer(int which) {
  static const auto* analyzers = new std::vector<std::unique_ptr<Analyzer>>([] {
    std::vector<std::unique_ptr<Analyzer>> v;
    v.push_back(Analyzer::create({}).value());
    v.push_back(Analyzer::create({.stemmer = "english", .stop_words = "english"}).value());
    return v;
  }());
  return *(*analyzers)[static_cast<size_t>(which)];
}

rc::Gen<std::string> ascii_text() {
  return rc::gen::container<std::string>(rc::gen::weightedElement<char>({
      {6, 'a'},  {3, 'B'}, {2, 'z'}, {4, '1'}, {2, '0'},  {4, ' '},    {3, '.'},  {3, ','},
      {3, '\''}, {3, ':'}, {2, ';'}, {3, '_'}, {2, '-'},  {1, '\r'},   {1, '\n'}, {1, '\t'},
      {1, '\v'}, {1, '"'}, {1, '!'}, {1, '@'}, {1, '\0'}, {1, '\x7f'},
  }));
}

// Pieces of text, ASCII and not; some are not valid UTF-8 on their own.
rc::Gen<std::string> mixed_text() {
  static const std::vector<std::string> kPieces = {
      "a",
      "Z",
      "7",
      "_",
      ".",
      ",",
      "'",
      ":",
      ";",
      " ",
      " ",
      "\t",
      "\r\n",
      "-",
      "\u00e9",  // é
      "\u00df",  // ß
      "\u0301",  // combining acute (Extend)
      "\u00ad",  // soft hyphen (Format)
      "\u200d",  // zero width joiner
      "\u200b",  // zero width space
      "\u00a0",  // no-break space
      "\u3000",  // ideographic space (WSegSpace)
      "\u2019",  // right single quote (MidNumLet)
      "\u2024",  // one dot leader (MidNumLet)
      "\uff0e",  // full-width full stop
      "\u00b7",  // middle dot (MidLetter)
      "\u05d0",  // Hebrew alef
      "\u0661",  // Arabic-Indic digit one
      "\u6771",
      "\u4eac",  // CJK ideographs (dictionary)
      "\u30ab",
      "\u30fc",        // katakana, prolonged sound mark
      "\u0e01\u0e32",  // Thai (dictionary)
      "\U0001F600",    // emoji
      "\U0001F1FA",    // regional indicator
      "\uff26",        // full-width F
      "\ufb01",        // fi ligature
      "\u0130",        // İ
      // Invalid or truncated UTF-8.
      "\xff",
      "\xc3",
      "\xe6\x9d",
      "\x80",
      "\xf0\x9f",
      // Long ASCII stretches, so non-ASCII pieces are both joined and not.
      " The quick brown fox's 3.14 jumps, over 1,000 lazy dogs. ",
      " Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
      "incididunt ut labore et dolore magna aliqua. ",
  };
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(kPieces)),
                      [](const std::vector<std::string>& parts) {
                        std::string s;
                        for (const auto& p : parts) s += p;
                        return s;
                      });
}

void check_agrees(const std::string& text, int which) {
  std::vector<Token> fast;
  std::vector<Token> icu;
  analyzer(which).analyze(text, &fast);
  analyze_with_icu(analyzer(which), text, &icu);
  RC_ASSERT(pairs(fast) == pairs(icu));
}

RC_GTEST_PROP(AnalyzerProp, AsciiFastPathMatchesIcu, ()) {
  const std::string text = *ascii_text();
  check_agrees(text, 0);
  check_agrees(text, 1);
}

// Every string of up to 4 bytes over one byte of each ASCII class the rules
// tell apart: the rules look at most two characters beyond a boundary.
TEST(AnalyzerProp, AsciiShortStringsMatchIcuExhaustively) {
  const std::string kClasses = "aZ1_.,;:'@- \n\x01";
  std::vector<std::string> level = {""};
  size_t mismatches = 0;
  for (int len = 1; len <= 4; ++len) {
    std::vector<std::string> next;
    for (const std::string& prefix : level) {
      for (char c : kClasses) next.push_back(prefix + c);
    }
    for (const std::string& text : next) {
      std::vector<Token> fast;
      std::vector<Token> icu;
      analyzer(0).analyze(text, &fast);
      analyze_with_icu(analyzer(0), text, &icu);
      if (pairs(fast) != pairs(icu) && ++mismatches < 10) ADD_FAILURE() << "\"" << text << "\"";
    }
    level = std::move(next);
  }
  EXPECT_EQ(mismatches, 0u);
}

RC_GTEST_PROP(AnalyzerProp, MixedTextMatchesIcu, ()) {
  const std::string text = *mixed_text();
  check_agrees(text, 0);
  check_agrees(text, 1);
}

// Stems through the analyzer (fast path, stem cache) are libstemmer's.
RC_GTEST_PROP(AnalyzerProp, StemsMatchLibstemmer, ()) {
  const auto words = *rc::gen::container<std::vector<std::string>>(rc::gen::nonEmpty(
      rc::gen::container<std::string>(rc::gen::elementOf(std::string("abcdeilnorstuyz")))));
  std::string text;
  for (const auto& w : words) text += w + " ";
  std::vector<Token> out;
  analyzer(1).analyze(text, &out);  // english stemmer and stop words
  thread_local sb_stemmer* reference = sb_stemmer_new("english", "UTF_8");
  size_t next = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i].size() > kMaxTermBytes) continue;
    static const std::set<std::string> kStop = {
        "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
        "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
        "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
    if (kStop.count(words[i])) continue;
    const sb_symbol* s =
        sb_stemmer_stem(reference, reinterpret_cast<const sb_symbol*>(words[i].data()),
                        static_cast<int>(words[i].size()));
    const std::string expected(reinterpret_cast<const char*>(s), sb_stemmer_length(reference));
    RC_ASSERT(next < out.size());
    RC_ASSERT(out[next].term == expected);
    RC_ASSERT(out[next].position == i);
    ++next;
  }
  RC_ASSERT(next == out.size());
}

// Any bytes: no crash, positions rise, terms are non-empty and within the
// limit (no stemmer), and reusing the output vector changes nothing.
RC_GTEST_PROP(AnalyzerProp, AnyBytesGiveWellFormedTokens, (const std::string& bytes)) {
  std::vector<Token> out;
  analyzer(0).analyze(bytes, &out);
  for (size_t i = 0; i < out.size(); ++i) {
    RC_ASSERT(!out[i].term.empty());
    RC_ASSERT(out[i].term.size() <= kMaxTermBytes);
    if (i > 0) RC_ASSERT(out[i].position > out[i - 1].position);
  }
  std::vector<Token> reused = {Token{"left over", 99}, Token{"x", 1}};
  analyzer(0).analyze(bytes, &reused);
  RC_ASSERT(pairs(reused) == pairs(out));
  check_agrees(bytes, 0);
}

}  // namespace
}  // namespace tidal::text
