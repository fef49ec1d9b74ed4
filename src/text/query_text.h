// The search text of `SEARCH ... QUERY "..."` (docs/search.md):
//
//   words             piano jazz          any of them (all of them with MATCH ALL)
//   "a phrase"        "blue note"         the words in this order, next to each other
//   +word, +"phrase"  +live               must match
//   -word, -"phrase"  -cover              must not match
//
// `+` and `-` count only at the start of a word (after a space or at the
// start): "e-mail" and "1-1%" are plain words. A quote left open runs to the
// end of the text. A phrase always must match (quoting says "exactly this");
// `-"phrase"` excludes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tidal/status.h"

namespace tidal::text {

// At most this many words in a search text (phrases count their words).
inline constexpr size_t kMaxQueryWords = 1024;

enum class Occur : uint8_t { kShould, kMust, kMustNot };

struct QueryClause {
  std::string text;  // the word or the phrase's words, as written
  bool phrase = false;
  Occur occur = Occur::kShould;
};

// InvalidArgument (field "query") for a text with no words at all ("", "  ",
// "+", a lone quote) or with more than kMaxQueryWords words.
Result<std::vector<QueryClause>> parse_query_text(std::string_view text);

}  // namespace tidal::text
