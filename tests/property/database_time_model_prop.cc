// The whole database across time against a brute-force model.
//
// Each case runs one database through months of simulated time: batches of
// signal events (recent, late, far in the past when the database is
// historical, and some it must refuse: too old for a live database, after a
// pinned present, values too large to sum), a clock that jumps by minutes to
// weeks (so the decayed scores' landmark rebases several times), sweeps,
// checkpoints, clean reopens, reopens after a simulated kill -9 (no
// checkpoint, unflushed storage writes dropped), switches between live and
// historical (pinned or not, valid or not), and AS OF reads. After every step
// every read is compared with the model (tests/support/signal_oracle.h for
// the signals): the present, each item's decayed scores and window counts,
// sums, previous counts and velocity, hot / top / rising rankings on both
// sides of the trending capacity, a TQL ranking AS OF a later time, and each
// user's creator affinities.
//
// This is the test that would have caught the landmark-rebase restart bug
// (scores inflated by e^200 after a reopen) and a historical database read at
// the wall clock.
//
// 80 cases in CI (about 20 s); TIDAL_TIME_MODEL_CASES=N runs N, and
// TIDAL_TIME_MODEL_STEPS=N makes each case N steps long (default 40): a case
// spans two to six simulated months, rebasing `pulse`'s landmark (every 24
// days of event time) a few times. RC_PARAMS="noshrink=1" skips shrinking
// (which replays many databases); the log of the failing case lists every
// step.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/time_text.h"
#include "db/database_impl.h"
#include "query/parser.h"
#include "support/rc_cases.h"
#include "support/signal_oracle.h"
#include "support/test_support.h"

namespace tidal {
namespace {

using testing::OracleModel;
using testing::OracleRanked;
using testing::roll;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kStart = 1'700'000'000'000'000;  // 2023-11-14
constexpr size_t kCapacity = 3;
constexpr int kItems = 6;
constexpr int kUsers = 3;
constexpr int kCreators = 2;
constexpr int64_t kPastSkew = 7 * kDay;  // DatabaseOptions defaults
constexpr int64_t kFutureSkew = 5 * kMinute;

// The default signal types plus `pulse`: a 2h half-life (its landmark
// rebases every 24 days of event time), fine windows, velocity and sums.
const Schema& schema() {
  static const Schema s = [] {
    SchemaBuilder b = SchemaBuilder::with_default_signals();
    b.add_signal({.name = "pulse",
                  .half_life = std::chrono::hours(2),
                  .windows = {std::chrono::minutes(5), std::chrono::minutes(90)},
                  .velocity = true,
                  .value_kind = ValueKind::kSum,
                  .affinity_delta = 0.25});
    return b.build().value();
  }();
  return s;
}

std::string item_key(int i) {
  return "item_" + std::to_string(i);
}
std::string user_key(int u) {
  return "user_" + std::to_string(u);
}
std::string creator_key(int c) {
  return "creator_" + std::to_string(c);
}

// What the database must answer, kept independently of it.
struct Model {
  OracleModel signals{schema()};
  PresentMode mode = PresentMode::kLive;
  std::optional<int64_t> pinned;
  std::optional<int64_t> since;
  int64_t newest = INT64_MIN;
  int64_t swept_at = INT64_MIN;          // the database's, in memory
  int64_t swept_at_durable = INT64_MIN;  // as of the last checkpoint
  // (user, creator) -> (signal id, event time) of every event with an affinity.
  std::map<std::pair<int, int>, std::vector<std::pair<uint16_t, int64_t>>> affinity_events;

