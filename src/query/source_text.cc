#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// SEARCH: the text index as the source. When the sort is relevance
// alone (and nothing diversifies), its top-k search is the answer;
// otherwise every match is scored for the sort, with bm25 as a feature.
// Answers (returns true) when the text index alone gives the page.
class TextSource final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    const Plan& p = x.plan();
    SteadyClock::time_point t = SteadyClock::now();
    const Bitmap* within = x.within();
    text::SearchStats stats;
    const std::string what = p.text->describe();
    if (p.relevance_only && !p.diversify) {
      std::vector<text::ScoredDoc> top = p.text->top(
          x.wanted(), within,
          [&](uint32_t doc, double score) {
            return x.after_cursor(Ranked{score, doc});
          },
          &stats);
      x.ranked.clear();
      for (const text::ScoredDoc& d : top) x.ranked.push_back(Ranked{d.score, d.doc});
      x.stage("source", what + "; " + stats.strategy + ", top " + with_commas(x.wanted()),
              stats.postings, stats.matched, t);
      x.last_stage().detail += ", " + with_commas(stats.evaluated) + " documents scored";
      x.stage("score", "relevance = bm25", stats.evaluated, x.ranked.size(), t);
      x.last_stage().micros = 0;
      TIDAL_RETURN_IF_ERROR(x.check_deadline("source", stats.evaluated, stats.postings));
      return true;
    }
    x.relevance = p.text->all(within, &stats);
    Bitmap matched;
    for (const text::ScoredDoc& d : x.relevance) matched.add(d.doc);
    x.owned = std::move(matched);
    x.set_candidates_owned();
    x.stage("source", what + "; " + stats.strategy + ", every match", stats.postings,
            x.relevance.size(), t);
    TIDAL_RETURN_IF_ERROR(x.check_deadline("source", stats.evaluated, stats.postings));
    return false;
  }
};

}  // namespace

std::unique_ptr<const Operator> make_text_source() {
  return std::make_unique<TextSource>();
}

}  // namespace tidal::query
