// Query texts as the text benches hand them to every engine. Header-only, so
// the unit tests use it with nothing but an include path.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace tidal::bench {

// A query text made bag-of-words: '"' (phrase marks) and a '+' or '-' at the
// start of a whitespace-separated word (required and excluded marks) become
// spaces, so that every word is an optional term. A replaced mark is a space,
// so "--x" loses both marks; "a-b" keeps its hyphen.
inline std::string bag_of_words(std::string_view query) {
  std::string out(query);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const char before = i == 0 ? ' ' : out[i - 1];
    const bool word_start = before == ' ' || before == '\t' || before == '\n' || before == '\r';
    if (c == '"' || ((c == '+' || c == '-') && word_start)) out[i] = ' ';
  }
  return out;
}

// `text` as a single-quoted TQL string literal (docs/tql.md): ' " \ newline
// and tab escaped as \' \" \\ \n \t, other control characters as \u00XX.
inline std::string tql_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    switch (c) {
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '\'';
  return out;
}

}  // namespace tidal::bench
