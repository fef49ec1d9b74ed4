#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libstemmer.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "text/analyzer.h"
#include "text/analyzer_internal.h"
#include "text/stem_cache.h"

namespace tidal::text {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Pairs = std::vector<std::pair<std::string, uint32_t>>;

std::unique_ptr<Analyzer> make(std::string stemmer = "none", std::string stop_words = "none") {
  auto a = Analyzer::create({.stemmer = std::move(stemmer), .stop_words = std::move(stop_words)});
  EXPECT_TRUE(a.ok()) << a.status().to_string();
  return std::move(a).value();
}

Pairs pairs(const std::vector<Token>& tokens) {
  Pairs out;
  for (const Token& t : tokens) out.emplace_back(t.term, t.position);
  return out;
}

// The tokens of `text`, after checking that the ICU-only path agrees.
Pairs analyze(const Analyzer& a, std::string_view text) {
  std::vector<Token> fast;
  std::vector<Token> icu;
  a.analyze(text, &fast);
  analyze_with_icu(a, text, &icu);
  EXPECT_EQ(pairs(fast), pairs(icu)) << "fast path and ICU disagree on: " << text;
  return pairs(fast);
}

std::vector<std::string> terms(const Analyzer& a, std::string_view text) {
  std::vector<std::string> out;
  for (auto& [term, position] : analyze(a, text)) out.push_back(term);
  return out;
}

TEST(AnalyzerTest, SegmentsMixedText) {
  auto a = make();
  EXPECT_EQ(analyze(*a,
                    "Hello, World! It's 3.14 and 1,000 \u2014 caf\u00e9 na\u00efve "
                    "\u6771\u4eac e-mail user_name"),
            (Pairs{{"hello", 0},
                   {"world", 1},
                   {"it's", 2},
                   {"3.14", 3},
                   {"and", 4},
                   {"1,000", 5},
                   {"caf\u00e9", 6},
                   {"na\u00efve", 7},
                   {"\u6771\u4eac", 8},
                   {"e", 9},
                   {"mail", 10},
                   {"user_name", 11}}));
}

TEST(AnalyzerTest, AsciiPunctuationFollowsIcuRootRules) {
  auto a = make();
  // ':' is not MidLetter in ICU's root rules; '.' and '\'' join letters and
  // digits; ',' and ';' join digits only; runs of '_' are words, one is not.
  EXPECT_THAT(terms(*a, "a:b 1:2"), ElementsAre("a", "b", "1", "2"));
  EXPECT_THAT(terms(*a, "a.b a'b 1.2 1'2"), ElementsAre("a.b", "a'b", "1.2", "1'2"));
  EXPECT_THAT(terms(*a, "a,b a;b 1,2 1;2"), ElementsAre("a", "b", "a", "b", "1,2", "1;2"));
  EXPECT_THAT(terms(*a, "a.1 1.a a..b end."), ElementsAre("a", "1", "1", "a", "a", "b", "end"));
  EXPECT_THAT(terms(*a, "_ __ _a_ a1_b"), ElementsAre("__", "_a_", "a1_b"));
  // ICU's root rules count '@' as a letter (UAX #29 does not).
  EXPECT_THAT(terms(*a, "mail user@example.com @ @@"),
              ElementsAre("mail", "user@example.com", "@", "@@"));
  EXPECT_THAT(terms(*a, "tab\there\r\nnew\vline\fform"),
              ElementsAre("tab", "here", "new", "line", "form"));
}

TEST(AnalyzerTest, EmptyAndWordlessInput) {
  auto a = make();
  std::vector<Token> out = {Token{"stale", 7}};
  a->analyze("", &out);
  EXPECT_TRUE(out.empty());
  a->analyze(" .,;:!? \r\n\t- _ ", &out);
  EXPECT_TRUE(out.empty());
}

TEST(AnalyzerTest, CaseFolding) {
  auto a = make();
  EXPECT_THAT(terms(*a, "Stra\u00dfe"), ElementsAre("strasse"));
  EXPECT_THAT(terms(*a, "\uff26\uff35\uff2c\uff2c"), ElementsAre("full"));  // full-width
  EXPECT_THAT(terms(*a, "\ufb01ne"), ElementsAre("fine"));                  // fi ligature
  EXPECT_THAT(terms(*a, "\u0391\u0398\u0397\u039d\u0391"),
              ElementsAre("\u03b1\u03b8\u03b7\u03bd\u03b1"));
  EXPECT_THAT(terms(*a, "MiXeD CASE"), ElementsAre("mixed", "case"));
  // Composed and decomposed forms fold to one term.
  EXPECT_EQ(terms(*a, "Cafe\u0301"), terms(*a, "caf\u00e9"));
}

TEST(AnalyzerTest, StopWordsKeepPositions) {
  auto a = make("none", "english");
  EXPECT_EQ(analyze(*a, "The cat is on the mat"), (Pairs{{"cat", 1}, {"mat", 5}}));
  // Checked after folding, before stemming.
  EXPECT_EQ(analyze(*a, "THESE Things"), (Pairs{{"things", 1}}));
  auto none = make("none", "none");
  EXPECT_EQ(analyze(*none, "the cat").size(), 2u);
}

TEST(AnalyzerTest, EnglishStemming) {
  auto a = make("english");
  EXPECT_THAT(terms(*a, "running studies cats Generously"),
              ElementsAre("run", "studi", "cat", "generous"));
  auto both = make("english", "english");
  EXPECT_EQ(analyze(*both, "the runners are running"), (Pairs{{"runner", 1}, {"run", 3}}));
}

TEST(AnalyzerTest, PorterDiffersFromEnglish) {
  auto porter = make("porter");
  auto english = make("english");
  EXPECT_THAT(terms(*porter, "generously fairly"), ElementsAre("gener", "fairli"));
  EXPECT_THAT(terms(*english, "generously fairly"), ElementsAre("generous", "fair"));
}

TEST(AnalyzerTest, StemsRepeatedWordsTheSame) {
  // The second and later sightings come from the stem cache.
  auto a = make("english");
  std::string text;
  for (int i = 0; i < 3; ++i) text += "connected connections connecting ";
  for (const std::string& t : terms(*a, text)) EXPECT_EQ(t, "connect");
}

// What libstemmer itself says, with no cache in between.
std::string direct_stem(sb_stemmer* stemmer, const std::string& word) {
  const sb_symbol* s = sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(word.data()),
                                       static_cast<int>(word.size()));
  return std::string(reinterpret_cast<const char*>(s), sb_stemmer_length(stemmer));
}

