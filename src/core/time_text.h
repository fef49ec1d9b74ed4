// Points in time as text: RFC 3339 in and out (UTC, microseconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal {

// 2026-11-24T12:00:00.000000Z for a time in microseconds since the Unix epoch.
std::string format_timestamp(int64_t us);

// Parses an RFC 3339 time such as 2026-11-24T12:00:00Z or
// 2026-11-24T12:00:00.250+01:00. `field` names the input in the error.
Result<Timestamp> parse_rfc3339(std::string_view text, std::string_view field,
                                Subsystem subsystem = Subsystem::kCore);

}  // namespace tidal
