// How schema values are written in error messages and diffs, so that a value
// reads the same wherever it is shown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tidal/types.h"

namespace tidal {

// The shortest text that reads back as the same double ("0.1", "-0.5", "nan").
std::string number_text(double v);

// "true" or "false".
std::string_view bool_text(bool v);

// "[1h, 24h, 7d]", in the order given; "[]" when empty.
std::string windows_text(const std::vector<Duration>& windows);

}  // namespace tidal
