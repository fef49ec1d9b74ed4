#include "core/tql_text.h"

#include <cstdio>

namespace tidal {

std::string quote_tql(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04X", u);
          out += esc;
        } else {
          out += c;
        }
    }
  }
  return out + "'";
}

}  // namespace tidal
