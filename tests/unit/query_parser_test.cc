// TQL: lexer, parser, printer, JSON form and WHERE -> Filter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "query/filter.h"
#include "query/json.h"
#include "query/lexer.h"
#include "query/limits.h"
#include "query/parser.h"
#include "query/printer.h"

namespace tidal::query {
namespace {

using namespace std::chrono_literals;

// The reference statements of the language, one of each kind: the list
// docs/tql.md opens with (SIMILAR here without its WHERE). Each must parse.
const std::vector<std::string> kDesignExamples = {
    "TRENDING items WINDOW 24h LIMIT 20",
    "TRENDING items FOR COHORT young_us_jazz BY like WINDOW 1h LIMIT 20",
    "RANK items BY rising(share, 1h) WHERE category = 'music' AND duration < 300 LIMIT 50",
    "SEARCH items QUERY \"piano\" WITHIN TRENDING FOR COHORT young_us_jazz WINDOW 24h LIMIT 10",
    "SIMILAR items TO 'video_8812' USING embedding LIMIT 10",
    "FEED FOR USER 'u_42' PROFILE for_you DIVERSIFY BY creator MAX 2 LIMIT 30",
    "CREATE COHORT young_us_jazz WHERE age BETWEEN 18 AND 24 AND country = 'US' AND 'jazz' IN "
    "interests",
    "CREATE PROFILE engaging AS 0.5*log1p(decay(like)) + 0.3*rate(completion, view) + "
    "0.2*freshness(6h)",
    "EXPLAIN TRENDING items WINDOW 24h LIMIT 20",
};

// More statements, covering every clause.
const std::vector<std::string> kMoreExamples = {
    "NEAREST items TO VECTOR [1.0, -2.5, 3e-2] USING embedding WHERE NOT (kind IN ('a', 'b')) "
    "LIMIT 5",
    "RANK creators BY views DESC WHERE EXISTS bio OR x NOT BETWEEN -1 AND 2.5 CURSOR 'abc'",
    "SEARCH users QUERY 'x' RANK BY if(a > 1, hot, new) DIVERSIFY BY creator MAX 3 LIMIT 10;",
    "SEARCH items QUERY 'x' WITHIN TRENDING WHERE a = 1 RANK BY hot ASC CURSOR 'c'",
    "SEARCH items QUERY 'x \"a b\" -y' IN (title^2.5, body) MATCH ALL WHERE a = 1 LIMIT 5",
    "RANK items BY top(like, 24h) ASC",
    "rank items by best where lang in ('en') limit 1",
    "TRENDING creators WINDOW 7d CURSOR 'c'",
    "EXPLAIN FEED FOR USER 'u' WHERE is_live",
    "RANK items BY trending",
    "RANK items BY max(a, b) / -c - 2 * (d + e)",
};

Statement parse_ok(const std::string& text) {
  auto r = parse(text);
  EXPECT_TRUE(r.ok()) << text << "\n" << r.status().to_string();
  return r.ok() ? *r : Statement{};
}

Expr expr_ok(const std::string& text) {
  auto r = parse_expression(text);
  EXPECT_TRUE(r.ok()) << text << "\n" << r.status().to_string();
  return r.ok() ? *r : Expr{};
}

// The message of the error that parsing `text` gives.
std::string parse_error(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << text << " parsed";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().subsystem(), Subsystem::kQuery);
  EXPECT_EQ(r.status().field(), "query");
  return r.status().message();
}

std::string json_error(const std::string& json) {
  auto r = parse_json(json);
  EXPECT_FALSE(r.ok()) << json << " parsed";
  return r.ok() ? "" : r.status().message();
}

// --- lexer --------------------------------------------------------------------

TEST(TqlLexer, TokensAndPositions) {
  auto t = tokenize("RANK items\n  BY x >= 1.5e3 <> 'a' 24h");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  const auto& v = *t;
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[0].kind, TokenKind::kIdentifier);
  EXPECT_EQ(v[2].text, "BY");
  EXPECT_EQ(v[2].pos, (SourcePos{2, 3}));
  EXPECT_EQ(v[4].kind, TokenKind::kGe);
  EXPECT_EQ(v[5].kind, TokenKind::kNumber);
  EXPECT_EQ(v[5].number, 1500);
  EXPECT_EQ(v[6].kind, TokenKind::kNe);
  EXPECT_EQ(v[7].kind, TokenKind::kString);
  EXPECT_EQ(v[8].kind, TokenKind::kDuration);
  EXPECT_EQ(v[8].duration, 24h);
  EXPECT_EQ(v[9].kind, TokenKind::kEnd);
}

