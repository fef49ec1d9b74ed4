#include "query/lexer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "core/duration.h"
#include "query/limits.h"

namespace tidal::query {

namespace {

constexpr std::string_view kKeywords[] = {
    "TRENDING", "RANK",    "SEARCH", "SIMILAR", "NEAREST",  "FEED",  "CREATE", "COHORT",
    "PROFILE",  "EXPLAIN", "ITEMS",  "USERS",   "CREATORS", "BY",    "WHERE",  "AND",
    "OR",       "NOT",     "IN",     "BETWEEN", "EXISTS",   "LIMIT", "CURSOR", "WINDOW",
    "FOR",      "USER",    "QUERY",  "WITHIN",  "TO",       "USING", "VECTOR", "DIVERSIFY",
    "MAX",      "AS",      "TRUE",   "FALSE",   "ASC",      "DESC",  "MATCH",  "ALL",
    "ANY",      "EF",      "DROP",   "COUNT"};

// Keywords that may still name things in an expression or clause:
// `max(a, b)`, `RANK items BY trending`, `affinity(user)`, an attribute
// called `query`. The other keywords start a clause or are operators and
// literals, so they cannot be identifiers.
constexpr std::string_view kUnreserved[] = {
    "TRENDING", "COHORT", "PROFILE", "ITEMS", "USERS", "CREATORS", "USER", "QUERY",
    "VECTOR",   "MAX",    "MATCH",   "ALL",   "ANY",   "EF",       "DROP", "COUNT"};

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 when the
// bytes there are not valid UTF-8 (overlong forms, surrogates and code points
// above U+10FFFF are invalid).
size_t utf8_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    // At most one token per byte plus the end ("1,2"), so that a long vector
    // never moves its tokens; capped for very long queries.
    out.reserve(std::min<size_t>(s_.size() + 1, 4096));
    while (true) {
      skip_space();
      // Filled in place: moving a token costs as much as making it.
      Token& t = out.emplace_back();
      t.pos = pos_;
      if (i_ >= s_.size()) return out;
      char c = s_[i_];
      if (is_ident_start(c)) {
        size_t start = i_;
        while (i_ < s_.size() && is_ident_char(s_[i_])) advance();
        t.kind = TokenKind::kIdentifier;
        t.text.assign(s_.substr(start, i_ - start));
      } else if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) {
        TIDAL_RETURN_IF_ERROR(lex_number(&t));
      } else if (c == '\'' || c == '"') {
        TIDAL_RETURN_IF_ERROR(lex_string(&t));
      } else {
        TIDAL_RETURN_IF_ERROR(lex_operator(&t));
      }
    }
  }

 private:
  void advance() {
    if (s_[i_] == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else {
      ++pos_.column;
    }
    ++i_;
  }

  void skip_space() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      advance();
    }
  }

  Status lex_number(Token* t) {
    size_t start = i_;
    while (i_ < s_.size() && is_digit(s_[i_])) advance();
    bool integral = true;
    if (i_ < s_.size() && s_[i_] == '.') {
      integral = false;
      advance();
      if (i_ >= s_.size() || !is_digit(s_[i_])) {
        return syntax_error(pos_, "expected a digit after the decimal point");
      }
      while (i_ < s_.size() && is_digit(s_[i_])) advance();
    }
    // An exponent: e or E, an optional sign, digits. "5e" followed by a letter
    // that is not a digit or sign is left to the duration check below.
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t k = i_ + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && is_digit(s_[k])) {
        integral = false;
        while (i_ < k) advance();
        while (i_ < s_.size() && is_digit(s_[i_])) advance();
      } else if (k != i_ + 1 || k >= s_.size() || !is_ident_char(s_[k])) {
        return syntax_error(pos_, "expected digits in the exponent");
      }
    }
    if (i_ < s_.size() && is_ident_char(s_[i_])) {
      // A number immediately followed by letters is a duration: 24h, 500ms, 1h30m.
      while (i_ < s_.size() && is_ident_char(s_[i_])) advance();
      t->text.assign(s_.substr(start, i_ - start));
      if (!integral) {
        return syntax_error(t->pos, "invalid duration " + t->text +
                                        ": a duration is a whole number and a unit "
                                        "(us, ms, s, m, h, d, w), such as 30s, 6h or 7d");
      }
      auto d = parse_duration(t->text, "duration", Subsystem::kQuery);
      if (!d.ok()) {
        return syntax_error(t->pos, "invalid duration " + t->text + ": " + d.status().message());
      }
      t->kind = TokenKind::kDuration;
      t->duration = *d;
      return Status::Ok();
    }
    t->text.assign(s_.substr(start, i_ - start));
    if (integral && t->text.size() <= 15) {  // exact in a double: no parsing needed
      int64_t whole = 0;
      for (char c : t->text) whole = whole * 10 + (c - '0');
      t->kind = TokenKind::kNumber;
      t->number = static_cast<double>(whole);
      return Status::Ok();
    }
    double v = 0;
    auto [p, ec] = std::from_chars(t->text.data(), t->text.data() + t->text.size(), v);
    if (ec != std::errc() || p != t->text.data() + t->text.size() || !std::isfinite(v)) {
      return syntax_error(t->pos, "number " + t->text + " is out of range");
    }
    t->kind = TokenKind::kNumber;
    t->number = v;
    return Status::Ok();
  }

  Status lex_string(Token* t) {
    char quote = s_[i_];
    advance();
    std::string value;
    while (true) {
      if (i_ >= s_.size()) return syntax_error(t->pos, "unterminated string");
      char c = s_[i_];
      if (c == quote) {
        advance();
        break;
      }
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F) {
        return syntax_error(pos_,
                            "control character in a string (write \\n, \\t or \\uXXXX instead)");
      }
      if (c == '\\') {
        SourcePos at = pos_;
        advance();
        if (i_ >= s_.size()) return syntax_error(t->pos, "unterminated string");
        char e = s_[i_];
        advance();
        switch (e) {
          case '\'': value += '\''; break;
          case '"': value += '"'; break;
          case '\\': value += '\\'; break;
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          case 'u': {
            uint32_t cp = 0;
            for (int k = 0; k < 4; ++k) {
              if (i_ >= s_.size()) return syntax_error(at, "\\u needs four hex digits");
              char h = s_[i_];
              uint32_t d;
              if (h >= '0' && h <= '9') {
                d = static_cast<uint32_t>(h - '0');
              } else if (h >= 'a' && h <= 'f') {
                d = static_cast<uint32_t>(h - 'a' + 10);
              } else if (h >= 'A' && h <= 'F') {
                d = static_cast<uint32_t>(h - 'A' + 10);
              } else {
                return syntax_error(at, "\\u needs four hex digits");
              }
              cp = cp * 16 + d;
              advance();
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) {
              return syntax_error(at,
                                  "\\u escape of a UTF-16 surrogate (write the character "
                                  "itself in UTF-8 instead)");
            }
            append_utf8(&value, cp);
            break;
          }
          default:
            return syntax_error(at, std::string("unknown escape \\") +
                                        (static_cast<unsigned char>(e) >= 0x20 &&
                                                 static_cast<unsigned char>(e) < 0x7F
                                             ? std::string(1, e)
                                             : std::string("?")) +
                                        " (known: \\' \\\" \\\\ \\n \\t \\uXXXX)");
        }
        continue;
      }
      size_t n = utf8_length(s_, i_);
      if (n == 0) return syntax_error(pos_, "invalid UTF-8 in a string");
      value.append(s_.substr(i_, n));
      i_ += n;
      pos_.column += static_cast<uint32_t>(n);
    }
    t->kind = TokenKind::kString;
    t->text = std::move(value);
    return Status::Ok();
  }

  Status lex_operator(Token* t) {
    char c = s_[i_];
    char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
    size_t len = 1;
    switch (c) {
      case '+': t->kind = TokenKind::kPlus; break;
      case '-': t->kind = TokenKind::kMinus; break;
      case '*': t->kind = TokenKind::kStar; break;
      case '/': t->kind = TokenKind::kSlash; break;
      case '(': t->kind = TokenKind::kLParen; break;
      case ')': t->kind = TokenKind::kRParen; break;
      case ',': t->kind = TokenKind::kComma; break;
      case '[': t->kind = TokenKind::kLBracket; break;
      case ']': t->kind = TokenKind::kRBracket; break;
      case '.': t->kind = TokenKind::kDot; break;
      case ';': t->kind = TokenKind::kSemicolon; break;
      case '^': t->kind = TokenKind::kCaret; break;
      case '=': t->kind = TokenKind::kEq; break;
      case '!':
        if (next != '=') return syntax_error(pos_, "unexpected character '!' (did you mean !=?)");
        t->kind = TokenKind::kNe;
        len = 2;
        break;
      case '<':
        if (next == '=') {
          t->kind = TokenKind::kLe;
          len = 2;
        } else if (next == '>') {
          t->kind = TokenKind::kNe;
          len = 2;
        } else {
          t->kind = TokenKind::kLt;
        }
        break;
      case '>':
        if (next == '=') {
          t->kind = TokenKind::kGe;
          len = 2;
        } else {
          t->kind = TokenKind::kGt;
        }
        break;
      default: {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
          size_t n = utf8_length(s_, i_);
          if (n == 0) return syntax_error(pos_, "invalid UTF-8");
          return syntax_error(pos_, "unexpected character '" + std::string(s_.substr(i_, n)) +
                                        "' (non-ASCII text belongs in a quoted string)");
        }
        if (u < 0x20 || u == 0x7F) return syntax_error(pos_, "unexpected control character");
        return syntax_error(pos_, std::string("unexpected character '") + c + "'");
      }
    }
    t->text.assign(s_.substr(i_, len));
    for (size_t k = 0; k < len; ++k) advance();
    return Status::Ok();
  }

  std::string_view s_;
  size_t i_ = 0;
  SourcePos pos_{};
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string quote_short(std::string_view s) {
  constexpr size_t kShown = 24;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kShown; ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    out += (u < 0x20 || u == 0x7F) ? '?' : s[i];
  }
  if (s.size() > kShown) {
    // Do not end in the middle of a UTF-8 sequence.
    while (out.size() > 1 && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) {
      out.pop_back();
    }
    if (out.size() > 1 && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out + "'";
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return syntax_error(SourcePos{}, "query is " + std::to_string(text.size()) +
                                         " bytes long; the limit is " +
                                         std::to_string(kMaxQueryBytes) + " bytes");
  }
  return Lexer(text).run();
}

std::string describe_token(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd: return "end of query";
    case TokenKind::kIdentifier:
      if (is_keyword(t.text)) return "keyword " + upper(t.text);
      return "identifier " + t.text;
    case TokenKind::kNumber: return "number " + t.text;
    case TokenKind::kString: return "string " + quote_short(t.text);
    case TokenKind::kDuration: return "duration " + t.text;
    default: return "'" + t.text + "'";
  }
}

Status syntax_error(SourcePos pos, std::string_view message) {
  return Status(Subsystem::kQuery, StatusCode::kInvalidArgument,
                "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column) +
                    ": " + std::string(message),
                "query");
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

bool is_keyword(std::string_view word) {
  for (std::string_view k : kKeywords) {
    if (equals_ignore_case(k, word)) return true;
  }
  return false;
}

bool is_reserved(std::string_view word) {
  if (!is_keyword(word)) return false;
  for (std::string_view k : kUnreserved) {
    if (equals_ignore_case(k, word)) return false;
  }
  return true;
}

}  // namespace tidal::query
