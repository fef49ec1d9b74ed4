#include "query/execution.h"

#include "core/duration.h"
#include "entities/attribute_catalog.h"
#include "entities/entity_codec.h"
#include "query/operator.h"

namespace tidal::query {

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

Execution::Execution(const Plan& plan, const QueryState& st, const QueryOptions& options)
    : plan_(plan),
      st_(st),
      start_(SteadyClock::now()),
      deadline_(start_ + options.time_budget),
      budget_(options.time_budget),
      evaluator_(plan.program),
      columns_(plan.program.features().size(), std::vector<double>(kBatch)),
      column_ptrs_(plan.program.features().size()) {
  for (size_t f = 0; f < columns_.size(); ++f) column_ptrs_[f] = columns_[f].data();
  candidates_ = &universe();
}

Result<QueryResult> Execution::run() {
  bool answered = false;
  for (const auto& op : plan_.operators) {
    TIDAL_ASSIGN_OR_RETURN(answered, op->run(*this));
    if (answered) break;
  }
  if (!answered) return Status::Internal(Subsystem::kQuery, "no operator answered the query");
  if (!plan_.count_only) TIDAL_RETURN_IF_ERROR(diversify_and_page());
  result_.total_micros = micros_since(start_);
  return std::move(result_);
}

Status Execution::check_deadline(std::string_view stage, uint64_t done, uint64_t of) const {
  if (SteadyClock::now() <= deadline_) return Status::Ok();
  return Status::Aborted(
      Subsystem::kQuery,
      "query stopped at its time budget of " +
          format_duration(std::chrono::duration_cast<Duration>(budget_)) + " in stage " +
          std::string(stage) + " after " + with_commas(done) + " of " + with_commas(of) +
          " candidates; narrow it with WHERE or raise QueryOptions::time_budget");
}

void Execution::stage(std::string name, std::string detail, uint64_t in, uint64_t out,
                      SteadyClock::time_point since) {
  result_.plan.push_back(PlanStage{.name = std::move(name),
                                   .detail = std::move(detail),
                                   .rows_in = in,
                                   .rows_out = out,
                                   .micros = micros_since(since)});
}

const Bitmap& Execution::universe() const {
  return plan_.target == EntityKind::kItem ? *st_.known_items
                                           : st_.entities->live_set(plan_.target);
}

void Execution::score(const FeatureFetcher& fetcher, const uint32_t* ids, size_t n,
                      double* scores_out) {
  for (size_t f = 0; f < columns_.size(); ++f) fetcher.fetch(f, ids, n, columns_[f].data());
  evaluator_.evaluate({.columns = column_ptrs_}, n, static_cast<double>(st_.now_us) * 1e-6,
                      scores_out);
}

bool Execution::enough_rows(size_t head) const {
  if (!plan_.diversify) return head >= wanted();
  size_t accepted = 0;
  std::unordered_map<std::string, int64_t> seen;
  for (size_t i = 0; i < head; ++i) {
    if (diversify_accepts(ranked[i].id, seen) && ++accepted >= wanted()) return true;
  }
  return false;
}

// The diversify value of an entity ("" when it has none: never capped).
std::string Execution::diversify_value(uint32_t id) const {
  entities::AttributeReader r(st_.entities->catalog(plan_.target),
                              st_.entities->attributes(plan_.target, id));
  uint16_t slot;
  entities::ValueView v;
  const uint16_t want = entities::AttributeCatalog::slot_of(*plan_.diversify_attr);
  while (r.next(&slot, &v)) {
    if (slot != want) continue;
    switch (v.type) {
      case AttributeType::kKeyword: return "k" + std::string(v.str);
      case AttributeType::kInt: return "i" + std::to_string(v.i);
      case AttributeType::kBool: return v.b ? "b1" : "b0";
      default: return {};
    }
  }
  return {};
}

bool Execution::diversify_accepts(uint32_t id,
                                  std::unordered_map<std::string, int64_t>& seen) const {
  if (!plan_.diversify) return true;
  std::string v = diversify_value(id);
  if (v.empty()) return true;
  return ++seen[v] <= plan_.diversify->max_per_value;
}

Status Execution::diversify_and_page() {
  SteadyClock::time_point t = SteadyClock::now();
  std::vector<Ranked> page;
  std::unordered_map<std::string, int64_t> seen;
  uint64_t examined = 0;
  for (const Ranked& r : ranked) {
    if (page.size() >= wanted()) break;
    ++examined;
    if (diversify_accepts(r.id, seen)) page.push_back(r);
  }
  if (plan_.diversify) {
    stage("diversify",
          "at most " + std::to_string(plan_.diversify->max_per_value) + " per " +
              plan_.diversify->attribute,
          examined, page.size(), t);
    t = SteadyClock::now();
  }
  const bool more = page.size() > plan_.limit;
  if (more) page.resize(plan_.limit);
  const KeyMap& keys = *st_.keys[static_cast<size_t>(plan_.target)];
  for (const Ranked& r : page) {
    const double score = plan_.ascending ? -r.key : r.key;
    result_.rows.push_back(QueryRow{.key = keys.key_of(r.id), .score = score});
  }
  if (more) {
    result_.cursor = encode_cursor(
        Cursor{.fingerprint = plan_.fingerprint, .last = page.back(), .seed = plan_.seed});
  }
  stage("page",
        "limit " + std::to_string(plan_.limit) +
            (more ? ", cursor to the next page" : ", last page") +
            (plan_.after ? ", after the cursor" : ""),
        page.size() + (more ? 1 : 0), result_.rows.size(), t);
  return Status::Ok();
}

}  // namespace tidal::query
