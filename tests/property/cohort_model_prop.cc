// Cohorts against a brute-force model: random users whose attributes change
// over time (upserts that drop attributes, patches, deletes), cohorts
// defined before and after the events and dropped, events of members,
// non-members, anonymous and unknown users, clock moves across bucket and
// window edges, sweeps, checkpoints, clean reopens and crashes — at any
// point, including while a backfill runs. After every step:
//   - every cohort's members equal its predicate evaluated over the model's
//     users (both per user, GET /v1/users/{key}/cohorts, and the count);
//   - every cohort's TRENDING for each signal and window, and every item's
//     decayed score (RANK ... FOR COHORT c BY hot(s)), equal a brute-force
//     computation over the model's events with the attribution rule: an event
//     counts toward the cohorts its user was in when it was applied, and
//     toward a cohort defined later when the user was a member at the
//     definition (the backfill).
// Items are never deleted here (docs/cohorts.md covers what a deletion does).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "core/duration.h"
#include "db/database_impl.h"
#include "query/parser.h"
#include "support/rc_cases.h"
#include "support/signal_oracle.h"
#include "support/test_support.h"
#include "tidal/clock.h"

namespace tidal {
namespace {

using testing::roll;
using testing::SignalOracle;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int kUsers = 7;
constexpr int kItems = 6;
const char* const kCountries[] = {"US", "DE", "BR"};
const char* const kInterests[] = {"jazz", "rock", "pets"};
const char* const kSignals[] = {"like", "share"};

const Schema& schema() {
  static const Schema s = [] {
    SchemaBuilder b = SchemaBuilder::with_default_signals();
    b.add_attribute(EntityKind::kUser,
                    {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
    b.add_attribute(EntityKind::kUser,
                    {.name = "age", .type = AttributeType::kInt, .filterable = true});
    b.add_attribute(EntityKind::kUser,
                    {.name = "interests", .type = AttributeType::kTags, .filterable = true});
    return b.build().value();
  }();
  return s;
}

struct ModelUser {
  std::optional<std::string> country;
  std::optional<int64_t> age;
  std::optional<std::set<std::string>> interests;
};

// The predicates cohorts are drawn from, each with the model's evaluation
// (a missing attribute matches no comparison; NOT is every live user but
// those the child matches).
struct Predicate {
  const char* tql;
  std::function<bool(const ModelUser&)> holds;
};
const std::vector<Predicate>& predicates() {
  static const std::vector<Predicate> p = {
      {"country = 'US'", [](const ModelUser& u) { return u.country == "US"; }},
      {"age BETWEEN 18 AND 30",
       [](const ModelUser& u) { return u.age && *u.age >= 18 && *u.age <= 30; }},
      {"'jazz' IN interests",
       [](const ModelUser& u) { return u.interests && u.interests->count("jazz") > 0; }},
      {"country = 'DE' OR age > 40",
       [](const ModelUser& u) { return u.country == "DE" || (u.age && *u.age > 40); }},
      {"NOT country = 'US'", [](const ModelUser& u) { return u.country != "US"; }},
      {"EXISTS interests AND age < 25",
       [](const ModelUser& u) { return u.interests.has_value() && u.age && *u.age < 25; }},
  };
  return p;
}

std::string user_key(int u) {
  return "u" + std::to_string(u);
}
std::string item_key(int i) {
  return "v" + std::to_string(i);
}

struct ModelCohort {
  size_t predicate;
  // Per signal: the events counted toward the cohort.
  std::vector<SignalOracle> ledgers;
};

class Case {
 public:
  Case() : clock_(from_micros(kStart)) {
    options_.clock = &clock_;
    options_.background_checkpoints = false;
    options_.sweep_interval = Duration(0);
    options_.trending_capacity = *rc::gen::element<size_t>(3, 1000);
    options_.durability = Durability::kBatch;  // survives a process crash, as the model needs
    open();
    for (int i = 0; i < kItems; ++i) {  // registered in index order
      EntityWrite w{.kind = EntityKind::kItem, .key = item_key(i)};
      RC_ASSERT(
          db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid).errors[0].ok());
    }
  }
  ~Case() {
    if (db_) (void)db_->close();
  }

  void step() {
    switch (roll(20)) {
      case 0:
      case 1:
      case 2: upsert_user(); break;
      case 3: patch_user(); break;
      case 4: delete_user(); break;
      case 5:
      case 6:
      case 7:
      case 8:
      case 9: events(); break;
      case 10:
      case 11: define(); break;
      case 12: drop(); break;
      case 13:
      case 14: advance(); break;
      case 15: checkpoint(); break;
      case 16: reopen(); break;
      case 17: crash(); break;
      case 18: sweep(); break;
      default: events(); break;
    }
    check();
  }

 private:
  int64_t now() const { return to_micros(clock_.now()); }

  void open() {
    db_ = std::make_unique<Database::Impl>(options_, schema());
    Status st = db_->open(dir_.str(), schema());
    if (!st.ok()) RC_FAIL("open: " + st.to_string());
  }

  ModelUser gen_user() {
    ModelUser u;
    if (roll(5) != 0) u.country = kCountries[roll(3)];
    if (roll(5) != 0) u.age = 13 + roll<int64_t>(50);
    if (roll(3) != 0) {
      std::set<std::string> tags;
      for (const char* t : kInterests) {
        if (roll(2) == 0) tags.insert(t);
      }
      u.interests = tags;
    }
    return u;
  }

  std::vector<std::pair<std::string, AttributeValue>> attributes(const ModelUser& u) {
    std::vector<std::pair<std::string, AttributeValue>> out;
    if (u.country) out.push_back({"country", *u.country});
    if (u.age) out.push_back({"age", *u.age});
    if (u.interests) {
      out.push_back(
          {"interests", std::vector<std::string>(u.interests->begin(), u.interests->end())});
    }
    return out;
  }

  void write_user(int u, const ModelUser& mu) {
    EntityWrite w{.kind = EntityKind::kUser, .key = user_key(u)};
    for (auto& a : attributes(mu)) w.attributes.push_back({a.first, a.second});
    auto r = db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid);
    if (!r.errors[0].ok()) RC_FAIL("upsert: " + r.errors[0].to_string());
    users_[u] = mu;
  }

  void upsert_user() {
    const int u = roll(kUsers);
    ModelUser mu = gen_user();
    RC_LOG() << "upsert " << user_key(u) << "\n";
    write_user(u, mu);
  }

  void patch_user() {
    if (users_.empty()) return;
    auto it = users_.begin();
    std::advance(it, roll(static_cast<int>(users_.size())));
    ModelUser next = it->second;
    EntityWrite w{.kind = EntityKind::kUser, .key = user_key(it->first)};
    if (roll(2) == 0) {
      next.country = kCountries[roll(3)];
      w.attributes.push_back({"country", *next.country});
    } else {
      next.age = 13 + roll<int64_t>(50);
      w.attributes.push_back({"age", *next.age});
    }
    RC_LOG() << "patch " << w.key << "\n";
    Result<uint64_t> r = db_->patch(w);
    if (!r.ok()) RC_FAIL("patch: " + r.status().to_string());
    it->second = next;
  }

  void delete_user() {
    if (users_.empty()) return;
    auto it = users_.begin();
    std::advance(it, roll(static_cast<int>(users_.size())));
    RC_LOG() << "delete " << user_key(it->first) << "\n";
    Result<uint64_t> r = db_->remove(EntityKind::kUser, user_key(it->first));
    if (!r.ok()) RC_FAIL("delete: " + r.status().to_string());
    users_.erase(it);
  }

  // The cohorts user `u` is in now (none when not live).
  std::set<std::string> cohorts_of(int u) const {
    std::set<std::string> out;
    auto it = users_.find(u);
    if (it == users_.end()) return out;
    for (const auto& [name, c] : cohorts_) {
      if (predicates()[c.predicate].holds(it->second)) out.insert(name);
    }
    return out;
  }

  void events() {
    const int n = 1 + roll(5);
    for (int e = 0; e < n; ++e) {
      SignalEvent ev;
      ev.item = item_key(roll(kItems));
      const int who = roll(kUsers + 2);  // kUsers: anonymous; kUsers + 1: never written
      ev.user = who < kUsers ? user_key(who) : who == kUsers ? "" : "stranger";
      const uint16_t s = static_cast<uint16_t>(roll(2));
      ev.signal = kSignals[s];
      // Distinct times (a repeated event would be a duplicate), on and off
      // bucket edges, up to three hours back.
      const int64_t t = now() - roll<int64_t>(3 * kHour) / kMinute * kMinute - ++serial_;
      ev.timestamp = from_micros(t);
      auto r = db_->ingest(std::span<const SignalEvent>(&ev, 1), BatchMode::kApplyValid);
      if (!r.errors[0].ok()) RC_FAIL("ingest: " + r.errors[0].to_string());
      const uint32_t item = static_cast<uint32_t>(std::stoi(ev.item.substr(1)));
      const std::set<std::string> in = who < kUsers ? cohorts_of(who) : std::set<std::string>{};
      for (const std::string& name : in) cohorts_.at(name).ledgers[s].add(item, t, 1.0);
      events_.push_back({who, item, s, t});
    }
  }

  void define() {
    std::vector<std::string> free;
    for (size_t p = 0; p < predicates().size(); ++p) {
      const std::string name = "c" + std::to_string(p);
      if (!cohorts_.count(name)) free.push_back(name);
    }
    if (free.empty()) return;
    const std::string name = free[roll(static_cast<int>(free.size()))];
    const size_t p = static_cast<size_t>(std::stoi(name.substr(1)));
    RC_LOG() << "define " << name << " WHERE " << predicates()[p].tql << "\n";
    run("CREATE COHORT " + name + " WHERE " + predicates()[p].tql);
    ModelCohort c{.predicate = p, .ledgers = {}};
    for (const char* s : kSignals) c.ledgers.emplace_back(*schema().find_signal(s));
    // The backfill: the earlier events of the users who are members now.
    for (const Event& e : events_) {
      if (e.user >= kUsers) continue;
      auto u = users_.find(e.user);
      if (u == users_.end() || !predicates()[p].holds(u->second)) continue;
      c.ledgers[e.signal].add(e.item, e.time, 1.0);
    }
    cohorts_.emplace(name, std::move(c));
  }

  void drop() {
    if (cohorts_.empty()) return;
    auto it = cohorts_.begin();
    std::advance(it, roll(static_cast<int>(cohorts_.size())));
    RC_LOG() << "drop " << it->first << "\n";
    run("DROP COHORT " + it->first);
    cohorts_.erase(it);
  }

  void advance() {
    static const int64_t kSteps[] = {0,     kMinute,   5 * kMinute, 59 * kMinute,
                                     kHour, 3 * kHour, 26 * kHour};
    const int64_t by = kSteps[roll(static_cast<int>(std::size(kSteps)))] + roll<int64_t>(kMinute);
    RC_LOG() << "advance " << by << "us\n";
    clock_.advance(Duration(by));
  }

  void checkpoint() {
    RC_LOG() << "checkpoint\n";
    Status st = db_->checkpoint();
    if (!st.ok()) RC_FAIL("checkpoint: " + st.to_string());
  }

  void reopen() {
    RC_LOG() << "reopen\n";
    Status st = db_->close();
    if (!st.ok()) RC_FAIL("close: " + st.to_string());
    db_.reset();
    open();
  }

  void crash() {
    if (roll(2) == 0) checkpoint();
    RC_LOG() << "crash\n";
    db_->crash_for_testing();
    db_.reset();
    open();
  }

  void sweep() {
    RC_LOG() << "sweep\n";
    db_->sweep();
  }

  QueryResult run(const std::string& tql) {
    Result<query::Statement> s = query::parse(tql);
    if (!s.ok()) RC_FAIL(tql + ": " + s.status().to_string());
    Result<QueryResult> r = db_->query(*s, {});
    if (!r.ok()) RC_FAIL(tql + ": " + r.status().to_string());
    return *r;
  }

  void check() {
    Status st = db_->wait_for_backfills(std::chrono::seconds(60), {});
    if (!st.ok()) RC_FAIL("backfill: " + st.to_string());
    // Membership.
    for (int u = 0; u < kUsers; ++u) {
      Result<std::vector<std::string>> got = db_->user_cohorts(user_key(u));
      if (!users_.count(u)) {
        RC_ASSERT(got.status().code() == StatusCode::kNotFound);
        continue;
      }
      RC_ASSERT(got.ok());
      const std::set<std::string> want = cohorts_of(u);
      RC_ASSERT(std::set<std::string>(got->begin(), got->end()) == want);
    }
    const std::vector<CohortInfo> infos = db_->cohorts();
    RC_ASSERT(infos.size() == cohorts_.size());
    for (const CohortInfo& info : infos) {
      auto it = cohorts_.find(info.name);
      RC_ASSERT(it != cohorts_.end());
      uint64_t members = 0;
      for (const auto& [u, mu] : users_) members += predicates()[it->second.predicate].holds(mu);
      RC_ASSERT(info.members == members);
      RC_ASSERT(!info.backfilling);
    }
    // Ledgers.
    const int64_t at = now();
    for (const auto& [name, c] : cohorts_) {
      for (size_t s = 0; s < std::size(kSignals); ++s) {
        const SignalOracle& oracle = c.ledgers[s];
        const SignalTypeDefinition& def = *schema().find_signal(kSignals[s]);
        for (size_t w = 0; w < def.windows.size(); ++w) {
          const std::string tql = "TRENDING items FOR COHORT " + name + " BY " + kSignals[s] +
                                  " WINDOW " + format_duration(def.windows[w]) + " LIMIT 10";
          std::string got, want;
          for (const QueryRow& row : run(tql).rows) {
            got += " " + row.key + ":" + std::to_string(static_cast<int64_t>(row.score));
          }
          for (const testing::OracleRanked& r : oracle.top_count(w, 10, at)) {
            want += " " + item_key(static_cast<int>(r.item)) + ":" +
                    std::to_string(static_cast<int64_t>(r.score));
          }
          if (got != want) RC_FAIL(tql + "\n  got: " + got + "\n  want:" + want);
        }
        const std::string tql = "RANK items FOR COHORT " + name + " BY hot(" + kSignals[s] +
                                ") LIMIT " + std::to_string(kItems);
        for (const QueryRow& row : run(tql).rows) {
          const double want = oracle.hot(static_cast<uint32_t>(std::stoi(row.key.substr(1))), at);
          const bool close = testing::oracle_close(row.score, want) ||
                             std::fabs(row.score - want) <= signals::SignalLedger::kNegligibleScore;
          if (!close) {
            RC_FAIL(tql + ": " + row.key + " scores " + std::to_string(row.score) + ", want " +
                    std::to_string(want));
          }
        }
      }
    }
  }

  struct Event {
    int user;
    uint32_t item;
    uint16_t signal;
    int64_t time;
  };

  testing::TempDir dir_;
  ManualClock clock_;
  DatabaseOptions options_;
  std::unique_ptr<Database::Impl> db_;
  std::map<int, ModelUser> users_;  // live users
  std::map<std::string, ModelCohort> cohorts_;
  std::vector<Event> events_;
  int64_t serial_ = 0;
};

TEST(CohortModel, MembershipAndCohortLedgersMatchTheModelAcrossRestartsAndCrashes) {
  int steps = 40;
  if (const char* env = std::getenv("TIDAL_COHORT_MODEL_STEPS")) {
    steps = std::max(1, std::atoi(env));
  }
  testing::check_cases(60, "TIDAL_COHORT_MODEL_CASES", [steps] {
    Case c;
    for (int i = 0; i < steps; ++i) c.step();
  });
}

}  // namespace
}  // namespace tidal
