// The TQL lexer: query text to tokens, each with the line and column where it
// starts. Keywords are not told apart here — they are identifiers, and the
// parser compares them case-insensitively — so that words such as `max` or
// `top` stay usable as function and sort-mode names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "query/expr.h"
#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal::query {

enum class TokenKind : uint8_t {
  kEnd,         // end of the query
  kIdentifier,  // text: as written
  kNumber,      // number; text: as written
  kString,      // text: the decoded value
  kDuration,    // duration; text: as written
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kLParen,
  kRParen,
  kComma,
  kLBracket,
  kRBracket,
  kEq,  // =
  kNe,  // != or <>
  kLt,
  kLe,
  kGt,
  kGe,
  kDot,
  kSemicolon,
  kCaret,  // ^ (a boost in SEARCH ... IN (title^2))
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  SourcePos pos{};
  std::string text{};
  double number = 0;
  Duration duration{0};
};

// Splits `text` into tokens; the last token is always kEnd. Fails with
// "line L, column C: <what is wrong>" on an unterminated string, a bad escape,
// invalid UTF-8, a control character, a malformed number or duration, or a
// character TQL does not use; and when `text` is longer than kMaxQueryBytes.
Result<std::vector<Token>> tokenize(std::string_view text);

// How an error message names a token: "end of query", "keyword LIMIT",
// "identifier foo", "number 5", "string 'x'", "duration 6h", "')'".
std::string describe_token(const Token& t);

// "line L, column C: <message>" as an InvalidArgument Status of the query
// subsystem whose field is "query".
Status syntax_error(SourcePos pos, std::string_view message);

// ASCII case-insensitive equality, as keywords compare.
bool equals_ignore_case(std::string_view a, std::string_view b);

// True when `word` is a TQL keyword (any case).
bool is_keyword(std::string_view word);

// True when `word` may not be used as an identifier in an expression because
// a clause or operator keyword has that spelling (any case).
bool is_reserved(std::string_view word);

}  // namespace tidal::query