TEST(TqlLexer, AllOperators) {
  auto t = tokenize("+ - * / ( ) , [ ] = != <> < <= > >= . ;");
  ASSERT_TRUE(t.ok());
  std::vector<TokenKind> want = {
      TokenKind::kPlus,     TokenKind::kMinus,     TokenKind::kStar,  TokenKind::kSlash,
      TokenKind::kLParen,   TokenKind::kRParen,    TokenKind::kComma, TokenKind::kLBracket,
      TokenKind::kRBracket, TokenKind::kEq,        TokenKind::kNe,    TokenKind::kNe,
      TokenKind::kLt,       TokenKind::kLe,        TokenKind::kGt,    TokenKind::kGe,
      TokenKind::kDot,      TokenKind::kSemicolon, TokenKind::kEnd};
  ASSERT_EQ(t->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ((*t)[i].kind, want[i]) << i;
}

TEST(TqlLexer, Durations) {
  for (auto [text, d] : std::vector<std::pair<std::string, Duration>>{{"500ms", 500ms},
                                                                      {"30s", 30s},
                                                                      {"30m", 30min},
                                                                      {"6h", 6h},
                                                                      {"7d", 168h},
                                                                      {"2w", 336h},
                                                                      {"1h30m", 90min}}) {
    auto t = tokenize(text);
    ASSERT_TRUE(t.ok()) << text;
    EXPECT_EQ((*t)[0].kind, TokenKind::kDuration) << text;
    EXPECT_EQ((*t)[0].duration, d) << text;
  }
}

TEST(TqlLexer, Strings) {
  auto t = tokenize(R"('it\'s' "say \"hi\"" 'a\\b\n\t' '\u00e9\u4e2d' 'é')");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ((*t)[0].text, "it's");
  EXPECT_EQ((*t)[1].text, "say \"hi\"");
  EXPECT_EQ((*t)[2].text, "a\\b\n\t");
  EXPECT_EQ((*t)[3].text, "\xC3\xA9\xE4\xB8\xAD");
  EXPECT_EQ((*t)[4].text, "\xC3\xA9");
}

TEST(TqlLexer, Errors) {
  struct Case {
    std::string text, message;
  };
  for (const Case& c : std::vector<Case>{
           {"'abc", "line 1, column 1: unterminated string"},
           {"x\n  \"abc\\", "line 2, column 3: unterminated string"},
           {"'a\\qb'",
            "line 1, column 3: unknown escape \\q (known: \\' \\\" \\\\ \\n \\t \\uXXXX)"},
           {"'\\u12'", "line 1, column 2: \\u needs four hex digits"},
           {"'\\ud800'",
            "line 1, column 2: \\u escape of a UTF-16 surrogate (write the character "
            "itself in UTF-8 instead)"},
           {"'a\x01'",
            "line 1, column 3: control character in a string (write \\n, \\t or "
            "\\uXXXX instead)"},
           {"'a\xff'", "line 1, column 3: invalid UTF-8 in a string"},
           {"'\xC0\xAF'", "line 1, column 2: invalid UTF-8 in a string"},
           {"'\xED\xA0\x80'", "line 1, column 2: invalid UTF-8 in a string"},
           {"a # b", "line 1, column 3: unexpected character '#'"},
           {"a ! b", "line 1, column 3: unexpected character '!' (did you mean !=?)"},
           {"é",
            "line 1, column 1: unexpected character 'é' (non-ASCII text belongs in a quoted "
            "string)"},
           {"6x",
            "line 1, column 1: invalid duration 6x: duration = \"6x\": expected a duration "
            "such as 30s, 15m, 6h or 7d (units: us, ms, s, m, h, d, w)"},
           {"1.5h",
            "line 1, column 1: invalid duration 1.5h: a duration is a whole number and a "
            "unit (us, ms, s, m, h, d, w), such as 30s, 6h or 7d"},
           {"1.", "line 1, column 3: expected a digit after the decimal point"},
           {"1e+", "line 1, column 2: expected digits in the exponent"},
           {"1e999", "line 1, column 1: number 1e999 is out of range"},
       }) {
    auto t = tokenize(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().message(), c.message) << c.text;
    EXPECT_EQ(t.status().field(), "query");
  }
}

TEST(TqlLexer, QueryLengthLimit) {
  std::string ok(kMaxQueryBytes, ' ');
  EXPECT_TRUE(tokenize(ok).ok());
  std::string too_long(kMaxQueryBytes + 1, ' ');
  auto t = tokenize(too_long);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "line 1, column 1: query is 65537 bytes long; the limit is 65536 bytes");
}

// --- statements -----------------------------------------------------------------

TEST(TqlParser, EveryDesignExampleParses) {
  for (const std::string& q : kDesignExamples) parse_ok(q);
  for (const std::string& q : kMoreExamples) parse_ok(q);
}

TEST(TqlParser, Trending) {
  Statement s = parse_ok(kDesignExamples[0]);
  EXPECT_EQ(s.kind, StatementKind::kTrending);
  EXPECT_EQ(s.target, EntityKind::kItem);
  EXPECT_EQ(s.window, Duration(24h));
  EXPECT_EQ(s.limit, 20);
  EXPECT_FALSE(s.explain);
  EXPECT_TRUE(s.cohort.empty());

  s = parse_ok(kDesignExamples[1]);
  EXPECT_EQ(s.cohort, "young_us_jazz");
  EXPECT_EQ(s.signal, "like");
  EXPECT_EQ(s.window, Duration(1h));

  s = parse_ok(kDesignExamples[8]);
  EXPECT_TRUE(s.explain);
  EXPECT_EQ(s.kind, StatementKind::kTrending);
  EXPECT_EQ(s.pos, (SourcePos{1, 1}));
}