  int64_t floor() const { return std::max(newest, swept_at); }
  int64_t now(int64_t clock) const {
    if (mode == PresentMode::kLive) return clock;
    if (pinned) return *pinned;
    int64_t at = std::max(newest, since.value_or(INT64_MIN));
    return at == INT64_MIN ? clock : at;
  }
};

// Decayed scores: relatively close, or both negligible (decays of hundreds
// of half-lives reach the denormals, where both lose their digits).
bool close_score(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) + 1e-250;
}

class Case {
 public:
  Case() : clock_(from_micros(kStart)) {
    options_.clock = &clock_;
    options_.background_checkpoints = false;
    options_.sweep_interval = Duration(0);
    options_.trending_capacity = kCapacity;
    options_.durability = Durability::kBatch;  // survives a process crash, as the model needs
    open();
    // The catalog: items with creators (so that events with a user move
    // affinities), registered in index order like the model's.
    for (int i = 0; i < kItems; ++i) {
      EntityWrite w{.kind = EntityKind::kItem, .key = item_key(i)};
      w.attributes.push_back({"creator", creator_key(i % kCreators)});
      RC_ASSERT(
          db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid).errors[0].ok());
      model_.signals.index_of[item_key(i)] = static_cast<uint32_t>(i);
      model_.signals.keys.push_back(item_key(i));
    }
  }

  ~Case() {
    if (db_) (void)db_->close();
  }

  void step() {
    switch (roll(20)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
      case 6: events(); break;
      case 7:
      case 8:
      case 9: advance(); break;
      case 10: checkpoint(); break;
      case 11: reopen(); break;
      case 12: crash(); break;
      case 13: sweep(); break;
      case 14:
      case 15: switch_present(); break;
      case 16: as_of(); break;
      default: events(); break;
    }
    check();
  }

 private:
  int64_t clock() const { return to_micros(clock_.now()); }

  void open() {
    db_ = std::make_unique<Database::Impl>(options_, schema());
    Status st = db_->open(dir_.str(), schema());
    if (!st.ok()) RC_FAIL("open: " + st.to_string());
  }

  void events() {
    const int64_t now = model_.now(clock());
    const int n = 1 + roll(6);
    std::vector<SignalEvent> batch;
    std::vector<bool> valid;
    std::vector<uint16_t> ids;
    for (int e = 0; e < n; ++e) {
      const auto& signals = schema().signals();
      const SignalTypeDefinition& def = signals[roll(signals.size())];
      int64_t t;
      switch (roll(10)) {
        case 0:  // far back: only a historical database takes it
          t = now - kPastSkew - kMinute - roll<int64_t>(60) * kDay;
          break;
        case 1:  // ahead of the present, up to and past the future skew
          t = now + roll<int64_t>(2 * kFutureSkew);
          break;
        case 2:  // late: up to the past skew back
          t = now - roll<int64_t>(kPastSkew);
          break;
        default:  // recent, often on bucket edges
          t = now - roll<int64_t>(3 * kHour) / kMinute * kMinute - roll<int64_t>(2) * (kMinute - 1);
      }
      t = std::max<int64_t>(t, kStart - 400 * kDay);
      SignalEvent ev;
      ev.item = item_key(roll(kItems));
      int user = roll(kUsers + 1);
      if (user < kUsers) ev.user = user_key(user);
      ev.signal = def.name;
      ev.timestamp = from_micros(t);
      ev.value = 1;
      bool ok = true;
      if (def.value_kind == ValueKind::kSum) {
        ev.value = roll(4000) / 8.0;  // exact sums in any order
        if (roll(12) == 0) {
          ev.value = 1.5e308;  // would overflow a sum: refused
          ok = false;
        }
      }
      if (model_.mode == PresentMode::kLive) {
        ok = ok && t >= now - kPastSkew && t <= now + kFutureSkew;
      } else if (model_.pinned) {
        ok = ok && t <= *model_.pinned + kFutureSkew;
      }
      batch.push_back(ev);
      valid.push_back(ok);
      ids.push_back(def.id);
    }
    BatchIngestResult r = db_->ingest(batch, BatchMode::kApplyValid);
    for (size_t i = 0; i < batch.size(); ++i) {
      RC_LOG() << "event " << batch[i].item << " " << batch[i].signal << " at "
               << format_timestamp(to_micros(batch[i].timestamp)) << " value " << batch[i].value
               << (r.errors[i].ok() ? (r.results[i].duplicate ? " duplicate" : "") : " refused")
               << "\n";
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (valid[i] != r.errors[i].ok()) {
        RC_FAIL("event " + std::to_string(i) + " at " +
                format_timestamp(to_micros(batch[i].timestamp)) + " value " +
                std::to_string(batch[i].value) + ": expected " +
                (valid[i] ? "accepted" : "refused") + ", got " + r.errors[i].to_string());
      }
      if (!valid[i]) continue;
      if (r.results[i].duplicate) continue;  // the same event twice: applied once
      const int64_t t = to_micros(batch[i].timestamp);
      model_.signals.add(batch[i].item, ids[i], t, batch[i].value);
      model_.newest = std::max(model_.newest, t);
      const SignalTypeDefinition& def = schema().signals()[ids[i]];
      if (!batch[i].user.empty() && def.affinity_delta != 0) {
        int user = std::stoi(batch[i].user.substr(5));
        int item = std::stoi(batch[i].item.substr(5));
        model_.affinity_events[{user, item % kCreators}].push_back({ids[i], t});
      }
    }
  }

