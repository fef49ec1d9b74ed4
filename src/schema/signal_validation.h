// The rules for one signal type's fields (its name is checked with the
// others' by assemble_schema). The limits are stated once, here.
#pragma once

#include <string_view>

#include "schema/error_list.h"
#include "tidal/schema.h"

namespace tidal {

// Half-lives from one second (a signal that matters for moments) to ten
// years (one that effectively never fades).
inline constexpr Duration kMinHalfLife = std::chrono::seconds(1);
inline constexpr Duration kMaxHalfLife = std::chrono::hours(24 * 3650);

// Windows are counted in minute buckets, so a window is a whole number of
// minutes; the longest is a year.
inline constexpr Duration kWindowGranularity = std::chrono::minutes(1);
inline constexpr Duration kMinWindow = std::chrono::minutes(1);
inline constexpr Duration kMaxWindow = std::chrono::hours(24 * 365);

inline constexpr double kMaxAffinityDelta = 1000;

// Checks every field of `spec` but the name, adding each broken rule to
// `errors` with fields named `<path>.<field>` (path is e.g. "signals.view").
// Returns the definition (id 0, windows distinct and ascending, lambda
// computed); it is meaningful only when nothing was added to `errors`.
SignalTypeDefinition validate_signal_fields(const SignalTypeSpec& spec, std::string_view path,
                                            ErrorList* errors);

}  // namespace tidal
