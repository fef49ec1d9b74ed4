#include "schema/value_text.h"

#include <charconv>

#include "core/duration.h"

namespace tidal {

std::string number_text(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

std::string_view bool_text(bool v) {
  return v ? "true" : "false";
}

std::string windows_text(const std::vector<Duration>& windows) {
  std::string out = "[";
  for (size_t i = 0; i < windows.size(); ++i) {
    if (i > 0) out += ", ";
    out += format_duration(windows[i]);
  }
  out += ']';
  return out;
}

}  // namespace tidal
