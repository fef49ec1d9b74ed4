#include "schema/identifiers.h"

#include <algorithm>
#include <array>

#include "tidal/schema.h"

namespace tidal {

namespace {

// TQL keywords (docs/tql.md), sort modes and profile functions. Sorted at
// compile time below, so the order here is by kind.
// clang-format off
constexpr auto kReservedSignalNames = std::to_array<std::string_view>({
    // Keywords.
    "and", "as", "asc", "between", "by", "cohort", "create", "creator", "creators", "cursor",
    "desc", "diversify", "explain", "false", "feed", "for", "in", "item", "items", "limit", "max",
    "min", "nearest", "not", "null", "offset", "or", "profile", "query", "rank", "search",
    "similar", "to", "true", "user", "users", "using", "where", "window", "within",
    // Sort modes.
    "affinity", "avg_dwell", "best", "cohort_trending", "completion_rate", "controversial",
    "engagement_rate", "explore", "following", "for_you", "fresh_hot", "hot", "hybrid",
    "most_liked", "most_shared", "most_viewed", "new", "oldest", "relevance", "rising",
    "similarity", "skip_rate", "top", "trending",
    // Profile expression functions and the pipeline's own names.
    "decay", "freshness", "log1p", "mmr", "rate", "score",
});
// clang-format on

constexpr auto kReservedAttributeNames = std::to_array<std::string_view>(
    {"id", "key", "kind", "creator", "created_at", "updated_at", "registered", "score"});

template <size_t N>
constexpr std::array<std::string_view, N> sorted(std::array<std::string_view, N> a) {
  std::sort(a.begin(), a.end());
  return a;
}

constexpr auto kSortedSignalNames = sorted(kReservedSignalNames);
constexpr auto kSortedAttributeNames = sorted(kReservedAttributeNames);

// A duplicate would be harmless but means the list was edited carelessly.
static_assert(std::adjacent_find(kSortedSignalNames.begin(), kSortedSignalNames.end()) ==
              kSortedSignalNames.end());
static_assert(std::adjacent_find(kSortedAttributeNames.begin(), kSortedAttributeNames.end()) ==
              kSortedAttributeNames.end());

}  // namespace

bool is_identifier(std::string_view name) {
  if (name.empty() || name.size() > kMaxIdentifierLength) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::span<const std::string_view> reserved_signal_names() {
  return kSortedSignalNames;
}

bool is_reserved_signal_name(std::string_view name) {
  return std::binary_search(kSortedSignalNames.begin(), kSortedSignalNames.end(), name);
}

std::span<const std::string_view> reserved_attribute_names() {
  return kSortedAttributeNames;
}

bool is_reserved_attribute_name(std::string_view name) {
  return std::binary_search(kSortedAttributeNames.begin(), kSortedAttributeNames.end(), name);
}

}  // namespace tidal
