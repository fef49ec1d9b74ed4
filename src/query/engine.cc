#include "query/engine.h"

#include <string>

#include "core/duration.h"
#include "query/execution.h"
#include "query/planner.h"
#include "query/printer.h"
#include "query/sort_modes.h"

namespace tidal::query {

Status check_query_options(const QueryOptions& options) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  if (options.time_budget < milliseconds(1) || options.time_budget > minutes(10)) {
    return Status::Invalid(Subsystem::kQuery, "time_budget", format_duration(options.time_budget),
                           "must be between 1ms and 10m");
  }
  return Status::Ok();
}

Result<QueryResult> run_read(const Statement& s, const QueryState& state,
                             const QueryOptions& options) {
  TIDAL_RETURN_IF_ERROR(check_query_options(options));
  SteadyClock::time_point t = SteadyClock::now();
  TIDAL_ASSIGN_OR_RETURN(Plan plan, make_plan(s, state, options));
  const double plan_micros = micros_since(t);
  Execution exec(plan, state, options);
  TIDAL_ASSIGN_OR_RETURN(QueryResult result, exec.run());
  result.plan.insert(result.plan.begin(),
                     PlanStage{.name = "plan",
                               .detail = plan.count_only ? "parse and resolve the filter"
                                                         : "parse, resolve and compile the sort",
                               .micros = plan_micros});
  result.total_micros += plan_micros;
  result.explain = s.explain;
  // An explore without a seed argument drew one for this query (kept in
  // the cursor); a given seed shows in the score's formula.
  if (plan.score_text.find("gaussian(" + std::to_string(plan.seed) + ")") != std::string::npos) {
    result.plan.front().detail += "; explore seed " + std::to_string(plan.seed);
  }
  return result;
}

Result<signals::LedgerSet*> scope_ledgers(const QueryState& st, std::string_view scope,
                                          std::string_view field) {
  if (scope.empty()) return st.ledger;
  if (scope == ranking::kEveryone) return st.everyone != nullptr ? st.everyone : st.ledger;
  const cohorts::Cohort* c = st.cohorts != nullptr ? st.cohorts->find(scope) : nullptr;
  if (c != nullptr) return c->ledgers.get();
  if (st.cohorts != nullptr) return st.cohorts->unknown(scope, field);
  return Status::NotFound(Subsystem::kQuery, "no cohort " + std::string(scope), std::string(field));
}

Status check_profile_definition(const Statement& s, const QueryState& st) {
  const Schema& schema = *st.schema;
  const std::string& name = s.name;
  auto taken = [&](std::string_view what) {
    return Status::Invalid(Subsystem::kQuery, "profile", name,
                           "is the name of " + std::string(what) + "; choose another name");
  };
  if (is_sort_mode(name)) return taken("a sort mode");
  if (schema.find_signal(name) != nullptr) return taken("a signal type");
  if (schema.find_attribute(EntityKind::kItem, name) != nullptr) return taken("an item attribute");
  if (name == "age" || name == "created_at" || name == "creator" || name == "key" ||
      name == "bm25" || name == "co_engagement" || name == "creator_affinity" ||
      name == "followed" || name == "seen" || name == "served" || name == "preference") {
    return taken("a built-in");
  }
  // (A mode that needs FOR COHORT is checked when a query uses the profile.)
  // A profile may not refer to itself, directly or through others: expand
  // with this definition in place of any stored one.
  const ProfileLookup profiles = [&](std::string_view n) -> const Expr* {
    if (n == name) return &*s.definition;
    const StoredProfile* sp = st.profiles ? st.profiles->find(n) : nullptr;
    return sp ? &sp->expr : nullptr;
  };
  Expr self{.kind = ExprKind::kIdentifier, .pos = s.definition->pos, .text = name};
  TIDAL_ASSIGN_OR_RETURN(
      Expr expanded,
      expand_names(self, schema, profiles, {.seed = 0, .for_cohort = true, .for_user = true}));
  Result<ranking::Program> program = ranking::compile(expanded, {.schema = &schema});
  if (!program.ok()) {
    return Status::Invalid(Subsystem::kQuery, "profile", name,
                           "does not compile: " + program.status().message());
  }
  // The cohorts it names must exist (and cannot be dropped while it does).
  for (const ranking::FeatureRef& f : program->features()) {
    TIDAL_RETURN_IF_ERROR(scope_ledgers(st, f.scope, "profile").status());
  }
  return Status::Ok();
}

}  // namespace tidal::query