  void advance() {
    static constexpr int64_t kSteps[] = {kMinute, 5 * kMinute, 37 * kMinute, 3 * kHour,
                                         kDay,    6 * kDay,    20 * kDay,    45 * kDay};
    clock_.advance(Duration(kSteps[roll<size_t>(std::size(kSteps))] + roll<int64_t>(kMinute)));
    RC_LOG() << "clock " << format_timestamp(clock()) << "\n";
  }

  void checkpoint() {
    RC_LOG() << "checkpoint\n";
    Status st = db_->checkpoint();
    if (!st.ok()) RC_FAIL("checkpoint: " + st.to_string());
    model_.swept_at_durable = model_.swept_at;
  }

  void reopen() {
    RC_LOG() << "reopen\n";
    Status st = db_->close();
    if (!st.ok()) RC_FAIL("close: " + st.to_string());
    model_.swept_at_durable = model_.swept_at;
    db_.reset();
    open();
  }

  void crash() {
    if (roll(2) == 0) checkpoint();
    RC_LOG() << "crash\n";
    db_->crash_for_testing();
    db_.reset();
    // Sweeps are not logged: what the last checkpoint stored comes back.
    model_.swept_at = model_.swept_at_durable;
    open();
  }

  void sweep() {
    RC_LOG() << "sweep\n";
    db_->sweep();
    int64_t at = clock();
    if (model_.mode == PresentMode::kHistorical) {
      at = model_.floor() == INT64_MIN ? INT64_MIN : std::min(at, model_.floor());
      if (model_.pinned && at != INT64_MIN) at = std::min(at, *model_.pinned);
    }
    if (at != INT64_MIN) model_.swept_at = std::max(model_.swept_at, at);
  }

  void switch_present() {
    const int64_t floor = model_.floor();
    Result<uint64_t> r = Status::Ok();
    switch (roll(4)) {
      case 0: {  // live
        r = db_->set_present(PresentMode::kLive, std::nullopt);
        RC_LOG() << "live " << (r.ok() ? "ok" : r.status().to_string()) << "\n";
        const bool ok = model_.newest == INT64_MIN || model_.newest <= clock() + kFutureSkew;
        RC_ASSERT(r.ok() == ok);
        if (ok) {
          model_.mode = PresentMode::kLive;
          model_.pinned.reset();
          model_.since.reset();
        }
        break;
      }
      case 1: {  // historical at the newest event time
        r = db_->set_present(PresentMode::kHistorical, std::nullopt);
        RC_LOG() << "historical\n";
        RC_ASSERT(r.ok());
        model_.mode = PresentMode::kHistorical;
        model_.pinned.reset();
        model_.since = floor == INT64_MIN ? std::nullopt : std::optional<int64_t>(floor);
        break;
      }
      default: {  // pinned: at or after the floor, or (refused) before it
        const int64_t base = floor == INT64_MIN ? clock() : floor;
        const bool before = floor != INT64_MIN && roll(4) == 0;
        const int64_t at = before ? base - 1 - roll<int64_t>(kDay) : base + roll<int64_t>(9 * kDay);
        r = db_->set_present(PresentMode::kHistorical, from_micros(at));
        RC_LOG() << "pin " << format_timestamp(at) << (r.ok() ? " ok" : " refused") << "\n";
        if (r.ok() == before)
          RC_FAIL("pin at " + format_timestamp(at) + ": " + r.status().to_string());
        if (!before) {
          model_.mode = PresentMode::kHistorical;
          model_.pinned = at;
          model_.since.reset();
        }
      }
    }
  }