TEST(TqlParser, Rank) {
  Statement s = parse_ok(kDesignExamples[2]);
  EXPECT_EQ(s.kind, StatementKind::kRank);
  ASSERT_TRUE(s.rank_by);
  EXPECT_EQ(s.rank_by->kind, ExprKind::kCall);
  EXPECT_EQ(s.rank_by->text, "rising");
  ASSERT_EQ(s.rank_by->args.size(), 2u);
  EXPECT_EQ(s.rank_by->args[0].kind, ExprKind::kIdentifier);
  EXPECT_EQ(s.rank_by->args[0].text, "share");
  EXPECT_EQ(s.rank_by->args[1].kind, ExprKind::kDuration);
  EXPECT_EQ(s.rank_by->args[1].duration, Duration(1h));
  EXPECT_EQ(s.rank_by->pos, (SourcePos{1, 15}));
  ASSERT_TRUE(s.where);
  EXPECT_EQ(s.where->op, ExprOp::kAnd);
  EXPECT_EQ(s.where->args[0].op, ExprOp::kEq);
  EXPECT_EQ(s.where->args[0].args[1].text, "music");
  EXPECT_EQ(s.where->args[1].op, ExprOp::kLt);
  EXPECT_EQ(s.where->args[1].args[1].number, 300);
  EXPECT_EQ(s.limit, 50);
  EXPECT_EQ(s.order, SortOrder::kDefault);

  s = parse_ok("RANK users BY followers ASC LIMIT 3");
  EXPECT_EQ(s.target, EntityKind::kUser);
  EXPECT_EQ(s.order, SortOrder::kAsc);
  EXPECT_EQ(s.rank_by->kind, ExprKind::kIdentifier);
  s = parse_ok("RANK creators BY hot DESC");
  EXPECT_EQ(s.target, EntityKind::kCreator);
  EXPECT_EQ(s.order, SortOrder::kDesc);
}

TEST(TqlParser, Search) {
  Statement s = parse_ok(kDesignExamples[3]);
  EXPECT_EQ(s.kind, StatementKind::kSearch);
  EXPECT_EQ(s.text, "piano");
  EXPECT_TRUE(s.within_trending);
  EXPECT_EQ(s.cohort, "young_us_jazz");
  EXPECT_EQ(s.window, Duration(24h));
  EXPECT_EQ(s.limit, 10);

  s = parse_ok("SEARCH items QUERY 'a b' WHERE lang = 'en' RANK BY relevance DESC LIMIT 5");
  EXPECT_FALSE(s.within_trending);
  ASSERT_TRUE(s.rank_by);
  EXPECT_EQ(s.rank_by->text, "relevance");
  EXPECT_EQ(s.order, SortOrder::kDesc);
  EXPECT_TRUE(s.where);
}

TEST(TqlParser, SimilarAndNearest) {
  Statement s = parse_ok(kDesignExamples[4]);
  EXPECT_EQ(s.kind, StatementKind::kSimilar);
  EXPECT_EQ(s.key, "video_8812");
  EXPECT_EQ(s.slot, "embedding");

  s = parse_ok("NEAREST items TO VECTOR [1, -2.5, 0.25] USING emb LIMIT 3");
  EXPECT_EQ(s.kind, StatementKind::kNearest);
  EXPECT_EQ(s.vector, (std::vector<float>{1.0f, -2.5f, 0.25f}));
  EXPECT_EQ(s.slot, "emb");
}

TEST(TqlParser, Feed) {
  Statement s = parse_ok(kDesignExamples[5]);
  EXPECT_EQ(s.kind, StatementKind::kFeed);
  EXPECT_EQ(s.user, "u_42");
  EXPECT_EQ(s.profile, "for_you");
  ASSERT_TRUE(s.diversify);
  EXPECT_EQ(s.diversify->attribute, "creator");
  EXPECT_EQ(s.diversify->max_per_value, 2);
  EXPECT_EQ(s.limit, 30);
}

TEST(TqlParser, CreateCohort) {
  Statement s = parse_ok(kDesignExamples[6]);
  EXPECT_EQ(s.kind, StatementKind::kCreateCohort);
  EXPECT_EQ(s.name, "young_us_jazz");
  ASSERT_TRUE(s.where);
  // ((age BETWEEN 18 AND 24) AND country = 'US') AND ('jazz' IN interests)
  const Expr& w = *s.where;
  EXPECT_EQ(w.op, ExprOp::kAnd);
  EXPECT_EQ(w.args[0].op, ExprOp::kAnd);
  const Expr& between = w.args[0].args[0];
  EXPECT_EQ(between.op, ExprOp::kBetween);
  ASSERT_EQ(between.args.size(), 3u);
  EXPECT_EQ(between.args[0].text, "age");
  EXPECT_EQ(between.args[1].number, 18);
  EXPECT_EQ(between.args[2].number, 24);
  const Expr& in = w.args[1];
  EXPECT_EQ(in.op, ExprOp::kIn);
  EXPECT_EQ(in.args[0].kind, ExprKind::kString);
  EXPECT_EQ(in.args[1].kind, ExprKind::kIdentifier);
  EXPECT_EQ(in.args[1].text, "interests");
}

TEST(TqlParser, CreateProfile) {
  Statement s = parse_ok(kDesignExamples[7]);
  EXPECT_EQ(s.kind, StatementKind::kCreateProfile);
  EXPECT_EQ(s.name, "engaging");
  ASSERT_TRUE(s.definition);
  // (0.5*log1p(..) + 0.3*rate(..)) + 0.2*freshness(6h)
  const Expr& d = *s.definition;
  EXPECT_EQ(d.op, ExprOp::kAdd);
  EXPECT_EQ(d.args[0].op, ExprOp::kAdd);
  EXPECT_EQ(d.args[1].op, ExprOp::kMul);
  EXPECT_EQ(d.args[1].args[1].text, "freshness");
  EXPECT_EQ(d.args[1].args[1].args[0].duration, Duration(6h));
  const Expr& first = d.args[0].args[0];
  EXPECT_EQ(first.args[0].number, 0.5);
  EXPECT_EQ(first.args[1].text, "log1p");
  EXPECT_EQ(first.args[1].args[0].text, "decay");
  EXPECT_EQ(d.args[0].args[1].args[1].args.size(), 2u);
}

