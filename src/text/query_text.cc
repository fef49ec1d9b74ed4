#include "text/query_text.h"

namespace tidal::text {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Words as whitespace separates them (the analyzer splits further).
size_t count_words(std::string_view s) {
  size_t n = 0;
  bool in = false;
  for (char c : s) {
    if (is_space(c)) {
      in = false;
    } else if (!in) {
      in = true;
      ++n;
    }
  }
  return n;
}

std::string shorten(std::string_view s) {
  return s.size() > 80 ? std::string(s.substr(0, 80)) + "..." : std::string(s);
}

}  // namespace

Result<std::vector<QueryClause>> parse_query_text(std::string_view text) {
  std::vector<QueryClause> out;
  size_t words = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    QueryClause c;
    if ((text[i] == '+' || text[i] == '-') && i + 1 < text.size() && !is_space(text[i + 1])) {
      c.occur = text[i] == '+' ? Occur::kMust : Occur::kMustNot;
      ++i;
    }
    if (text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      const size_t end = close == std::string_view::npos ? text.size() : close;
      c.text = std::string(text.substr(i + 1, end - i - 1));
      c.phrase = true;
      if (c.occur == Occur::kShould) c.occur = Occur::kMust;
      i = close == std::string_view::npos ? text.size() : close + 1;
    } else {
      size_t end = i;
      while (end < text.size() && !is_space(text[end])) ++end;
      c.text = std::string(text.substr(i, end - i));
      i = end;
    }
    const size_t n = count_words(c.text);
    if (n == 0) continue;  // "" or a bare quote
    words += n;
    if (words > kMaxQueryWords) {
      return Status::Invalid(
          Subsystem::kQuery, "query", shorten(text),
          "has more than " + std::to_string(kMaxQueryWords) + " words; shorten the search text");
    }
    out.push_back(std::move(c));
  }
  if (out.empty()) {
    return Status::Invalid(Subsystem::kQuery, "query", std::string(text),
                           "has no words to search for; give at least one word");
  }
  return out;
}

}  // namespace tidal::text
