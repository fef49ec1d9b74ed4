#include <algorithm>

#include "core/duration.h"
#include "query/execution.h"
#include "query/operator.h"

namespace tidal::query {
namespace {

// How many candidates each of a feed's sources gives at most
// (docs/feeds.md, "Where a feed's candidates come from").
constexpr size_t kCoPool = 300;          // co-engagement with the user's recent items
constexpr size_t kPreferencePool = 200;  // nearest to each preference vector
constexpr size_t kFollowingPool = 200;   // newest items of followed creators
constexpr size_t kCohortPool = 100;      // hottest for each of the user's cohorts
constexpr size_t kMaxCohorts = 8;        // cohorts read (the first by name)
constexpr size_t kTrendingPool = 200;    // hottest for everyone
constexpr size_t kFreshPool = 50;        // the items first seen last

// The best `k` items of `ledger` by the feed's trending order (Plan::
// trending_window), with a positive score, into `out`; its description.
std::string add_trending(const Plan& p, const QueryState& st, signals::LedgerSet& ledgers, size_t k,
                         Bitmap* out) {
  signals::SignalLedger& ledger = ledgers.ledger(*p.trending_signal);
  std::vector<signals::ScoredItem> top = p.trending_window
                                             ? ledger.top_count(*p.trending_window, k, st.now_us)
                                             : ledger.top_hot(k, st.now_us);
  for (const signals::ScoredItem& e : top) {
    if (e.score > 0) out->add(e.item);
  }
  const SignalTypeDefinition& def = st.schema->signals()[*p.trending_signal];
  return p.trending_window ? "top " + with_commas(k) + " by count(" + def.name + ", " +
                                 format_duration(def.windows[*p.trending_window]) + ")"
                           : "hottest " + with_commas(k) + " by " + def.name;
}

// The `n` largest members of `b`.
void add_largest(const Bitmap& b, size_t n, Bitmap* out) {
  const uint64_t size = b.cardinality();
  for (uint64_t r = size > n ? size - n : 0; r < size; ++r) {
    uint32_t v;
    if (b.select(static_cast<uint32_t>(r), &v)) out->add(v);
  }
}

// FEED FOR USER: the union of the candidate sources, each one EXPLAIN
// stage with how many candidates it gave and how many were new. Sources that
// need the user's state are skipped for a user without any (cold start).
class FeedSource final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    const Plan& p = x.plan();
    const QueryState& st = x.state();
    const UserFeatures& u = *p.user;
    const Bitmap& universe = x.universe();
    const bool known = u.user != UserFeatures::kUnknown;
    Bitmap all;
    auto report = [&](const std::string& what, const Bitmap& found, SteadyClock::time_point t) {
      Bitmap usable = found & universe;
      const uint64_t before = all.cardinality();
      all |= usable;
      x.stage("source", what + " (" + with_commas(all.cardinality() - before) + " new)",
              found.cardinality(), usable.cardinality(), t);
    };

    if (known) {
      // Co-engagement: the items linked to the user's recent items.
      SteadyClock::time_point t = SteadyClock::now();
      std::vector<users::ItemScore> co = u.co;
      const size_t keep = std::min(kCoPool, co.size());
      std::partial_sort(co.begin(), co.begin() + static_cast<ptrdiff_t>(keep), co.end(),
                        [](const users::ItemScore& a, const users::ItemScore& b) {
                          return a.score > b.score || (a.score == b.score && a.item < b.item);
                        });
      Bitmap found;
      for (size_t i = 0; i < keep; ++i) found.add(co[i].item);
      report("co-engagement: the best " + with_commas(keep) + " of " + with_commas(u.co.size()) +
                 " items linked to the user's " + std::to_string(st.users->recent(u.user).size()) +
                 " recent items",
             found, t);

      // Preference vectors: the nearest items to each.
      for (const auto& [attribute, vec] : u.preferences) {
        t = SteadyClock::now();
        const vectors::VectorSlot* slot = nullptr;
        for (const auto& s : st.vectors->slots(EntityKind::kItem)) {
          if (s->def().id == attribute) slot = s.get();
        }
        if (slot == nullptr) continue;
        vectors::SearchStats stats;
        Bitmap near;
        for (const vectors::Neighbor& n :
             slot->nearest(vec.data(), kPreferencePool, &universe,
                           std::max(vectors::kDefaultEf, kPreferencePool), std::nullopt, &stats)) {
          near.add(n.id);
        }
        report("preference(" + slot->def().name + "): nearest " + with_commas(kPreferencePool) +
                   " to the user's preference vector, " + stats.strategy,
               near, t);
      }

      // Following: the newest items of the creators the user follows.
      t = SteadyClock::now();
      const Bitmap followed =
          st.relationships->related(u.user, Relation::kFollow, EntityKind::kCreator);
      Bitmap theirs;
      for (uint32_t c : followed) {
        if (const Bitmap* items = st.entities->items_of(c)) theirs |= *items;
      }
      Bitmap newest;
      add_largest(theirs, kFollowingPool, &newest);
      report("following: the newest " + with_commas(newest.cardinality()) + " items of " +
                 with_commas(followed.cardinality()) + " followed creators",
             newest, t);

      // The user's cohorts' trending.
      if (st.cohorts != nullptr && p.trending_signal) {
        t = SteadyClock::now();
        std::vector<std::string> names = st.cohorts->cohorts_of(u.user);
        if (names.size() > kMaxCohorts) names.resize(kMaxCohorts);
        Bitmap hot;
        std::string what;
        for (const std::string& name : names) {
          const cohorts::Cohort* c = st.cohorts->find(name);
          if (c != nullptr) what = add_trending(p, st, *c->ledgers, kCohortPool, &hot);
        }
        if (!names.empty()) {
          report("cohort trending: " + what + " in each of " + std::to_string(names.size()) +
                     " cohorts of the user",
                 hot, t);
        }
      }
    }