TEST(TqlParser, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(parse_ok("trending ITEMS window 24h limit 20"), parse_ok(kDesignExamples[0]));
  EXPECT_EQ(parse_ok("Explain Trending Items Window 24h Limit 20"), parse_ok(kDesignExamples[8]));
}

TEST(TqlParser, TrailingSemicolonAndWhitespace) {
  EXPECT_EQ(parse_ok("  TRENDING items\n\tWINDOW 24h\r\n LIMIT 20 ; "),
            parse_ok(kDesignExamples[0]));
}

// --- expressions ------------------------------------------------------------------

TEST(TqlExpr, Precedence) {
  // NOT > AND > OR; arithmetic > comparison.
  Expr e = expr_ok("a OR b AND NOT c");
  EXPECT_EQ(e.op, ExprOp::kOr);
  EXPECT_EQ(e.args[1].op, ExprOp::kAnd);
  EXPECT_EQ(e.args[1].args[1].op, ExprOp::kNot);

  e = expr_ok("NOT a = 1");
  EXPECT_EQ(e.op, ExprOp::kNot);
  EXPECT_EQ(e.args[0].op, ExprOp::kEq);

  e = expr_ok("a + b * c < d - e / f");
  EXPECT_EQ(e.op, ExprOp::kLt);
  EXPECT_EQ(e.args[0].op, ExprOp::kAdd);
  EXPECT_EQ(e.args[0].args[1].op, ExprOp::kMul);
  EXPECT_EQ(e.args[1].op, ExprOp::kSub);
  EXPECT_EQ(e.args[1].args[1].op, ExprOp::kDiv);

  e = expr_ok("a - b - c");  // left associative
  EXPECT_EQ(e.args[0].op, ExprOp::kSub);
  EXPECT_EQ(e.args[1].text, "c");

  e = expr_ok("(a OR b) AND c");
  EXPECT_EQ(e.op, ExprOp::kAnd);
  EXPECT_EQ(e.args[0].op, ExprOp::kOr);

  e = expr_ok("-a * b");
  EXPECT_EQ(e.op, ExprOp::kMul);
  EXPECT_EQ(e.args[0].op, ExprOp::kNeg);
}

TEST(TqlExpr, Comparisons) {
  std::vector<std::pair<std::string, ExprOp>> cases = {
      {"a = 1", ExprOp::kEq}, {"a != 1", ExprOp::kNe}, {"a <> 1", ExprOp::kNe},
      {"a < 1", ExprOp::kLt}, {"a <= 1", ExprOp::kLe}, {"a > 1", ExprOp::kGt},
      {"a >= 1", ExprOp::kGe}};
  for (auto& [text, op] : cases) {
    Expr e = expr_ok(text);
    EXPECT_EQ(e.kind, ExprKind::kBinary) << text;
    EXPECT_EQ(e.op, op) << text;
  }
}

TEST(TqlExpr, InBetweenExistsNot) {
  Expr e = expr_ok("lang IN ('en', 'de', 3)");
  EXPECT_EQ(e.op, ExprOp::kIn);
  EXPECT_EQ(e.args[1].kind, ExprKind::kList);
  EXPECT_EQ(e.args[1].args.size(), 3u);

  e = expr_ok("lang NOT IN ('en')");
  EXPECT_EQ(e.op, ExprOp::kNot);
  EXPECT_EQ(e.args[0].op, ExprOp::kIn);

  e = expr_ok("x NOT BETWEEN 1 AND 2 + 3");
  EXPECT_EQ(e.op, ExprOp::kNot);
  EXPECT_EQ(e.args[0].op, ExprOp::kBetween);
  EXPECT_EQ(e.args[0].args[2].op, ExprOp::kAdd);

  e = expr_ok("EXISTS bio AND NOT EXISTS tags");
  EXPECT_EQ(e.args[0].kind, ExprKind::kUnary);
  EXPECT_EQ(e.args[0].op, ExprOp::kExists);
  EXPECT_EQ(e.args[0].args[0].text, "bio");
  EXPECT_EQ(e.args[1].args[0].op, ExprOp::kExists);
}

TEST(TqlExpr, LiteralsCallsAndIf) {
  Expr e = expr_ok("if(a > 1, TRUE, false)");
  EXPECT_EQ(e.kind, ExprKind::kIf);
  ASSERT_EQ(e.args.size(), 3u);
  EXPECT_EQ(e.args[1].kind, ExprKind::kBool);
  EXPECT_EQ(e.args[1].number, 1);
  EXPECT_EQ(e.args[2].number, 0);

  e = expr_ok("IF(a, b, c)");
  EXPECT_EQ(e.kind, ExprKind::kIf);

  e = expr_ok("now()");
  EXPECT_EQ(e.kind, ExprKind::kCall);
  EXPECT_TRUE(e.args.empty());

  e = expr_ok("max(1.5, 2e3, .5, 'x', \"y\", 500ms)");
  EXPECT_EQ(e.text, "max");
  EXPECT_EQ(e.args[0].number, 1.5);
  EXPECT_EQ(e.args[1].number, 2000);
  EXPECT_EQ(e.args[2].number, 0.5);
  EXPECT_EQ(e.args[3].text, "x");
  EXPECT_EQ(e.args[4].text, "y");
  EXPECT_EQ(e.args[5].duration, Duration(500ms));
}

