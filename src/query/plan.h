// A planned read query: what query/planner.cc decides and query/execution.cc
// runs. Internal to src/query/.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/ast.h"
#include "query/cursor.h"
#include "query/features.h"
#include "query/filter.h"
#include "query/operator.h"
#include "query/sort_modes.h"
#include "ranking/profile.h"
#include "signals/ledger_set.h"
#include "text/text_search.h"
#include "vectors/vector_index.h"

namespace tidal::query {

using SteadyClock = std::chrono::steady_clock;

// Candidates are scored in batches of this many.
inline constexpr size_t kBatch = ranking::kEvalBatch;
// SIMILAR / NEAREST ranked by anything but similarity alone: how many of the
// nearest are scored (at least; EF or the page may ask for more).
inline constexpr size_t kVectorPool = 200;
// Reciprocal-rank fusion's constant (Cormack et al. 2009).
inline constexpr int kRrfK = 60;

inline double micros_since(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - t).count();
}

// 1234567 -> "1,234,567" (EXPLAIN's counts).
std::string with_commas(uint64_t v);

struct Plan {
  EntityKind target = EntityKind::kItem;
  std::string sort_text;   // the sort as the user sees it (a mode's full call)
  std::string score_text;  // the expression actually scored
  ranking::Program program;
  bool ascending = false;
  SortIndex index = SortIndex::kNone;
  uint16_t index_signal = 0;
  uint8_t index_window = 0;
  signals::LedgerSet* index_ledgers = nullptr;  // whose trending index: the feature's scope
  // The index's score bounds the sort's from above (ResolvedMode::bound)
  // instead of being it: the source stops once the page's last exact score
  // reaches the next entry's.
  bool index_bounds = false;

  std::optional<Filter> filter;
  std::string filter_text;
  // WHERE ... IN COHORT c (users): the filter keeps only these cohorts'
  // members (their bitmaps, valid while the state lock is held).
  std::vector<const entities::Bitmap*> members;
  std::optional<std::vector<std::string>> keys;  // WHERE key IN (...)

  std::optional<Diversify> diversify;
  const AttributeDefinition* diversify_attr = nullptr;

  // SEARCH: the compiled text query; `relevance_only` when the sort is
  // exactly bm25 descending (the text index's top-k answers it).
  std::shared_ptr<text::TextSearch> text;
  bool relevance_only = false;

  // SIMILAR / NEAREST: the slot searched, the query vector as stored
  // vectors are (normalized under cosine), the entity itself (SIMILAR: never
  // its own neighbour), the HNSW breadth. `similarity_only` when the sort is
  // exactly similarity(slot) descending with no QUERY (the nearest are the
  // answer); `hybrid` when a QUERY text is fused with the vector list.
  const vectors::VectorSlot* vector_slot = nullptr;
  std::vector<float> query_vector;
  std::optional<uint32_t> exclude;
  size_t ef = vectors::kDefaultEf;
  bool similarity_only = false;

  // TRENDING: only items whose score (the window's count) is above zero are
  // rows; the rest of the items are not trending at all.
  bool positive_only = false;

  // FEED FOR USER 'u': the user the user features read, the feed's
  // candidate sources (source_feed.cc), and whether items the user has seen
  // stay candidates (QueryOptions::include_seen).
  std::optional<UserFeatures> user;
  bool feed = false;
  bool include_seen = false;
  // The feed's trending sources: the schema's first count signal type of
  // positive polarity, by its longest window (none: by its decayed score).
  std::optional<uint16_t> trending_signal;
  std::optional<uint8_t> trending_window;

  // COUNT: the count operator answers with the candidates' number; nothing
  // is scored, diversified or paged.
  bool count_only = false;

  size_t limit = 20;
  std::optional<Ranked> after;
  uint64_t fingerprint = 0;
  uint64_t seed = 0;

  // The operators the executor runs, in order, until one answers (the scan,
  // last, always does): the candidate sources and the filter. See
  // query/operator.h.
  std::vector<std::unique_ptr<const Operator>> operators;
};

}  // namespace tidal::query
