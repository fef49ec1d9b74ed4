// Execution: runs a planned read query (query/plan.h) — its operators in
// order (query/operator.h), then diversify and page — and holds the state
// the operators share. Internal to src/query/.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "query/engine.h"
#include "query/features.h"
#include "query/plan.h"

namespace tidal::query {

using entities::Bitmap;

class Execution {
 public:
  Execution(const Plan& plan, const QueryState& st, const QueryOptions& options);

  Result<QueryResult> run();

  const Plan& plan() const { return plan_; }
  const QueryState& state() const { return st_; }

  // How many accepted rows prove whether another page follows.
  size_t wanted() const { return plan_.limit + 1; }
  // Every entity the query can rank: known items, or the live users or
  // creators.
  const Bitmap& universe() const;
  // The candidates so far: the universe itself until an operator narrows
  // them (into `owned`, which set_candidates_owned() then points at).
  const Bitmap& candidates() const { return *candidates_; }
  void set_candidates_owned() { candidates_ = &owned; }
  // Whether an operator narrowed the candidates (into `owned`).
  bool narrowed() const { return candidates_ == &owned; }
  const UserFeatures* user_features() const { return plan_.user ? &*plan_.user : nullptr; }
  // COUNT's answer.
  void set_count(uint64_t n) { result_.count = n; }
  // The candidates as a search restriction: nullptr while they are the
  // whole universe (no keys, no filter).
  const Bitmap* within() const { return plan_.filter || plan_.keys ? candidates_ : nullptr; }

  // Aborted, naming the stage, once the query's time budget has passed.
  Status check_deadline(std::string_view stage, uint64_t done, uint64_t of) const;
  // Adds a stage to EXPLAIN.
  void stage(std::string name, std::string detail, uint64_t in, uint64_t out,
             SteadyClock::time_point since);
  PlanStage& last_stage() { return result_.plan.back(); }

  bool after_cursor(const Ranked& r) const { return !plan_.after || before(*plan_.after, r); }
  VectorFeatures vector_features() const {
    return {.slot = plan_.vector_slot, .query = plan_.query_vector.data(), .hybrid = &hybrid};
  }
  // Scores ids[0..n) into scores_out (n <= kBatch).
  void score(const FeatureFetcher& fetcher, const uint32_t* ids, size_t n, double* scores_out);

  // Whether `ranked` (in order) yields a full page after diversification,
  // looking at its first `head` rows.
  bool enough_rows(size_t head) const;
  bool enough_rows() const { return enough_rows(ranked.size()); }
  // Whether DIVERSIFY BY admits entity `id` given the values `seen` so far
  // (counting it).
  bool diversify_accepts(uint32_t id, std::unordered_map<std::string, int64_t>& seen) const;

  // The operators' working state.
  Bitmap owned;                            // narrowed candidates
  std::vector<text::ScoredDoc> relevance;  // SEARCH matches, ascending by document
  std::vector<text::ScoredDoc> hybrid;     // fused ranks (NEAREST/SIMILAR with QUERY), by document
  std::vector<Ranked> ranked;              // the answer's rows, in order, once one answered

 private:
  std::string diversify_value(uint32_t id) const;
  Status diversify_and_page();

  const Plan& plan_;
  const QueryState& st_;
  SteadyClock::time_point start_;
  SteadyClock::time_point deadline_;
  Duration budget_;
  ranking::Evaluator evaluator_;
  std::vector<std::vector<double>> columns_;
  std::vector<const double*> column_ptrs_;
  const Bitmap* candidates_ = nullptr;
  QueryResult result_;
};

}  // namespace tidal::query
