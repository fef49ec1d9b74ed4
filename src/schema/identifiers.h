// Name rules shared by signal types and attributes: identifier syntax and the
// reserved words. The reserved lists live here and only here; docs/schema.md
// repeats them for users.
#pragma once

#include <span>
#include <string_view>

namespace tidal {

// The rule a name must follow, as error messages state it.
inline constexpr std::string_view kIdentifierRule =
    "must match ^[a-z][a-z0-9_]{0,63}$ (a lowercase letter, then at most 63 lowercase "
    "letters, digits or underscores)";

// True when `name` matches ^[a-z][a-z0-9_]{0,63}$.
bool is_identifier(std::string_view name);

// Words a signal type may not be called because TQL would read them as
// something else: keywords, sort modes and profile functions. Sorted.
std::span<const std::string_view> reserved_signal_names();
bool is_reserved_signal_name(std::string_view name);

// Names an attribute may not have because every entity already has them
// (id, key, kind, and the item's built-in creator and created_at) or because
// query results use them (score). Sorted.
std::span<const std::string_view> reserved_attribute_names();
bool is_reserved_attribute_name(std::string_view name);

}  // namespace tidal
