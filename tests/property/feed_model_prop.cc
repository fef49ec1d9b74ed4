// FEED FOR USER against a brute-force model (docs/feeds.md): random users
// engage with random items (views, likes, skips), follow and unfollow
// creators, block, mute and lift them on items and creators, while the clock
// moves, checkpoints run and the database is closed cleanly or crashes
// (durability batch: every acknowledged write survives). The catalog is
// small enough that the feed's fresh source makes every item a candidate,
// so after every step, for a random user:
//   - the feed's rows are exactly the items the model keeps: every item but
//     those the user has signals for (unless include_seen), blocked or
//     muted, or whose creator the user blocked or muted;
//   - the features followed and seen equal the model's;
// and across every reopen and crash each user's for_you feed — rows and
// scores — is what it was before: the user state restored from the
// checkpoint and the WAL's tail equals the state of the uninterrupted run.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <set>

#include "db/database_impl.h"
#include "query/parser.h"
#include "support/rc_cases.h"
#include "support/test_support.h"
#include "tidal/clock.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using testing::roll;

constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int kUsers = 5;
constexpr int kItems = 10;
constexpr int kCreators = 3;
const char* const kSignals[] = {"view", "like", "skip"};

std::string user_key(int u) {
  return "u" + std::to_string(u);
}
std::string item_key(int i) {
  return "i" + std::to_string(i);
}
std::string creator_key(int c) {
  return "c" + std::to_string(c);
}
int creator_of(int item) {
  return item % kCreators;
}

struct ModelUser {
  std::set<int> seen;
  std::set<int> follows;                        // creators
  std::set<std::pair<int, int>> blocked_muted;  // (0 item / 1 creator, index), either relation
  std::map<std::tuple<int, int, int>, bool> relations;  // (relation, kind, target) -> active
};

