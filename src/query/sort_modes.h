// Sort modes: the named rankings of RANK items BY <mode> (docs/sort-modes.md).
//
// Every mode is a formula in the profile language over the features the
// ledger keeps, written once below as TQL text with placeholders for the
// signal types it reads ({0}, {1}, ...), its window ({w}) and, for explore,
// a seed ({seed}). Resolving a mode fills the placeholders — from the call's
// arguments, else from the mode's defaults — checks them against the schema,
// and parses the result into an Expr the profile compiler turns into a
// program. So a mode means exactly what its documented formula says, and the
// oracle tests can check the engine against that formula.
//
// Modes can also appear inside expressions (RANK items BY best + 0.1 * hot):
// expand_names() replaces every mode (and stored profile) reference by its
// formula.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/expr.h"
#include "tidal/schema.h"
#include "tidal/status.h"

namespace tidal::query {

// The trending index that can produce a mode's order without scoring every
// candidate (descending order only).
enum class SortIndex : uint8_t { kNone, kHot, kCount, kRising };

struct SortModeInfo {
  std::string_view name;
  std::string_view signature;  // e.g. "best([positive, negative] [, window])"
  std::string_view summary;
  std::string_view formula;  // the template (TQL with placeholders)
  bool ascending = false;    // the default direction
  bool needs_user = false;   // ranks for one user: FEED FOR USER only (docs/feeds.md)
};

// Every sort mode, in documentation order.
const std::vector<SortModeInfo>& sort_modes();
bool is_sort_mode(std::string_view name);

struct ResolvedMode {
  std::string call;  // the canonical call with every argument, e.g. "best(like, skip, 24h)"
  Expr expr;         // the formula with placeholders filled
  bool ascending = false;
  // A trending index whose score bounds the mode's from above (score <=
  // the index's score for every item): walking it in order and stopping once
  // the page's last score reaches the next entry's gives the exact top
  // without scoring every item. kNone when the mode has no such bound.
  SortIndex bound = SortIndex::kNone;
  uint16_t bound_signal = 0;
  uint8_t bound_window = 0;
};

// What a mode is resolved for.
struct ModeContext {
  uint64_t seed = 0;        // fills explore's seed when the call gives none
  bool for_cohort = false;  // the query has FOR COHORT (cohort_trending needs it)
  bool for_user = false;    // the query names a user (for_you, following, affinity need one)
};

// Resolves `e` (an identifier or call naming a sort mode) against `schema`.
// Errors name the field "sort" and say which argument or signal type is
// wrong, or that the mode needs FOR COHORT.
Result<ResolvedMode> resolve_mode(const Expr& e, const Schema& schema, const ModeContext& ctx);

// Looks up a stored profile's expression by name (nullptr when none).
using ProfileLookup = std::function<const Expr*(std::string_view name)>;

// Replaces, anywhere in `e`, identifiers and calls naming a sort mode by the
// mode's formula and identifiers naming a stored profile by its expression
// (profiles may use modes and other profiles, up to 8 levels). Names that
// are neither are left for the profile compiler.
Result<Expr> expand_names(const Expr& e, const Schema& schema, const ProfileLookup& profiles,
                          const ModeContext& ctx);

}  // namespace tidal::query