// --- errors ------------------------------------------------------------------------

TEST(TqlErrors, PositionAndExpected) {
  struct Case {
    std::string text, message;
  };
  for (const Case& c : std::vector<Case>{
           {"",
            "line 1, column 1: expected TRENDING, RANK, SEARCH, SIMILAR, NEAREST, FEED, "
            "COUNT, CREATE, DROP or EXPLAIN, found end of query"},
           {"SELECT *",
            "line 1, column 1: expected TRENDING, RANK, SEARCH, SIMILAR, NEAREST, "
            "FEED, COUNT, CREATE, DROP or EXPLAIN, found identifier SELECT"},
           {"TRENDING", "line 1, column 9: expected ITEMS, USERS or CREATORS, found end of query"},
           {"TRENDING items LIMIT 20",
            "line 1, column 16: expected FOR, BY or WINDOW, found keyword LIMIT"},
           {"TRENDING items WINDOW 24h 5",
            "line 1, column 27: expected WHERE, DIVERSIFY, LIMIT, CURSOR, AS OF or end of query, "
            "found "
            "number 5"},
           {"TRENDING items WINDOW 24h LIMIT 20 WHERE x = 1",
            "line 1, column 36: expected CURSOR, AS OF or end of query, found keyword WHERE"},
           {"TRENDING items WINDOW 24",
            "line 1, column 23: expected a duration such as 1h, 24h or 7d, found number 24"},
           {"TRENDING items WINDOW 0s", "line 1, column 23: WINDOW must be longer than 0s"},
           {"TRENDING items FOR young WINDOW 1h",
            "line 1, column 20: expected COHORT, found identifier young"},
           {"TRENDING items FOR COHORT WINDOW 1h",
            "line 1, column 27: expected a cohort name, found keyword WINDOW"},
           {"RANK items WHERE x = 1", "line 1, column 12: expected FOR or BY, found keyword WHERE"},
           {"RANK items BY", "line 1, column 14: expected an expression, found end of query"},
           {"RANK items BY hot LIMIT",
            "line 1, column 24: expected a whole number, found end of "
            "query"},
           {"RANK items BY hot LIMIT 2.5",
            "line 1, column 25: LIMIT must be a whole number from 1 to 10000, found 2.5"},
           {"RANK items BY hot LIMIT 0",
            "line 1, column 25: LIMIT must be a whole number from 1 to 10000, found 0"},
           {"RANK items BY hot LIMIT 10001",
            "line 1, column 25: LIMIT must be a whole number from 1 to 10000, found 10001"},
           {"RANK items BY hot CURSOR c",
            "line 1, column 26: expected the cursor as a string, "
            "found identifier c"},
           {"RANK items BY a b",
            "line 1, column 17: expected ASC, DESC, WHERE, DIVERSIFY, LIMIT, "
            "CURSOR, AS OF or end of query, found identifier b"},
           {"SEARCH items QUERY piano",
            "line 1, column 20: expected the search text as a string, found identifier piano"},
           {"SEARCH items QUERY 'p' FOR COHORT c",
            "line 1, column 24: FOR in SEARCH needs WITHIN TRENDING first"},
           {"SEARCH items QUERY 'p' WITHIN COHORT c",
            "line 1, column 31: expected TRENDING, found keyword COHORT"},
           {"SEARCH items QUERY 'p' RANK hot",
            "line 1, column 29: expected BY, found identifier hot"},
           {"SIMILAR items TO 'k'", "line 1, column 21: expected USING, found end of query"},
           {"SIMILAR items USING e", "line 1, column 15: expected TO, found keyword USING"},
           {"NEAREST items TO [1] USING e", "line 1, column 18: expected VECTOR, found '['"},
           {"NEAREST items TO VECTOR [1 2] USING e",
            "line 1, column 28: expected ',' or ']', found number 2"},
           {"NEAREST items TO VECTOR [] USING e",
            "line 1, column 26: expected a number, found ']'"},
           {"NEAREST items TO VECTOR [1e39] USING e",
            "line 1, column 26: vector value is out of the range of a 32-bit float"},
           {"FEED USER 'u'", "line 1, column 6: expected FOR, found keyword USER"},
           {"FEED FOR 'u'", "line 1, column 10: expected USER, found string 'u'"},
           {"FEED FOR USER 'u' DIVERSIFY creator MAX 2",
            "line 1, column 29: expected BY, found identifier creator"},
           {"FEED FOR USER 'u' DIVERSIFY BY creator 2",
            "line 1, column 40: expected MAX, found number 2"},
           {"FEED FOR USER 'u' DIVERSIFY BY creator MAX 0",
            "line 1, column 44: MAX must be a whole number from 1 to 10000, found 0"},
           {"CREATE TABLE t",
            "line 1, column 8: expected COHORT, COHORTS or PROFILE, found identifier "
            "TABLE"},
           {"CREATE COHORT c", "line 1, column 16: expected WHERE, found end of query"},
           {"CREATE COHORT where WHERE x",
            "line 1, column 15: expected a cohort name, found keyword WHERE"},
           {"CREATE PROFILE p AS", "line 1, column 20: expected an expression, found end of query"},
           {"CREATE PROFILE p AS 1 LIMIT 2",
            "line 1, column 23: expected end of query, found keyword LIMIT"},
           {"EXPLAIN CREATE COHORT c WHERE x",
            "line 1, column 9: expected TRENDING, RANK, SEARCH, SIMILAR, NEAREST, FEED or COUNT, found "
            "keyword CREATE"},
           {"EXPLAIN EXPLAIN TRENDING items WINDOW 1h",
            "line 1, column 9: expected TRENDING, RANK, SEARCH, SIMILAR, NEAREST, FEED or COUNT, found "
            "keyword EXPLAIN"},
           {"RANK items BY (a + b", "line 1, column 21: expected ')', found end of query"},
           {"RANK items BY f(a b)", "line 1, column 19: expected ',' or ')', found identifier b"},
           {"RANK items BY if(a, b)",
            "line 1, column 15: if(condition, then, else) takes 3 arguments, found 2"},
           {"RANK items BY a < b < c",
            "line 1, column 21: expected ASC, DESC, WHERE, DIVERSIFY, "
            "LIMIT, CURSOR, AS OF or end of query, found '<'"},
           {"RANK items BY hot WHERE x IN 3",
            "line 1, column 30: expected '(' or an attribute name, found number 3"},
           {"RANK items BY hot WHERE x IN ()",
            "line 1, column 31: expected an expression, found ')'"},
           {"RANK items BY hot WHERE x BETWEEN 1 OR 2",
            "line 1, column 37: expected AND, found keyword OR"},
           {"RANK items BY hot WHERE EXISTS 'a'",
            "line 1, column 32: expected an attribute name, found string 'a'"},
           {"RANK items BY hot WHERE AND",
            "line 1, column 25: expected an expression, found "
            "keyword AND"},
           {"RANK items BY hot WHERE x = 1 AND",
            "line 1, column 34: expected an expression, found end of query"},
           {"RANK items BY hot WHERE x . y",
            "line 1, column 27: expected DIVERSIFY, LIMIT, CURSOR, AS OF or end of query, found "
            "'.'"},
           {"RANK items BY hot\nWHERE\n  x = 'abc", "line 3, column 7: unterminated string"},
           {"RANK items BY hot\n  LIMIT\n    x",
            "line 3, column 5: expected a whole number, "
            "found identifier x"},
       }) {
    EXPECT_EQ(parse_error(c.text), c.message) << c.text;
  }
}

