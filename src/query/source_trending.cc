#include <cmath>

#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// The trending index as the source. Its entries with a positive score are
// exactly the best items by that score (ties by first seen): an item
// outside the index ranks below every entry (TopKSet's invariant), and one
// with a score <= 0 below every positive one. So the positive entries that
// pass the filter and follow the cursor are, in order, the first rows of
// the answer. If they run out before `wanted()` rows are accepted — the
// filter is very selective, or the rest of the answer has scores <= 0 —
// the executor falls back to scoring every candidate (unless the plan wants
// positive scores only: then the positive entries are the answer). Returns
// whether the index answered.
//
// A mode whose score the index only bounds from above (Plan::index_bounds:
// cohort_trending's score is at most the cohort's window count) is served
// the same way, keeping only the rows whose exact score is above the last
// entry read — the bound of every item not read — and reading deeper until
// enough rows are settled.
class TrendingSource final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    const Plan& p = x.plan();
    const QueryState& st = x.state();
    SteadyClock::time_point t = SteadyClock::now();
    signals::SignalLedger& ledger =
        (p.index_ledgers != nullptr ? p.index_ledgers : st.ledger)->ledger(p.index_signal);
    const double universe_size =
        std::max<double>(1, static_cast<double>(x.universe().cardinality()));
    const double selectivity =
        std::max(1e-6, static_cast<double>(x.candidates().cardinality()) / universe_size);
    const size_t per_page = p.diversify ? x.wanted() * 4 : x.wanted();
    const size_t capacity = std::max<size_t>(st.trending_capacity, 1);
    size_t k = std::clamp<size_t>(
        static_cast<size_t>(std::ceil(static_cast<double>(per_page) / selectivity * 1.5)) + 16,
        std::min<size_t>(64, capacity), capacity);
    const std::string index_name = p.index == SortIndex::kHot     ? "hot"
                                   : p.index == SortIndex::kCount ? "window count"
                                                                  : "rising";
    while (true) {
      std::vector<signals::ScoredItem> top;
      const int64_t now = st.now_us;
      switch (p.index) {
        case SortIndex::kHot: top = ledger.top_hot(k, now); break;
        case SortIndex::kCount: top = ledger.top_count(p.index_window, k, now); break;
        case SortIndex::kRising: top = ledger.top_rising(p.index_window, k, now); break;
        case SortIndex::kNone: return false;
      }
      std::vector<uint32_t> ids;
      bool positive_end = false;
      for (const signals::ScoredItem& e : top) {
        if (!(e.score > 0)) {
          positive_end = true;
          break;
        }
        if (x.candidates().contains(e.item)) ids.push_back(e.item);
      }
      // Rescore the accepted entries exactly as a scan would.
      const FeatureFetcher fetcher(p.program, st, p.target, false, &x.relevance,
                                   x.vector_features(), x.user_features());
      std::vector<double> scores(ids.size());
      for (size_t i = 0; i < ids.size(); i += kBatch) {
        x.score(fetcher, ids.data() + i, std::min(kBatch, ids.size() - i), scores.data() + i);
      }
      x.ranked.clear();
      for (size_t i = 0; i < ids.size(); ++i) {
        Ranked r{order_key(scores[i], p.ascending), ids[i]};
        if (x.after_cursor(r) && r.key > 0) x.ranked.push_back(r);
      }
      std::sort(x.ranked.begin(), x.ranked.end(), before);
      const bool exhausted = positive_end || top.size() < k;
      if (p.index_bounds && !exhausted && !top.empty()) {
        // The index bounds the score: an item not read yet scores at most
        // the last entry's, so only the rows scoring above it are settled.
        const double unseen = top.back().score;
        size_t settled = 0;
        while (settled < x.ranked.size() && x.ranked[settled].key > unseen) ++settled;
        x.ranked.resize(settled);
      }
      x.stage("source",
              "trending index " + index_name + " of " + ledger.definition().name + ": top " +
                  with_commas(k) + (exhausted ? " (every item with a positive score)" : "") +
                  (p.index_bounds ? ", an upper bound of the sort's score" : ""),
              top.size(), top.size(), t);
      if (p.filter || p.keys) {
        x.last_stage().detail += ", kept if in the filtered set";
      }
      x.last_stage().rows_out = x.ranked.size();
      // TRENDING wants no row with a score <= 0: once the index ran out of
      // positive entries, what it gave is the whole answer.
      if (x.enough_rows() || (exhausted && p.positive_only)) {
        x.stage("score", p.sort_text + " = " + p.score_text, ids.size(), x.ranked.size(), t);
        x.last_stage().micros = 0;
        return true;
      }
      if (exhausted || k >= capacity) {
        x.last_stage().detail += "; too few rows, scoring every candidate instead";
        return false;
      }
      k = std::min(capacity, k * 4);
      TIDAL_RETURN_IF_ERROR(x.check_deadline("source", 0, k));
    }
  }
};

}  // namespace

std::unique_ptr<const Operator> make_trending_source() {
  return std::make_unique<TrendingSource>();
}

}  // namespace tidal::query