  // A TQL ranking AS OF a time at or after the floor equals the model's at
  // that time; before the floor it is refused.
  void as_of() {
    const int64_t floor = model_.floor();
    const int64_t base = floor == INT64_MIN ? model_.now(clock()) : floor;
    const bool before = floor != INT64_MIN && roll(4) == 0;
    const int64_t at = before ? base - 1 - roll<int64_t>(kHour) : base + roll<int64_t>(3 * kDay);
    const std::string tql =
        "RANK items BY hot(pulse) LIMIT 10 AS OF '" + format_timestamp(at) + "'";
    RC_LOG() << tql << "\n";
    Result<query::Statement> stmt = query::parse(tql);
    RC_ASSERT(stmt.ok());
    Result<QueryResult> r = db_->query(*stmt, QueryOptions{});
    if (before) {
      RC_ASSERT(!r.ok());
      RC_ASSERT(r.status().field() == "as_of");
      return;
    }
    if (!r.ok()) RC_FAIL(tql + ": " + r.status().to_string());
    const auto& oracle = model_.signals.oracles[signal_id("pulse")];
    std::vector<OracleRanked> got;
    for (const QueryRow& row : r->rows)
      got.push_back({model_.signals.index_of.at(row.key), row.score});
    std::vector<OracleRanked> want = oracle.top_hot(10, at);
    check_hot(got, want, at, oracle, tql);
  }

  static uint16_t signal_id(const std::string& name) { return schema().find_signal(name)->id; }

  static void check_hot(std::vector<OracleRanked> got, std::vector<OracleRanked> want, int64_t at,
                        const testing::SignalOracle& oracle, const std::string& what) {
    // Scores that decayed into the denormals are left out on both sides.
    auto negligible = [](const OracleRanked& r) { return r.score < 1e-250; };
    std::erase_if(got, negligible);
    std::erase_if(want, negligible);
    std::string diff = testing::compare_hot_ranking(
        got, want, [&](uint32_t item) { return oracle.hot(item, at); });
    if (!diff.empty()) {
      std::ostringstream exact;
      exact.precision(17);
      for (const OracleRanked& r : got) exact << " got " << r.item << ":" << r.score;
      for (const OracleRanked& r : want) exact << " want " << r.item << ":" << r.score;
      RC_FAIL(what + ": " + diff + "\n" + exact.str());
    }
  }