    // Everyone's trending.
    if (p.trending_signal) {
      SteadyClock::time_point t = SteadyClock::now();
      Bitmap hot;
      const std::string what = add_trending(p, st, *st.everyone, kTrendingPool, &hot);
      report("trending: " + what, hot, t);
    }

    // Fresh: the items first seen last (explored by the profile's terms).
    SteadyClock::time_point t = SteadyClock::now();
    Bitmap fresh;
    add_largest(universe, kFreshPool, &fresh);
    report("fresh: the " + with_commas(kFreshPool) + " items first seen last", fresh, t);

    x.owned = std::move(all);
    x.set_candidates_owned();
    if (!known) {
      x.stage("source",
              "user '" + u.key + "' has no state yet: cold start (trending and fresh items)", 0,
              x.owned.cardinality(), SteadyClock::now());
    }
    TIDAL_RETURN_IF_ERROR(x.check_deadline("source", 0, x.owned.cardinality()));
    return false;
  }
};

// Drops what the user has seen (unless the query keeps it), blocked or
// muted: the items themselves, and items of blocked or muted creators.
class UserFilter final : public Operator {
 public:
  Result<bool> run(Execution& x) const override {
    SteadyClock::time_point t = SteadyClock::now();
    const Plan& p = x.plan();
    const QueryState& st = x.state();
    const UserFeatures& u = *p.user;
    const uint64_t in = x.owned.cardinality();
    if (u.user == UserFeatures::kUnknown) {
      x.stage("filter", "user '" + u.key + "': nothing seen, blocked or muted", in, in, t);
      return false;
    }
    uint64_t seen = 0;
    if (!p.include_seen && u.seen != nullptr) {
      const uint64_t before = x.owned.cardinality();
      x.owned -= *u.seen;
      seen = before - x.owned.cardinality();
    }
    // Served recently (record_served): left out for the suppression time.
    uint64_t served = 0;
    if (st.served_suppress_us > 0) {
      for (const users::ServedItem& s : u.served) {
        if (s.last_us > st.now_us - st.served_suppress_us && x.owned.contains(s.item)) {
          x.owned.remove(s.item);
          ++served;
        }
      }
    }
    const uint64_t before = x.owned.cardinality();
    const entities::Relationships& rel = *st.relationships;
    x.owned -= rel.related(u.user, Relation::kBlock, EntityKind::kItem);
    x.owned -= rel.related(u.user, Relation::kMute, EntityKind::kItem);
    Bitmap creators = rel.related(u.user, Relation::kBlock, EntityKind::kCreator);
    creators |= rel.related(u.user, Relation::kMute, EntityKind::kCreator);
    if (!creators.isEmpty()) {
      Bitmap drop;
      for (uint32_t item : x.owned) {
        const uint32_t c = st.entities->creator_of(item);
        if (c != entities::kNoCreator && creators.contains(c)) drop.add(item);
      }
      x.owned -= drop;
    }
    x.stage("filter",
            "user '" + u.key + "': " +
                (p.include_seen ? std::string("seen items kept")
                                : with_commas(seen) + " seen items dropped") +
                ", " + with_commas(served) + " served in the last " +
                format_duration(std::chrono::microseconds(st.served_suppress_us)) + " dropped" +
                ", " + with_commas(before - x.owned.cardinality()) +
                " blocked or muted (items or their creators) dropped",
            in, x.owned.cardinality(), t);
    return false;
  }
};

}  // namespace

std::unique_ptr<const Operator> make_feed_source() {
  return std::make_unique<FeedSource>();
}

std::unique_ptr<const Operator> make_user_filter() {
  return std::make_unique<UserFilter>();
}

}  // namespace tidal::query
