// TQL text that layers below the query engine write too (a cohort family's
// predicates): string literals.
#pragma once

#include <string>
#include <string_view>

namespace tidal {

// `s` as a TQL string literal: single-quoted, with \' \\ \n \t and \uXXXX
// for other control characters; the query parser reads it back as `s`.
std::string quote_tql(std::string_view s);

}  // namespace tidal
