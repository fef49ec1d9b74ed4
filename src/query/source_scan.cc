#include <algorithm>
#include <thread>

#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// Scores every candidate and keeps the best (all of them when
// diversifying, which may skip many). A large scan is split by id range
// over DatabaseOptions::query_scan_threads threads.
class Scan final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    const Plan& p = x.plan();
    const QueryState& st = x.state();
    SteadyClock::time_point t = SteadyClock::now();
    const uint64_t total = x.candidates().cardinality();
    if (!p.keys && p.index != SortIndex::kNone) {  // after the index gave up
      x.stage("source", "all " + std::string(target_name(p.target)), x.universe().cardinality(),
              x.universe().cardinality(), t);
    }
    // Dense window columns pay off from a few thousand candidates on.
    const FeatureFetcher fetcher(p.program, st, p.target, total > st.column_threshold, &x.relevance,
                                 x.vector_features(), x.user_features());
    const size_t threads =
        total >= st.parallel_scan_threshold ? std::max<size_t>(1, st.scan_threads) : 1;
    std::vector<ScanPart> parts(threads);
    for (size_t k = 0; k < threads; ++k) {
      // Part k starts at the candidate of rank k·total/threads.
      uint32_t first = 0;
      if (k > 0) x.candidates().select(static_cast<uint32_t>(k * total / threads), &first);
      parts[k].lo = k == 0 ? 0 : first;
      if (k > 0) parts[k - 1].hi = first;
    }
    parts.back().hi = uint64_t{UINT32_MAX} + 1;
    std::vector<std::thread> workers;
    for (size_t k = 1; k < threads; ++k) {
      workers.emplace_back([&, k] { scan_part(x, fetcher, total, &parts[k]); });
    }
    scan_part(x, fetcher, total, &parts[0]);
    for (std::thread& w : workers) w.join();
    x.ranked.clear();
    uint64_t after = 0;
    for (ScanPart& part : parts) {
      TIDAL_RETURN_IF_ERROR(part.status);
      after += part.after;
      x.ranked.insert(x.ranked.end(), part.ranked.begin(), part.ranked.end());
    }
    const size_t keep = x.wanted();
    if (!p.diversify && x.ranked.size() > keep) {
      std::nth_element(x.ranked.begin(), x.ranked.begin() + static_cast<ptrdiff_t>(keep) - 1,
                       x.ranked.end(), before);
      x.ranked.resize(keep);
    }
    x.stage("score",
            p.sort_text + (p.ascending ? " ascending" : " descending") + " = " + p.score_text +
                " (" + std::to_string(p.program.features().size()) + " features, " +
                std::to_string(p.program.instruction_count()) + " instructions" +
                (threads > 1 ? ", " + std::to_string(threads) + " threads" : "") + ")",
            total, after, t);
    t = SteadyClock::now();
    const uint64_t in = x.ranked.size();
    if (p.diversify) {
      // Sort lazily: the best 8 pages first, everything if that is not enough.
      const size_t head = std::min(x.ranked.size(), x.wanted() * 8);
      std::partial_sort(x.ranked.begin(), x.ranked.begin() + static_cast<ptrdiff_t>(head),
                        x.ranked.end(), before);
      if (!x.enough_rows(head)) std::sort(x.ranked.begin(), x.ranked.end(), before);
    } else {
      std::sort(x.ranked.begin(), x.ranked.end(), before);
    }
    x.stage("select", "best " + with_commas(std::min<uint64_t>(in, keep)) + " by score", in,
            std::min<uint64_t>(in, keep), t);
    return true;
  }

 private:
  // One thread's share of a scan: the candidates with ids in [lo, hi).
  struct ScanPart {
    uint64_t lo = 0, hi = 0;
    std::vector<Ranked> ranked;  // a heap of the best (all, when diversifying)
    uint64_t scored = 0, after = 0;
    Status status;
  };

  // Scores the candidates of `part` with its own evaluator and buffers.
  static void scan_part(const Execution& x, const FeatureFetcher& fetcher, uint64_t total,
                        ScanPart* part) {
    const Plan& p = x.plan();
    const QueryState& st = x.state();
    const size_t keep = x.wanted();
    auto worse = [](const Ranked& a, const Ranked& b) { return before(a, b); };  // max-heap
    ranking::Evaluator evaluator(p.program);
    std::vector<std::vector<double>> columns(fetcher.size(), std::vector<double>(kBatch));
    std::vector<const double*> column_ptrs(fetcher.size());
    for (size_t f = 0; f < columns.size(); ++f) column_ptrs[f] = columns[f].data();
    std::vector<uint32_t> ids(kBatch);
    std::vector<double> scores(kBatch);
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&x.candidates().roaring, &it);
    if (part->lo > 0)
      roaring_move_uint32_iterator_equalorlarger(&it, static_cast<uint32_t>(part->lo));
    const double now_seconds = static_cast<double>(st.now_us) * 1e-6;
    while (uint32_t n = roaring_read_uint32_iterator(&it, ids.data(), kBatch)) {
      bool last = false;
      if (ids[n - 1] >= part->hi) {  // the batch runs past this part
        n = static_cast<uint32_t>(std::lower_bound(ids.begin(), ids.begin() + n, part->hi) -
                                  ids.begin());
        last = true;
      }
      for (size_t f = 0; f < columns.size(); ++f)
        fetcher.fetch(f, ids.data(), n, columns[f].data());
      evaluator.evaluate({.columns = column_ptrs}, n, now_seconds, scores.data());
      part->scored += n;
      for (uint32_t i = 0; i < n; ++i) {
        Ranked r{order_key(scores[i], p.ascending), ids[i]};
        if (!x.after_cursor(r)) continue;
        if (p.positive_only && !(scores[i] > 0)) continue;
        ++part->after;
        std::vector<Ranked>& heap = part->ranked;
        if (p.diversify) {
          heap.push_back(r);
        } else if (heap.size() < keep) {
          heap.push_back(r);
          std::push_heap(heap.begin(), heap.end(), worse);
        } else if (before(r, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), worse);
          heap.back() = r;
          std::push_heap(heap.begin(), heap.end(), worse);
        }
      }
      part->status = x.check_deadline("score", part->scored, total);
      if (!part->status.ok() || last) return;
    }
  }
};

}  // namespace

std::unique_ptr<const Operator> make_scan() {
  return std::make_unique<Scan>();
}

}  // namespace tidal::query
