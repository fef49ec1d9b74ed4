// Hooks into the Analyzer for tests and benchmarks; not for the data path.
#pragma once

#include <string_view>
#include <vector>

#include "text/analyzer.h"

namespace tidal::text {

// What analyzer.analyze(text, out) gives, but with the whole text segmented
// and folded by ICU (no ASCII fast path, no splitting at ASCII whitespace).
// The two must always agree; the property tests check that they do.
void analyze_with_icu(const Analyzer& analyzer, std::string_view text, std::vector<Token>* out);

}  // namespace tidal::text