TEST(AnalyzerStemCacheTest, AgreesWithLibstemmerThroughGrowthAndClearing) {
  StemCache cache(sb_stemmer_new("english", "UTF_8"));
  sb_stemmer* reference = sb_stemmer_new("english", "UTF_8");
  // More distinct words than the cache holds, so it grows and is emptied;
  // every word is asked twice, the second time usually from the cache.
  const char* suffixes[] = {"", "s", "ing", "ed", "ies", "ational", "ly", "ness"};
  size_t words = 0;
  for (uint32_t n = 0; words < StemCache::kMaxSlots * 2; ++n) {
    std::string base;
    for (uint32_t v = n; base.size() < 3 || v != 0; v /= 26)
      base += static_cast<char>('a' + v % 26);
    for (const char* suffix : suffixes) {
      const std::string word = base + suffix;
      const std::string expected = direct_stem(reference, word);
      ASSERT_EQ(cache.stem(word), expected) << word;
      ASSERT_EQ(cache.stem(word), expected) << word;
      ++words;
    }
  }
  // Words longer than the cached key, and the empty word.
  const std::string long_word = "antidisestablishmentarianisms";
  EXPECT_EQ(cache.stem(long_word), direct_stem(reference, long_word));
  EXPECT_EQ(cache.stem(""), "");
  sb_stemmer_delete(reference);
}

