#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// WHERE key = 'k' / key IN (...): the candidates are those entities, of the
// ones the query can rank.
class KeysSource final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    SteadyClock::time_point t = SteadyClock::now();
    const Plan& p = x.plan();
    const Bitmap& all = x.universe();
    const KeyMap& keys = *x.state().keys[static_cast<size_t>(p.target)];
    for (const std::string& k : *p.keys) {
      std::optional<uint32_t> id = keys.find(k);
      if (id && all.contains(*id)) x.owned.add(*id);
    }
    x.set_candidates_owned();
    x.stage("source",
            "explicit keys: " + with_commas(p.keys->size()) + " given, " +
                with_commas(x.owned.cardinality()) + " found",
            p.keys->size(), x.owned.cardinality(), t);
    TIDAL_RETURN_IF_ERROR(x.check_deadline("filter", 0, x.candidates().cardinality()));
    return false;
  }
};

// Every entity the query can rank (known items, or the live users or
// creators).
class AllSource final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    SteadyClock::time_point t = SteadyClock::now();
    const uint64_t n = x.universe().cardinality();
    x.stage("source", "all " + std::string(target_name(x.plan().target)), n, n, t);
    TIDAL_RETURN_IF_ERROR(x.check_deadline("filter", 0, n));
    return false;
  }
};

// COUNT: the number of candidates left after the source and the filter.
class CountOperator final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    SteadyClock::time_point t = SteadyClock::now();
    const uint64_t n = x.candidates().cardinality();
    x.set_count(n);
    x.stage("count", "the candidates: " + with_commas(n), n, 1, t);
    return true;
  }
};

}  // namespace

std::unique_ptr<const Operator> make_count() {
  return std::make_unique<CountOperator>();
}

std::unique_ptr<const Operator> make_keys_source() {
  return std::make_unique<KeysSource>();
}

std::unique_ptr<const Operator> make_all_source() {
  return std::make_unique<AllSource>();
}

}  // namespace tidal::query
