#include "core/json_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tidal {

void append_json_string(std::string* out, std::string_view s) {
  *out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\t': *out += "\\t"; break;
      case '\r': *out += "\\r"; break;
      default:
        if (u < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", u);
          *out += esc;
        } else {
          *out += c;
        }
    }
  }
  *out += '"';
}

void append_json_number(std::string* out, double v) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  char buf[64];
  auto fmt = std::fabs(v) >= 9007199254740992.0 ? std::chars_format::scientific
                                                : std::chars_format::general;
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v, fmt);
  out->append(buf, ec == std::errc() ? p : buf);
}

}  // namespace tidal