TEST(TqlErrors, LongStringsAreShortenedInMessages) {
  EXPECT_EQ(
      parse_error("RANK items BY hot 'abcdefghijklmnopqrstuvwxyz0123'"),
      "line 1, column 19: expected ASC, DESC, WHERE, DIVERSIFY, LIMIT, CURSOR, AS OF or end of "
      "query, found string 'abcdefghijklmnopqrstuvwx...'");
}

// --- limits -------------------------------------------------------------------------

TEST(TqlLimits, ExpressionDepthThroughParentheses) {
  auto nested = [](int n) {
    return "RANK items BY " + std::string(n, '(') + "x" + std::string(n, ')');
  };
  parse_ok(nested(kMaxExpressionDepth - 1));
  EXPECT_EQ(parse_error(nested(kMaxExpressionDepth)),
            "line 1, column 79: expression is nested more than 64 levels deep");
  // Far deeper than the stack would allow without the guard.
  EXPECT_NE(parse_error(nested(30000)).find("nested more than 64 levels"), std::string::npos);
}

TEST(TqlLimits, ExpressionDepthThroughPrefixOperatorsAndChains) {
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  EXPECT_NE(parse_error("RANK items BY hot WHERE " + nots + "x").find("nested more than 64"),
            std::string::npos);
  EXPECT_NE(parse_error("RANK items BY " + std::string(20000, '-') + "x").find("nested more"),
            std::string::npos);
  std::string chain = "x";
  for (int i = 0; i < 100; ++i) chain += " + x";
  EXPECT_NE(parse_error("RANK items BY " + chain).find("nested more than 64"), std::string::npos);
  std::string calls = "x";
  for (int i = 0; i < 70; ++i) calls = "f(" + calls + ")";
  EXPECT_NE(parse_error("RANK items BY " + calls).find("nested more than 64"), std::string::npos);
  calls = "x";
  for (int i = 0; i < 60; ++i) calls = "f(" + calls + ")";
  parse_ok("RANK items BY " + calls);
}

TEST(TqlLimits, InListAndVectorLength) {
  std::string list = "1";
  for (size_t i = 1; i < kMaxInListSize; ++i) list += ",1";
  parse_ok("RANK items BY hot WHERE x IN (" + list + ")");
  EXPECT_NE(parse_error("RANK items BY hot WHERE x IN (" + list + ",1)")
                .find("an IN list holds at most 1024 values"),
            std::string::npos);

  std::string vec = "0";
  for (size_t i = 1; i < kMaxVectorLength; ++i) vec += ",0";
  EXPECT_EQ(parse_ok("NEAREST items TO VECTOR [" + vec + "] USING e").vector.size(),
            kMaxVectorLength);
  EXPECT_NE(parse_error("NEAREST items TO VECTOR [" + vec + ",0] USING e")
                .find("a vector holds at most 4096 values"),
            std::string::npos);
}

TEST(TqlLimits, MaxLimit) {
  EXPECT_EQ(parse_ok("TRENDING items WINDOW 1h LIMIT 10000").limit, kMaxLimit);
}

