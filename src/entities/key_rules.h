// The rules an application's entity key must follow: 1..kMaxKeyBytes bytes of
// valid UTF-8 without control characters. Keys are compared byte for byte.
#pragma once

#include <cstddef>
#include <string_view>

#include "tidal/status.h"

namespace tidal {

inline constexpr size_t kMaxKeyBytes = 256;

// OK, or InvalidArgument naming `field`, the key and the rule it broke.
Status validate_key(std::string_view field, std::string_view key);

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool is_valid_utf8(std::string_view s);

}  // namespace tidal