  void check() {
    const int64_t now = model_.now(clock());
    Present p = db_->present();
    if (p.mode != model_.mode || to_micros(p.now) != now ||
        p.pinned.has_value() != model_.pinned.has_value()) {
      RC_FAIL("present: " + std::string(p.mode == PresentMode::kLive ? "live " : "historical ") +
              format_timestamp(to_micros(p.now)) + ", model " + format_timestamp(now));
    }
    const auto& signals = schema().signals();
    for (int i = 0; i < kItems; ++i) {
      Result<ItemSignals> got = db_->item_signals(item_key(i));
      RC_ASSERT(got.ok());
      for (const SignalSnapshot& snap : got->signals) {
        const uint16_t s = signal_id(snap.signal);
        const auto& oracle = model_.signals.oracles[s];
        const auto item = static_cast<uint32_t>(i);
        if (!close_score(snap.decayed, oracle.hot(item, now))) {
          RC_FAIL(item_key(i) + " " + snap.signal + " decayed " + std::to_string(snap.decayed) +
                  ", model " + std::to_string(oracle.hot(item, now)));
        }
        for (size_t w = 0; w < snap.windows.size(); ++w) {
          const WindowSignal& ws = snap.windows[w];
          if (ws.count != oracle.count(item, w, now) ||
              ws.previous_count != oracle.prev_count(item, w, now)) {
            RC_FAIL(item_key(i) + " " + snap.signal + " window " + std::to_string(w) + " at " +
                    format_timestamp(now) + ": count " + std::to_string(ws.count) + " / " +
                    std::to_string(oracle.count(item, w, now)) + ", previous " +
                    std::to_string(ws.previous_count) + " / " +
                    std::to_string(oracle.prev_count(item, w, now)));
          }
          RC_ASSERT(ws.sum == oracle.sum(item, w, now));
          RC_ASSERT(ws.velocity == oracle.velocity(item, w, now));
        }
      }
    }
    // Rankings, on both sides of the trending capacity.
    const SignalTypeDefinition& def = signals[roll(signals.size())];
    const auto& oracle = model_.signals.oracles[def.id];
    const size_t k = 1 + roll<size_t>(kCapacity + 3);
    Result<std::vector<TrendingEntry>> hot =
        db_->trending({.kind = TrendingKind::kHot, .signal = def.name, .limit = k});
    RC_ASSERT(hot.ok());
    check_hot(model_.signals.ranked(*hot), oracle.top_hot(k, now), now, oracle, "hot " + def.name);
    for (size_t w = 0; w < def.windows.size(); ++w) {
      Result<std::vector<TrendingEntry>> top = db_->trending(
          {.kind = TrendingKind::kTop, .signal = def.name, .window = def.windows[w], .limit = k});
      RC_ASSERT(top.ok());
      std::string got = model_.signals.show(model_.signals.ranked(*top));
      std::string want = model_.signals.show(oracle.top_count(w, k, now));
      if (got != want) RC_FAIL("top " + def.name + ":\n  got:" + got + "\n  want:" + want);
      if (!def.velocity) continue;
      Result<std::vector<TrendingEntry>> rising = db_->trending({.kind = TrendingKind::kRising,
                                                                 .signal = def.name,
                                                                 .window = def.windows[w],
                                                                 .limit = k});
      RC_ASSERT(rising.ok());
      got = model_.signals.show(model_.signals.ranked(*rising));
      want = model_.signals.show(oracle.top_rising(w, k, now));
      if (got != want) RC_FAIL("rising " + def.name + ":\n  got:" + got + "\n  want:" + want);
    }
    check_affinities(now);
  }

  // Σ delta · 2^(−(now − t) / half_life) over the user's events with the
  // creator, at a present no earlier than any of them. Weights are kept as
  // floats, and positive and negative deltas cancel: close relative to the
  // sum of the terms' sizes.
  void check_affinities(int64_t now) {
    for (int u = 0; u < kUsers; ++u) {
      std::map<std::string, double> want;
      std::map<std::string, double> scale;
      bool comparable = true;
      for (const auto& [key, evs] : model_.affinity_events) {
        if (key.first != u) continue;
        double total = 0;
        for (const auto& [s, t] : evs) {
          if (t > now) comparable = false;
          const SignalTypeDefinition& def = schema().signals()[s];
          const double term =
              def.affinity_delta *
              std::exp2(-static_cast<double>(now - t) / static_cast<double>(def.half_life.count()));
          total += term;
          scale[creator_key(key.second)] += std::fabs(term);
        }
        want[creator_key(key.second)] = total;
      }
      if (!comparable) continue;
      Result<std::vector<AffinityEntry>> got = db_->top_affinities(user_key(u), 10);
      RC_ASSERT(got.ok());
      RC_ASSERT(got->size() == want.size());
      for (const AffinityEntry& a : *got) {
        const double w = want.at(a.creator);
        if (std::fabs(a.weight - w) > 1e-5 * scale.at(a.creator) + 1e-30) {
          RC_FAIL(user_key(u) + " -> " + a.creator + ": " + std::to_string(a.weight) + ", model " +
                  std::to_string(w));
        }
      }
    }
  }

  testing::TempDir dir_;
  ManualClock clock_;
  DatabaseOptions options_;
  std::unique_ptr<Database::Impl> db_;
  Model model_;
};

TEST(DatabaseTimeModel, EveryReadMatchesTheModelAcrossMonthsRestartsAndCrashes) {
  int steps = 40;
  if (const char* env = std::getenv("TIDAL_TIME_MODEL_STEPS")) steps = std::max(1, std::atoi(env));
  testing::check_cases(80, "TIDAL_TIME_MODEL_CASES", [steps] {
    Case c;
    for (int i = 0; i < steps; ++i) c.step();
  });
}

}  // namespace
}  // namespace tidal
