#include "entities/key_rules.h"

#include <string>

namespace tidal {

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // the sequence runs past the end
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

Status validate_key(std::string_view field, std::string_view key) {
  if (key.empty()) return Status::Invalid(Subsystem::kQuery, field, key, "must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return Status::Invalid(Subsystem::kQuery, field, key,
                           "must be at most " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (!is_valid_utf8(key)) {
    return Status::Invalid(Subsystem::kQuery, field, key, "must be valid UTF-8");
  }
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::Invalid(Subsystem::kQuery, field, key, "must not contain control characters");
    }
  }
  return Status::Ok();
}

}  // namespace tidal
