#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// WHERE: the attribute filter as a bitmap from the entity store's indexes
// (query/filter.h) and the members of any IN COHORT, intersected with the
// candidates so far.
class FilterOperator final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    SteadyClock::time_point t = SteadyClock::now();
    const Plan& p = x.plan();
    const uint64_t in = x.candidates().cardinality();
    TIDAL_ASSIGN_OR_RETURN(Bitmap f, x.state().entities->evaluate(p.target, *p.filter));
    for (const Bitmap* members : p.members) f &= *members;
    if (x.narrowed()) {
      x.owned &= f;
    } else {
      x.owned = std::move(f);
    }
    x.set_candidates_owned();
    x.stage("filter", "attribute indexes: " + p.filter_text, in, x.owned.cardinality(), t);
    TIDAL_RETURN_IF_ERROR(x.check_deadline("filter", 0, x.candidates().cardinality()));
    return false;
  }
};

}  // namespace

std::unique_ptr<const Operator> make_filter_operator() {
  return std::make_unique<FilterOperator>();
}

}  // namespace tidal::query