class Case {
 public:
  Case() : clock_(from_micros(kStart)) {
    options_.clock = &clock_;
    options_.background_checkpoints = false;
    options_.sweep_interval = Duration(0);
    options_.durability = Durability::kBatch;
    open();
    for (int i = 0; i < kItems; ++i) {
      EntityWrite w{EntityKind::kItem, item_key(i), {{"creator", creator_key(creator_of(i))}}};
      RC_ASSERT(
          db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid).errors[0].ok());
    }
    run("CREATE PROFILE pf AS followed", {});
    run("CREATE PROFILE ps AS seen", {});
  }
  ~Case() {
    if (db_) (void)db_->close();
  }

  void step() {
    switch (roll(10)) {
      case 0:
      case 1:
      case 2:
      case 3: engage(); break;
      case 4: relate(); break;
      case 5: clock_.advance(Duration(roll<int64_t>(int64_t{3} * 24 * 3600 * 1'000'000))); break;
      case 6:
        if (!db_->checkpoint().ok()) RC_FAIL("checkpoint");
        break;
      case 7: restart(roll(2) == 0); break;
      default: break;
    }
    check(roll(kUsers));
  }

 private:
  void open() {
    const Schema schema = SchemaBuilder::with_default_signals().build().value();
    db_ = std::make_unique<Database::Impl>(options_, schema);
    Status st = db_->open(dir_.str(), schema);
    if (!st.ok()) RC_FAIL("open: " + st.to_string());
  }

  QueryResult run(const std::string& tql, const QueryOptions& o) {
    Result<query::Statement> s = query::parse(tql);
    if (!s.ok()) RC_FAIL(tql + ": " + s.status().to_string());
    Result<QueryResult> r = db_->query(*s, o);
    if (!r.ok()) RC_FAIL(tql + ": " + r.status().to_string());
    return *r;
  }

  void engage() {
    const int u = roll(kUsers);
    const int i = roll(kItems);
    const char* s = kSignals[roll<size_t>(std::size(kSignals))];
    SignalEvent e;
    e.item = item_key(i);
    e.user = user_key(u);
    e.signal = s;
    e.timestamp = clock_.now();
    e.idempotency_key = std::to_string(serial_++);
    RC_LOG() << user_key(u) << " " << s << " " << item_key(i) << "\n";
    BatchIngestResult r = db_->ingest(std::span<const SignalEvent>(&e, 1), BatchMode::kApplyValid);
    if (!r.errors[0].ok()) RC_FAIL("ingest: " + r.errors[0].to_string());
    users_[u].seen.insert(i);
  }

  void relate() {
    const int u = roll(kUsers);
    const auto relation = static_cast<Relation>(roll(3));
    const bool creator = relation == Relation::kFollow || roll(2) == 0;
    const int target = creator ? roll(kCreators) : roll(kItems);
    const bool active = roll(4) != 0;
    RelationshipWrite w{.relation = relation,
                        .user = user_key(u),
                        .target_kind = creator ? EntityKind::kCreator : EntityKind::kItem,
                        .target = creator ? creator_key(target) : item_key(target),
                        .active = active};
    RC_LOG() << user_key(u) << " " << relation_name(relation) << " " << w.target
             << (active ? "" : " (lifted)") << "\n";
    BatchIngestResult r =
        db_->relate(std::span<const RelationshipWrite>(&w, 1), BatchMode::kApplyValid);
    if (!r.errors[0].ok()) RC_FAIL("relate: " + r.errors[0].to_string());
    users_[u].relations[{static_cast<int>(relation), creator ? 1 : 0, target}] = active;
  }

  // What the model keeps in u's feed.
  std::set<std::string> expected(int u, bool include_seen) const {
    const ModelUser& m = users_[u];
    auto active = [&](Relation r, int kind, int target) {
      auto it = m.relations.find({static_cast<int>(r), kind, target});
      return it != m.relations.end() && it->second;
    };
    std::set<std::string> out;
    for (int i = 0; i < kItems; ++i) {
      if (!include_seen && m.seen.count(i)) continue;
      bool dropped = false;
      for (Relation r : {Relation::kBlock, Relation::kMute}) {
        dropped |= active(r, 0, i) || active(r, 1, creator_of(i));
      }
      if (!dropped) out.insert(item_key(i));
    }
    return out;
  }

  QueryResult feed(int u, const std::string& profile, bool include_seen) {
    QueryOptions o;
    o.include_seen = include_seen;
    return run("FEED FOR USER '" + user_key(u) + "' PROFILE " + profile + " LIMIT 100", o);
  }

  void check(int u) {
    const bool include_seen = roll(2) == 0;
    QueryResult got = feed(u, "pf", include_seen);
    std::set<std::string> keys;
    for (const QueryRow& row : got.rows) {
      keys.insert(row.key);
      const int item = std::stoi(row.key.substr(1));
      const bool follows = [&] {
        auto it =
            users_[u].relations.find({static_cast<int>(Relation::kFollow), 1, creator_of(item)});
        return it != users_[u].relations.end() && it->second;
      }();
      RC_ASSERT(row.score == (follows ? 1.0 : 0.0));
    }
    RC_ASSERT(keys == expected(u, include_seen));
    for (const QueryRow& row : feed(u, "ps", true).rows) {
      RC_ASSERT(row.score == (users_[u].seen.count(std::stoi(row.key.substr(1))) ? 1.0 : 0.0));
    }
  }

  // Every user's for_you feed, rows and scores.
  std::vector<std::vector<std::pair<std::string, double>>> feeds() {
    std::vector<std::vector<std::pair<std::string, double>>> out;
    for (int u = 0; u < kUsers; ++u) {
      std::vector<std::pair<std::string, double>> rows;
      for (const QueryRow& row : feed(u, "for_you", false).rows)
        rows.emplace_back(row.key, row.score);
      out.push_back(std::move(rows));
    }
    return out;
  }

  void restart(bool crash) {
    const auto before = feeds();
    RC_LOG() << (crash ? "crash" : "reopen") << "\n";
    if (crash) {
      db_->crash_for_testing();
    } else if (!db_->close().ok()) {
      RC_FAIL("close");
    }
    db_.reset();
    open();
    RC_ASSERT(feeds() == before);
  }

  testing::TempDir dir_;
  ManualClock clock_;
  DatabaseOptions options_;
  std::unique_ptr<Database::Impl> db_;
  ModelUser users_[kUsers];
  int64_t serial_ = 0;
};

TEST(FeedModel, FiltersAndFeaturesMatchTheModelAndSurviveRestartsAndCrashes) {
  testing::check_cases(40, "TIDAL_FEED_MODEL_CASES", [] {
    Case c;
    for (int i = 0; i < 40; ++i) c.step();
  });
}

}  // namespace
}  // namespace tidal