TEST(TqlLimits, QueryLength) {
  std::string q = "TRENDING items WINDOW 1h" + std::string(kMaxQueryBytes, ' ');
  EXPECT_NE(parse_error(q).find("the limit is 65536 bytes"), std::string::npos);
}

// --- printing and JSON ----------------------------------------------------------------

// Every example parses, and reads back unchanged from both of its other
// forms: to_tql -> parse and to_json -> parse_json.
TEST(TqlRoundTrip, EveryExampleThroughTextAndJson) {
  std::vector<std::string> all = kDesignExamples;
  all.insert(all.end(), kMoreExamples.begin(), kMoreExamples.end());
  for (const std::string& q : all) {
    Statement s = parse_ok(q);
    for (bool json : {false, true}) {
      std::string form = json ? to_json(s) : to_tql(s);
      auto back = json ? parse_json(form) : parse(form);
      ASSERT_TRUE(back.ok()) << q << "\n -> " << form << "\n" << back.status().to_string();
      EXPECT_EQ(*back, s) << q << "\n -> " << form;
    }
  }
}

TEST(TqlPrinter, Canonical) {
  EXPECT_EQ(to_tql(parse_ok(kDesignExamples[7])),
            "CREATE PROFILE engaging AS 0.5 * log1p(decay(like)) + 0.3 * rate(completion, view) "
            "+ 0.2 * freshness(6h)");
  EXPECT_EQ(to_tql(parse_ok("rank items by (a+b)*c where not (x=1 or y=2) and z in ('a', 'b')")),
            "RANK items BY (a + b) * c WHERE NOT (x = 1 OR y = 2) AND z IN ('a', 'b')");
  EXPECT_EQ(to_tql(parse_ok("search items query \"it's\" within trending window 90m where "
                            "-x - -(y) > a - (b - c) rank by if(n, 1, 2) desc cursor 'a\\u0001'")),
            "SEARCH items QUERY 'it\\'s' WITHIN TRENDING WINDOW 1h30m WHERE -x - -y > a - (b - "
            "c) RANK BY if(n, 1, 2) DESC CURSOR 'a\\u0001'");
}

// Found by the fuzzer: a whole number above 2^64 printed as plain digits,
// which JSON parsers reject.
TEST(TqlJson, HugeWholeNumbersRoundTrip) {
  for (std::string q : {"RANK items BY 333333333333333333333 / 335",
                        "RANK items BY 9007199254740993 + 1e300 + 18446744073709551616",
                        "NEAREST items TO VECTOR [3e38, -123456789012345678901] USING e"}) {
    Statement s = parse_ok(q);
    std::string json = to_json(s);
    auto back = parse_json(json);
    ASSERT_TRUE(back.ok()) << json << "\n" << back.status().to_string();
    EXPECT_EQ(*back, s) << json;
  }
}

TEST(TqlJson, Form) {
  EXPECT_EQ(
      to_json(parse_ok(kDesignExamples[2])),
      R"({"statement":"rank","target":"items","rank_by":{"call":"rising","args":[{"ident":"share"},{"duration":"1h"}]},"where":{"op":"and","args":[{"op":"=","args":[{"ident":"category"},{"string":"music"}]},{"op":"<","args":[{"ident":"duration"},{"number":300}]}]},"limit":50})");
  EXPECT_EQ(
      to_json(parse_ok(kDesignExamples[5])),
      R"({"statement":"feed","user":"u_42","profile":"for_you","diversify":{"by":"creator","max":2},"limit":30})");
  auto s = parse_json(
      R"({"statement":"trending","explain":true,"target":"items","window":"24h","limit":20})");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(*s, parse_ok(kDesignExamples[8]));
}

TEST(TqlJson, Errors) {
  struct Case {
    std::string json, message;
  };
  for (const Case& c : std::vector<Case>{
           {"[1]", "query: expected a JSON object"},
           {"{",
            "query: invalid JSON: The JSON document has an improper structure: missing or "
            "superfluous commas, braces, missing keys, etc."},
           {R"({"target":"items"})", "statement: is required"},
           {R"({"statement":"select"})",
            "statement: unknown statement \"select\" (known: trending, rank, search, similar, "
            "nearest, feed, count, create_cohort, drop_cohort, create_profile, "
            "create_cohorts)"},
           {R"({"statement":"trending","window":"1h","colour":1})", "colour: unknown field"},
           {R"({"statement":"trending","window":1})", "window: expected a string"},
           {R"({"statement":"trending","window":"1h","limit":"5"})",
            "limit: expected a whole number"},
           {R"({"statement":"trending","window":"1h","limit":0})",
            "limit = \"0\": must be between 1 and 10000"},
           {R"({"statement":"trending"})", "window = \"\": is required"},
           {R"({"statement":"trending","window":"1h","target":"things"})",
            "target: expected items, users or creators"},
           {R"({"statement":"rank","rank_by":{"ident":"hot","colour":1}})",
            "rank_by.colour: unknown field"},
           {R"({"statement":"rank","rank_by":{"number":"1"}})",
            "rank_by.number: expected a number"},
           {R"({"statement":"rank","rank_by":{}})",
            "rank_by: an expression needs one of number, string, bool, duration, ident, call, if, "
            "op or list"},
           {R"({"statement":"rank","rank_by":{"op":"^","args":[]}})",
            "rank_by.op: unknown operator \"^\" (known: + - * / neg < <= > >= = != and or not in "
            "between exists)"},
           {R"({"statement":"rank","rank_by":{"op":"+","args":[{"number":1}]}})",
            "rank_by = \"+\": needs 2 operands"},
           {R"({"statement":"rank","rank_by":{"ident":"where"}})",
            "rank_by = \"where\": is not a valid name"},
           {R"({"statement":"rank","rank_by":{"list":[{"number":1}]}})",
            "rank_by = \"list\": a list may only follow IN"},
           {R"({"statement":"rank","rank_by":{"ident":"hot"},"signal":"like"})",
            "signal = \"rank\": is not a field of a rank statement"},
           {R"({"statement":"feed","user":"u","diversify":{"by":"c"}})",
            "diversify.max: is required"},
           {R"({"statement":"nearest","vector":[],"using":"e"})",
            "vector = \"0 values\": a vector holds 1 to 4096 values"},
       }) {
    EXPECT_EQ(json_error(c.json), c.message) << c.json;
  }
  std::string deep = R"({"number":1})";
  for (int i = 0; i < 70; ++i) deep = R"({"op":"neg","args":[)" + deep + "]}";
  EXPECT_NE(json_error(R"({"statement":"rank","rank_by":)" + deep + "}").find("nested more than"),
            std::string::npos);
}