TEST(AnalyzerTest, UnknownNamesAreRejected) {
  auto bad = Analyzer::create({.stemmer = "klingon"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "stemmer");
  EXPECT_THAT(bad.status().message(), HasSubstr("\"klingon\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("\"none\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("english"));
  EXPECT_THAT(bad.status().message(), HasSubstr("porter"));

  auto bad_stop = Analyzer::create({.stop_words = "french"});
  ASSERT_FALSE(bad_stop.ok());
  EXPECT_EQ(bad_stop.status().field(), "stop_words");
  EXPECT_THAT(bad_stop.status().message(), HasSubstr("\"french\""));
  EXPECT_THAT(bad_stop.status().message(), HasSubstr("\"english\""));
}

TEST(AnalyzerTest, StemmerNames) {
  std::vector<std::string> names = Analyzer::stemmer_names();
  EXPECT_THAT(names, Contains("english"));
  EXPECT_THAT(names, Contains("porter"));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const std::string& n : names) {
    EXPECT_TRUE(Analyzer::create({.stemmer = n}).ok()) << n;
  }
  auto a = make("french", "english");
  EXPECT_EQ(a->options(), (AnalyzerOptions{.stemmer = "french", .stop_words = "english"}));
}

TEST(AnalyzerTest, InvalidUtf8BytesSeparate) {
  auto a = make();
  EXPECT_THAT(terms(*a,
                    "abc\xff"
                    "def"),
              ElementsAre("abc", "def"));
  EXPECT_THAT(terms(*a, "caf\xc3"), ElementsAre("caf"));        // truncated at the end
  EXPECT_THAT(terms(*a, "x\xe6\x9dy"), ElementsAre("x", "y"));  // truncated inside
  EXPECT_THAT(terms(*a,
                    "a\xc0\xaf"
                    "b"),
              ElementsAre("a", "b"));  // overlong '/'
  EXPECT_THAT(terms(*a,
                    "a\xed\xa0\x80"
                    "b"),
              ElementsAre("a", "b"));  // a surrogate
  EXPECT_THAT(terms(*a, "\x80\x80\x80"), ElementsAre());
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  all += "tail";
  std::vector<Token> out;
  a->analyze(all, &out);  // must not crash; the words are the letters and digits
  EXPECT_EQ(out.back().term, "tail");
}

TEST(AnalyzerTest, OverlongWordsDroppedButCounted) {
  auto a = make();
  const std::string at_limit(kMaxTermBytes, 'a');
  const std::string over(kMaxTermBytes + 1, 'b');
  EXPECT_EQ(analyze(*a, "x " + at_limit + " " + over + " y"),
            (Pairs{{"x", 0}, {at_limit, 1}, {"y", 3}}));
  std::string e_at_limit;
  for (size_t i = 0; i < kMaxTermBytes / 2; ++i) e_at_limit += "\u00e9";  // 2 bytes each
  EXPECT_EQ(analyze(*a, e_at_limit + " \u00e9" + e_at_limit + " z"),
            (Pairs{{e_at_limit, 0}, {"z", 2}}));
  // The limit applies after folding: 30 'İ' (60 bytes) fold to 90 bytes.
  std::string dotted_i;
  for (int i = 0; i < 30; ++i) dotted_i += "\u0130";
  EXPECT_EQ(analyze(*a, dotted_i + " w"), (Pairs{{"w", 1}}));
}

TEST(AnalyzerTest, ReusedOutputIsReplaced) {
  auto a = make();
  std::vector<Token> out;
  a->analyze("one two three four", &out);
  a->analyze("five", &out);
  EXPECT_EQ(pairs(out), (Pairs{{"five", 0}}));
}

TEST(AnalyzerTest, ConcurrentUseMatchesSingleThread) {
  auto a = make("english", "english");
  auto b = make("porter");
  const std::vector<std::string> texts = {
      "The quick brown fox jumps over the lazy dogs, running and studying.",
      "Stra\u00dfe caf\u00e9 na\u00efve \u6771\u4eac\u90fd \u30ab\u30bf\u30ab\u30ca 3.14 1,000",
      "invalid \xff bytes \xe6\x9d here",
      "Connections connected connecting connectivity; generously fairly happily",
  };
  std::vector<std::vector<Token>> expected_a(texts.size());
  std::vector<std::vector<Token>> expected_b(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    a->analyze(texts[i], &expected_a[i]);
    b->analyze(texts[i], &expected_b[i]);
  }
  constexpr int kThreads = 6;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Token> out;
      for (int round = 0; round < 300; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          const Analyzer& which = (round + t) % 2 == 0 ? *a : *b;
          const auto& expected = (round + t) % 2 == 0 ? expected_a[i] : expected_b[i];
          which.analyze(texts[i], &out);
          if (pairs(out) != pairs(expected)) ++mismatches[t];
        }
        // Analyzers come and go while others are in use.
        auto temp = Analyzer::create({.stemmer = "english"});
        if (temp.ok()) (*temp)->analyze(texts[0], &out);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace tidal::text
