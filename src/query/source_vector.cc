#include <unordered_map>

#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// SIMILAR / NEAREST: the vector index as the source. When the sort is
// similarity alone (no QUERY, nothing diversifies), the nearest are the
// answer: fetched k at a time, widened while the cursor skips them.
// Otherwise a pool of the nearest — at least 200, EF, or the page — is
// scored by the sort; with a QUERY text, the pool joins the best text
// matches, and `hybrid` is their reciprocal-rank fusion,
//   Σ over the two lists of 1 / (60 + rank)   (rank from 1; 0 when absent).
// Returns whether the vector index answered.
class VectorSource final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    const Plan& p = x.plan();
    SteadyClock::time_point t = SteadyClock::now();
    const vectors::VectorSlot& slot = *p.vector_slot;
    const Bitmap* within = x.within();
    const float* q = p.query_vector.data();
    const std::string what = "nearest by similarity(" + slot.def().name + ") [" +
                             std::string(vector_metric_name(slot.metric())) + "]";
    vectors::SearchStats stats;
    if (p.similarity_only && !p.diversify) {
      size_t k = x.wanted();
      while (true) {
        stats = {};
        std::vector<vectors::Neighbor> found =
            slot.nearest(q, k, within, std::max(p.ef, k), p.exclude, &stats);
        x.ranked.clear();
        for (const vectors::Neighbor& n : found) {
          Ranked r{n.similarity, n.id};
          if (x.after_cursor(r)) x.ranked.push_back(r);
        }
        if (x.ranked.size() >= x.wanted() || found.size() < k || k >= vectors::kMaxEf) break;
        k = std::min<size_t>(vectors::kMaxEf, k * 4);
        TIDAL_RETURN_IF_ERROR(x.check_deadline("source", 0, k));
      }
      if (x.ranked.size() > x.wanted()) x.ranked.resize(x.wanted());
      x.stage("source", what + ": " + stats.strategy + ", top " + with_commas(k), stats.candidates,
              x.ranked.size(), t);
      x.stage("score", "similarity = " + p.score_text, x.ranked.size(), x.ranked.size(), t);
      x.last_stage().micros = 0;
      TIDAL_RETURN_IF_ERROR(x.check_deadline("source", stats.examined, stats.candidates));
      return true;
    }
    const size_t pool = std::max({kVectorPool, p.ef, x.wanted()});
    std::vector<vectors::Neighbor> found = slot.nearest(q, pool, within, p.ef, p.exclude, &stats);
    Bitmap pooled;
    for (const vectors::Neighbor& n : found) pooled.add(n.id);
    std::string detail = what + ": " + stats.strategy + ", top " + with_commas(pool);
    if (p.text) {
      text::SearchStats ts;
      std::vector<text::ScoredDoc> matches = p.text->top(
          pool, within, [&](uint32_t doc, double) { return !p.exclude || *p.exclude != doc; }, &ts);
      std::unordered_map<uint32_t, double> fused;
      for (size_t r = 0; r < found.size(); ++r) fused[found[r].id] += 1.0 / (kRrfK + r + 1);
      for (size_t r = 0; r < matches.size(); ++r) {
        fused[matches[r].doc] += 1.0 / (kRrfK + r + 1);
        pooled.add(matches[r].doc);
      }
      x.hybrid.clear();
      for (const auto& [doc, score] : fused) x.hybrid.push_back({doc, score});
      auto by_doc = [](const text::ScoredDoc& a, const text::ScoredDoc& b) {
        return a.doc < b.doc;
      };
      std::sort(x.hybrid.begin(), x.hybrid.end(), by_doc);
      std::sort(matches.begin(), matches.end(), by_doc);
      x.relevance = std::move(matches);
      detail += "; " + p.text->describe() + ": " + ts.strategy + ", top " + with_commas(pool) +
                "; " + with_commas(pooled.cardinality()) +
                " candidates fused by reciprocal rank (k = " + std::to_string(kRrfK) + ")";
    }
    x.owned = std::move(pooled);
    x.set_candidates_owned();
    x.stage("source", detail, stats.candidates, x.owned.cardinality(), t);
    TIDAL_RETURN_IF_ERROR(x.check_deadline("source", stats.examined, stats.candidates));
    return false;
  }
};

}  // namespace

std::unique_ptr<const Operator> make_vector_source() {
  return std::make_unique<VectorSource>();
}

}  // namespace tidal::query