// --- WHERE -> Filter ----------------------------------------------------------------

// A readable rendering of a Filter, for comparisons.
std::string show(const AttributeValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  if (auto* i = std::get_if<int64_t>(&v)) return "i" + std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return "d" + format_number(*d);
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "?";
}
std::string show(const Filter& f) {
  static const char* kOps[] = {"and", "or", "not",     "=",  "!=",       "<",      "<=",
                               ">",   ">=", "between", "in", "contains", "exists", "all"};
  std::string out = std::string("(") + kOps[static_cast<int>(f.op)];
  if (!f.attribute.empty()) out += " " + f.attribute;
  for (const AttributeValue& v : f.values) out += " " + show(v);
  for (const Filter& c : f.children) out += " " + show(c);
  return out + ")";
}

std::string filter_of(const std::string& where) {
  auto e = parse_expression(where);
  EXPECT_TRUE(e.ok()) << where;
  auto f = to_filter(*e);
  EXPECT_TRUE(f.ok()) << where << ": " << f.status().to_string();
  return f.ok() ? show(*f) : "";
}

std::string filter_error(const std::string& where) {
  auto e = parse_expression(where);
  EXPECT_TRUE(e.ok()) << where;
  auto f = to_filter(*e);
  EXPECT_FALSE(f.ok()) << where;
  if (f.ok()) return "";
  EXPECT_EQ(f.status().code(), StatusCode::kNotSupported);
  return f.status().message();
}

TEST(TqlFilter, Conversions) {
  EXPECT_EQ(filter_of("category = 'music' AND duration < 300"),
            "(and (= category 'music') (< duration i300))");
  EXPECT_EQ(filter_of("age BETWEEN 18 AND 24 AND country = 'US' AND 'jazz' IN interests"),
            "(and (between age i18 i24) (= country 'US') (contains interests 'jazz'))");
  EXPECT_EQ(filter_of("a = 1 OR b != 2.5 OR c >= -3 OR d <= -0.5"),
            "(or (= a i1) (!= b d2.5) (>= c i-3) (<= d d-0.5))");
  EXPECT_EQ(filter_of("5 < x"), "(> x i5)");
  EXPECT_EQ(filter_of("'a' = x"), "(= x 'a')");
  EXPECT_EQ(filter_of("live = TRUE AND NOT hidden"), "(and (= live true) (not (= hidden true)))");
  EXPECT_EQ(filter_of("lang IN ('en', 'de') AND n NOT IN (1, 2)"),
            "(and (in lang 'en' 'de') (not (in n i1 i2)))");
  EXPECT_EQ(filter_of("EXISTS bio OR NOT EXISTS tags"), "(or (exists bio) (not (exists tags)))");
  EXPECT_EQ(filter_of("(a = 1 OR b = 2) AND c = 3"), "(and (or (= a i1) (= b i2)) (= c i3))");
}

TEST(TqlFilter, Unsupported) {
  EXPECT_EQ(filter_error("duration * 2 < 300"),
            "line 1, column 10: not supported yet: arithmetic in WHERE");
  EXPECT_EQ(filter_error("a = b"),
            "line 1, column 5: not supported yet: comparing two attributes "
            "in WHERE");
  EXPECT_EQ(filter_error("x = 1 AND f(y) > 2"),
            "line 1, column 11: not supported yet: a function call in WHERE");
  EXPECT_EQ(filter_error("age > 1h"), "line 1, column 7: not supported yet: a duration in WHERE");
  EXPECT_EQ(filter_error("3"), "line 1, column 1: not supported yet: a number in WHERE");
  EXPECT_EQ(filter_error("x IN (1, y)"),
            "line 1, column 10: not supported yet: an attribute in an IN list in WHERE");
  EXPECT_EQ(filter_error("1 IN tags"),
            "line 1, column 1: not supported yet: a number IN an attribute (only 'text' IN) in "
            "WHERE");
  EXPECT_EQ(filter_error("x BETWEEN y AND 2"),
            "line 1, column 11: not supported yet: an attribute in WHERE");
}

}  // namespace
}  // namespace tidal::query
