// Durations as people write them: "500ms", "30s", "15m", "6h", "7d", "2w",
// and sums of those ("1h30m"). Used by the schema, TQL and the CLI.
#pragma once

#include <string>
#include <string_view>

#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal {

// Parses a duration. `field` names the input in the error, e.g.
// `half_life = "6x": expected a duration such as 30s, 15m, 6h or 7d (units: us, ms, s, m, h, d,
// w)`.
Result<Duration> parse_duration(std::string_view text, std::string_view field,
                                Subsystem subsystem = Subsystem::kCore);

// The shortest exact rendering: 6h, 1h30m, 7d, 250ms, 0s. Negative durations
// are prefixed with '-'.
std::string format_duration(Duration d);

}  // namespace tidal
