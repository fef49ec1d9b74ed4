#include "core/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace tidal {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t micros;
};

constexpr std::array<Unit, 7> kParseUnits = {{{"us", 1},
                                              {"ms", 1000},
                                              {"s", 1000 * 1000},
                                              {"m", 60LL * 1000 * 1000},
                                              {"h", 3600LL * 1000 * 1000},
                                              {"d", 86400LL * 1000 * 1000},
                                              {"w", 7 * 86400LL * 1000 * 1000}}};

// Largest first, for formatting. Weeks are not used: "14d" reads better than "2w".
constexpr std::array<Unit, 6> kFormatUnits = {{{"d", 86400LL * 1000 * 1000},
                                               {"h", 3600LL * 1000 * 1000},
                                               {"m", 60LL * 1000 * 1000},
                                               {"s", 1000 * 1000},
                                               {"ms", 1000},
                                               {"us", 1}}};

constexpr std::string_view kRule =
    "expected a duration such as 30s, 15m, 6h or 7d (units: us, ms, s, m, h, d, w)";

}  // namespace

Result<Duration> parse_duration(std::string_view text, std::string_view field,
                                Subsystem subsystem) {
  std::string_view rest = text;
  if (rest.empty()) return Status::Invalid(subsystem, field, text, kRule);
  int64_t total = 0;
  while (!rest.empty()) {
    int64_t number = 0;
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      if (number > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return Status::Invalid(subsystem, field, text, "duration is too large");
      }
      number = number * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 0) return Status::Invalid(subsystem, field, text, kRule);
    rest.remove_prefix(digits);
    // kParseUnits lists "ms" before "m" and "us" before "s", so the first
    // suffix that matches is the right one.
    const Unit* unit = nullptr;
    for (const Unit& u : kParseUnits) {
      if (rest.starts_with(u.suffix)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return Status::Invalid(subsystem, field, text, kRule);
    rest.remove_prefix(unit->suffix.size());
    if (number > (std::numeric_limits<int64_t>::max() - total) / unit->micros) {
      return Status::Invalid(subsystem, field, text, "duration is too large");
    }
    total += number * unit->micros;
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  int64_t us = d.count();
  if (us == 0) return "0s";
  std::string out;
  uint64_t left;
  if (us < 0) {
    out += '-';
    left = static_cast<uint64_t>(-(us + 1)) + 1;
  } else {
    left = static_cast<uint64_t>(us);
  }
  for (const Unit& u : kFormatUnits) {
    auto unit = static_cast<uint64_t>(u.micros);
    if (left >= unit) {
      out += std::to_string(left / unit);
      out += u.suffix;
      left %= unit;
    }
  }
  return out;
}

}  // namespace tidal
