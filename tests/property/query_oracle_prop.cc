// The query engine (src/query/engine.cc, through tidal::Database::query)
// against a brute-force oracle on random databases:
//
// - every sort mode of query::sort_modes() (bare and with explicit
//   arguments) and the TRENDING statement give the rows — keys and scores —
//   of the mode's documented formula (docs/sort-modes.md), written out by
//   hand below and computed from what the public API reports about each item:
//   Database::item_signals (decayed scores, window counts, sums, previous
//   counts, velocities) and Database::get (attributes, created_at);
// - following cursors page by page gives the rows of one query with a large
//   LIMIT (no writes between pages);
// - a random profile expression as `RANK items BY <expr>` gives the scores
//   of the reference interpreter (ranking/reference_interpreter.h) on those
//   features, and the same expression stored with CREATE PROFILE ranks alike;
// - DIVERSIFY BY attr MAX n gives the oracle's greedy walk down the whole
//   order.
//
// The oracle's rules (docs/tql.md, "How a query runs"): without WHERE the
// candidates are every live item — upserted or known from signals, and not
// deleted since (an item deleted and then signalled again is live, known
// only from signals); with WHERE only registered items matching the filter,
// except that `key = 'k'` / `key IN (...)` conjuncts name candidates directly
// (signal-only items included). The order is the score descending
// (ascending with ASC and for `oldest`), NaN last in both directions, ties by
// first-seen order. Scores are compared within 1e-9 relative; two rows may
// swap only when their oracle scores differ but agree within that tolerance
// (the engine's bytecode may round differently from the hand-written
// formula); rows with equal scores must come in first-seen order.
//
// The dense (first-seen) index of an item, which explore's gaussian draw and
// every tie-break use, is the order in which the test first writes the
// item's key — by an upsert or as the item of a signal event, events of a
// batch in order. Deletes keep an item's index; a later upsert or signal
// reuses it.
//
// A random database: 5..60 upsertable items (category, duration, rating,
// creator and created_at each sometimes missing; created_at sometimes in the
// future), up to 5 items known only from signals, random signal events of
// the six default types up to 8 days in the past and 4 minutes ahead,
// deletes, clock moves, and in about half the cases a close and reopen (a
// checkpoint restore) part way. Six users g0..g5 in group a or b (some
// change group part way) send most events, the rest come from users never
// written; the cohort ga (group = 'a') is defined before the first event or
// at a random step (then backfilled), and the oracle reads its figures from
// item_signals(key, "ga") for cohort_trending and for random features with
// `cohort = ga` or `cohort = all`. The schema's float attribute is `rating`:
// `score` is a reserved attribute name.
//
// Some cases open the database with a tiny trending_capacity (8 or 16), so
// the index-backed sorts (hot, top, most_*, rising, TRENDING, and any
// expression that is exactly one decay/count/velocity feature) often fall
// back to scanning; selective filters (BETWEEN with a narrow range AND a
// category, explicit keys) do the same.
//
// Case counts are set per property (kModeCases ... below, 25 each) to keep
// the file near 10 s; TIDAL_ORACLE_CASES=N overrides them, RC_PARAMS's
// max_success can only lower them, and RC_PARAMS="seed=N" picks the seed. Each property prints the
// distribution of the paths the engine took (index answered, index fell back
// to a scan, scan).
//
// Some cases set query_column_threshold to 0, so every scan reads windowed
// features from the ledger's dense window columns instead of the rings, and
// query_parallel_scan to 0, so every scan is split over 1-3 threads.
//
// Two engine bugs the oracle found (since fixed) are pinned by tests at the
// end.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "query/expr.h"
#include "query/printer.h"
#include "query/sort_modes.h"
#include "ranking/profile.h"
#include "ranking/reference_interpreter.h"
#include "support/profile_exprs.h"
#include "support/rc_cases.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using namespace tidal::profile_test;  // NOLINT(google-build-using-namespace)

constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

const char* const kCategories[] = {"music", "news", "sport", "film"};
const int64_t kDurations[] = {30, 60, 90, 120, 300, 600};

// The default signal types plus filterable item attributes.
const Schema& oracle_schema() {
  static const Schema schema = [] {
    SchemaBuilder b = SchemaBuilder::with_default_signals();
    b.add_attribute(EntityKind::kItem,
                    {.name = "category", .type = AttributeType::kKeyword, .filterable = true});
    b.add_attribute(
        EntityKind::kItem,
        {.name = "duration", .type = AttributeType::kInt, .filterable = true, .sortable = true});
    b.add_attribute(
        EntityKind::kItem,
        {.name = "rating", .type = AttributeType::kFloat, .filterable = true, .sortable = true});
    b.add_attribute(EntityKind::kUser,
                    {.name = "group", .type = AttributeType::kKeyword, .filterable = true});
    Result<Schema> built = b.build();
    if (!built.ok()) throw std::runtime_error("oracle_schema: " + built.status().to_string());
    return *built;
  }();
  return schema;
}

template <typename Testable>
void check_cases(int cases, Testable&& testable) {
  testing::check_cases(cases, "TIDAL_ORACLE_CASES", std::forward<Testable>(testable));
}

using testing::roll;

std::string num_text(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// ---------------------------------------------------------------------------
// What the public API says about one live item: the oracle's input

// The cohort every world defines: the users of group a (kCohortWhere).
constexpr const char* kCohort = "ga";
constexpr const char* kCohortWhere = "group = 'a'";

struct Candidate {
  std::string key;
  uint32_t index = 0;  // first-seen order
  ItemSignals signals;
  ItemSignals cohort_signals;    // item_signals(key, kCohort): its members' events
  std::optional<Entity> entity;  // none for an item known only from signals

  // `cohort`: read kCohort's figures instead of everyone's.
  const SignalSnapshot& snapshot(std::string_view signal, bool cohort = false) const {
    for (const SignalSnapshot& s : (cohort ? cohort_signals : signals).signals) {
      if (s.signal == signal) return s;
    }
    RC_FAIL("item_signals(" + key + ") has no signal " + std::string(signal));
  }
  const WindowSignal& window(std::string_view signal, Duration w, bool cohort = false) const {
    for (const WindowSignal& ws : snapshot(signal, cohort).windows) {
      if (ws.window == w) return ws;
    }
    RC_FAIL("item_signals(" + key + ") has no window " + std::to_string(w.count()) + "us of " +
            std::string(signal));
  }
  double decay(std::string_view s, bool cohort = false) const {
    return snapshot(s, cohort).decayed;
  }
  double count(std::string_view s, Duration w, bool cohort = false) const {
    return static_cast<double>(window(s, w, cohort).count);
  }
  double sum(std::string_view s, Duration w, bool cohort = false) const {
    return window(s, w, cohort).sum;
  }
  double prev(std::string_view s, Duration w, bool cohort = false) const {
    return static_cast<double>(window(s, w, cohort).previous_count);
  }
  double velocity(std::string_view s, Duration w, bool cohort = false) const {
    return window(s, w, cohort).velocity;
  }

  const AttributeValue* attr(std::string_view name) const {
    return entity ? entity->find(name) : nullptr;
  }
  // A numeric attribute as the profile language reads it: 0 when missing.
  double number(std::string_view name) const {
    const AttributeValue* v = attr(name);
    if (v == nullptr) return 0;
    if (const auto* i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(v)) return *d;
    if (const auto* b = std::get_if<bool>(v)) return *b ? 1 : 0;
    if (const auto* t = std::get_if<Timestamp>(v)) return static_cast<double>(to_micros(*t)) * 1e-6;
    return 0;
  }
  double created_at() const { return number("created_at"); }
  std::optional<std::string> keyword(std::string_view name) const {
    const AttributeValue* v = attr(name);
    if (v == nullptr) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(v)) return *s;
    return std::nullopt;
  }
  std::optional<int64_t> integer(std::string_view name) const {
    const AttributeValue* v = attr(name);
    if (v == nullptr) return std::nullopt;
    if (const auto* i = std::get_if<int64_t>(v)) return *i;
    return std::nullopt;
  }
  std::optional<double> real(std::string_view name) const {
    const AttributeValue* v = attr(name);
    if (v == nullptr) return std::nullopt;
    if (const auto* d = std::get_if<double>(v)) return *d;
    if (const auto* i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
    return std::nullopt;
  }
};

// ---------------------------------------------------------------------------
// A random database and the model of what was written to it

struct WorldShape {
  uint64_t seed = 0;
  int items = 0;        // keys i0.. that may be upserted
  int signal_only = 0;  // keys s0.. that only ever get signals
  int steps = 0;
  size_t trending_capacity = 1000;
  uint64_t column_threshold = 4096;  // 0: every scan reads the ledger's window columns
  uint64_t parallel_scan = 32768;    // 0: every scan is split over scan_threads threads
  size_t scan_threads = 2;
  int reopen_after_step = -1;  // close and reopen the database after this step
};

WorldShape gen_shape() {
  WorldShape s;
  s.seed = *rc::gen::arbitrary<uint64_t>();
  s.items = *rc::gen::inRange(5, 61);
  s.signal_only = *rc::gen::inRange(0, 6);
  s.steps = *rc::gen::inRange(1, 7);
  s.trending_capacity = *rc::gen::element<size_t>(8, 16, 1000, 1000);
  s.column_threshold = *rc::gen::element<uint64_t>(0, 4096);
  s.parallel_scan = *rc::gen::element<uint64_t>(0, 32768);
  s.scan_threads = *rc::gen::element<size_t>(1, 2, 3);
  s.reopen_after_step = *rc::gen::inRange(-s.steps, s.steps);
  return s;
}

class World {
 public:
  explicit World(const WorldShape& shape) : shape_(shape), rng_(shape.seed) {
    open();
    fill();
  }

  Database& db() { return *db_; }
  double now_seconds() const { return static_cast<double>(to_micros(db_->now())) * 1e-6; }
  const std::vector<std::string>& keys() const { return first_seen_; }
  std::string describe() const {
    return "world seed " + std::to_string(shape_.seed) + ", " + std::to_string(shape_.items) +
           " upsertable keys, " + std::to_string(shape_.signal_only) +
           " signal-only keys, trending_capacity " + std::to_string(shape_.trending_capacity) +
           ", reopened after step " + std::to_string(shape_.reopen_after_step) + ", " +
           std::to_string(live_.size()) + " live items";
  }

  // Every live item with its features as of now, in first-seen order. Also
  // checks the API agrees with the model on which items are registered.
  std::vector<Candidate> candidates() const {
    std::vector<Candidate> out;
    for (uint32_t i = 0; i < first_seen_.size(); ++i) {
      const std::string& key = first_seen_[i];
      if (!live_.contains(key)) continue;
      Candidate c;
      c.key = key;
      c.index = i;
      Result<ItemSignals> s = db_->item_signals(key);
      if (!s.ok()) RC_FAIL("item_signals(" + key + "): " + s.status().to_string());
      c.signals = std::move(*s);
      Result<ItemSignals> cs = db_->item_signals(key, kCohort);
      if (!cs.ok()) RC_FAIL("item_signals(" + key + ", ga): " + cs.status().to_string());
      c.cohort_signals = std::move(*cs);
      Result<Entity> e = db_->get(EntityKind::kItem, key);
      const bool registered = registered_.contains(key);
      if (e.ok() != registered || c.signals.registered != registered) {
        RC_FAIL("item " + key + ": model says registered = " + std::to_string(registered) +
                ", get() " + std::to_string(e.ok()) + ", item_signals().registered " +
                std::to_string(c.signals.registered));
      }
      if (e.ok()) c.entity = std::move(*e);
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  uint64_t below(uint64_t n) { return rng_() % n; }

  // Opens the database, or closes (which checkpoints) and reopens it.
  void open() {
    db_.reset();
    DatabaseOptions o;
    o.clock = &clock_;
    o.durability = Durability::kNone;
    o.background_checkpoints = false;
    o.trending_capacity = shape_.trending_capacity;
    o.query_column_threshold = shape_.column_threshold;
    o.query_parallel_scan = shape_.parallel_scan;
    o.query_scan_threads = shape_.scan_threads;
    o.max_past_skew = std::chrono::hours(24 * 10);
    auto db = Database::open(dir_.str(), oracle_schema(), o);
    if (!db.ok()) RC_FAIL("open: " + db.status().to_string());
    db_ = std::move(*db);
  }

  void seen(const std::string& key) {
    if (index_of_.emplace(key, first_seen_.size()).second) first_seen_.push_back(key);
  }

  void upsert(const std::string& key) {
    EntityWrite w{EntityKind::kItem, key, {}};
    if (below(8) != 0) w.attributes.push_back({"category", kCategories[below(4)]});
    if (below(6) != 0) {
      const int64_t d = below(3) != 0 ? kDurations[below(6)] : static_cast<int64_t>(below(700));
      w.attributes.push_back({"duration", d});
    }
    if (below(3) != 0) w.attributes.push_back({"rating", static_cast<double>(below(13)) / 4});
    if (below(2) != 0) w.attributes.push_back({"creator", "c" + std::to_string(below(5))});
    if (below(3) != 0) {
      // Up to 10 days old, sometimes up to an hour ahead (age 0).
      const int64_t now = to_micros(clock_.now());
      const int64_t at = below(8) == 0 ? now + static_cast<int64_t>(below(kHour))
                                       : now - static_cast<int64_t>(below(10 * kDay));
      w.attributes.push_back({"created_at", from_micros(at)});
    }
    Result<uint64_t> r = db_->upsert(w);
    if (!r.ok()) RC_FAIL("upsert " + key + ": " + r.status().to_string());
    seen(key);
    live_.insert(key);
    registered_.insert(key);
  }

  void remove_one() {
    std::vector<std::string> reg(registered_.begin(), registered_.end());
    if (reg.empty()) return;
    const std::string key = reg[below(reg.size())];
    Result<uint64_t> r = db_->remove(EntityKind::kItem, key);
    if (!r.ok()) RC_FAIL("remove " + key + ": " + r.status().to_string());
    live_.erase(key);
    registered_.erase(key);
  }

  std::string any_key() {
    if (shape_.signal_only > 0 && below(5) == 0) {
      return "s" + std::to_string(below(static_cast<uint64_t>(shape_.signal_only)));
    }
    return "i" + std::to_string(below(static_cast<uint64_t>(shape_.items)));
  }

  void signal_batch() {
    static const char* const kSignals[] = {"view", "view",  "view",       "like",      "like",
                                           "skip", "share", "completion", "dwell_time"};
    const size_t n = 1 + below(14);
    std::vector<SignalEvent> events;
    const int64_t now = to_micros(clock_.now());
    for (size_t i = 0; i < n; ++i) {
      SignalEvent e;
      e.item = any_key();
      // Mostly the written users (some in the cohort), else a user never
      // written (in no cohort).
      e.user =
          below(4) != 0 ? "g" + std::to_string(below(kUsers)) : "u" + std::to_string(next_user_++);
      e.signal = kSignals[below(std::size(kSignals))];
      // Mostly within the last 8 days, often within the last hours, a few
      // up to 4 minutes ahead (max_future_skew is 5 minutes).
      const uint64_t when = below(10);
      int64_t t;
      if (when == 0) {
        t = now + static_cast<int64_t>(below(4 * kMinute));
      } else if (when < 4) {
        t = now - static_cast<int64_t>(below(2 * kHour));
      } else if (when < 6) {
        t = now - static_cast<int64_t>(below(2 * kDay));
      } else {
        t = now - static_cast<int64_t>(below(8 * kDay));
      }
      e.timestamp = from_micros(t);
      e.value = e.signal == "dwell_time" ? static_cast<double>(below(800)) / 8 : 1.0;
      events.push_back(std::move(e));
    }
    BatchIngestResult r = db_->ingest(events);
    if (r.rejected != 0) {
      for (const Status& s : r.errors) {
        if (!s.ok()) RC_FAIL("ingest: " + s.to_string());
      }
    }
    for (const SignalEvent& e : events) {
      seen(e.item);
      live_.insert(e.item);
    }
  }

  // User g<n> joins group a or b (or changes group): the cohort's members.
  void upsert_user(uint64_t n) {
    EntityWrite w{
        EntityKind::kUser, "g" + std::to_string(n), {{"group", std::string(below(2) ? "a" : "b")}}};
    Result<uint64_t> r = db_->upsert(w);
    if (!r.ok()) RC_FAIL("upsert user: " + r.status().to_string());
  }

  void define_cohort() {
    Result<QueryResult> r =
        db_->query(std::string("CREATE COHORT ") + kCohort + " WHERE " + kCohortWhere);
    if (!r.ok()) RC_FAIL("define cohort: " + r.status().to_string());
    cohort_defined_ = true;
  }

  void fill() {
    for (uint64_t u = 0; u < kUsers; ++u) upsert_user(u);
    // The cohort, defined before the first event or after some (then
    // backfilled from the cold tier).
    const int define_after = static_cast<int>(below(static_cast<uint64_t>(shape_.steps) + 1)) - 1;
    if (define_after < 0) define_cohort();
    // Most upsertable keys first, in a random order.
    std::vector<int> order(static_cast<size_t>(shape_.items));
    for (int i = 0; i < shape_.items; ++i) order[static_cast<size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), rng_);
    for (int i : order) {
      if (below(10) < 7) upsert("i" + std::to_string(i));
    }
    static const int64_t kAdvances[] = {0,         1,          kMinute, 5 * kMinute, 37 * kMinute,
                                        2 * kHour, 13 * kHour, kDay,    3 * kDay};
    for (int step = 0; step < shape_.steps; ++step) {
      const size_t ops = 1 + below(12);
      for (size_t op = 0; op < ops; ++op) {
        const uint64_t r = below(12);
        if (r < 3) {
          if (below(4) == 0) {
            upsert_user(below(kUsers));
          } else {
            upsert("i" + std::to_string(below(static_cast<uint64_t>(shape_.items))));
          }
        } else if (r < 11) {
          signal_batch();
        } else {
          remove_one();
        }
      }
      clock_.advance(Duration(kAdvances[below(std::size(kAdvances))]));
      if (step == define_after) define_cohort();
      if (step == shape_.reopen_after_step) open();
    }
    if (!cohort_defined_) define_cohort();
    Status waited = db_->wait_for_backfills(std::chrono::seconds(60));
    if (!waited.ok()) RC_FAIL("wait_for_backfills: " + waited.to_string());
  }

  static constexpr uint64_t kUsers = 6;
  bool cohort_defined_ = false;

  WorldShape shape_;
  std::mt19937_64 rng_;
  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
  std::vector<std::string> first_seen_;  // dense index -> key
  std::map<std::string, uint32_t> index_of_;
  std::set<std::string> live_, registered_;
  uint64_t next_user_ = 0;
};

// ---------------------------------------------------------------------------
// The sort modes, written out by hand from docs/sort-modes.md and
// docs/profiles.md

Duration span(int64_t h) {
  return std::chrono::hours(h);
}

double rate(double a, double b) {
  const double den = b + 2;
  return den == 0 ? 0 : (a + 1) / den;
}

double wilson(double pos, double total) {
  if (!(total > 0) || !(pos > 0)) return 0;
  const double z = 1.96, n = total, p = std::clamp(pos / n, 0.0, 1.0);
  const double v = (p + z * z / (2 * n) - z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) /
                   (1 + z * z / n);
  if (std::isnan(v)) return 0;
  return std::max(v, 0.0);
}

// A candidate's score; `seed` is explore's.
using ScoreFn = std::function<double(const Candidate&, uint64_t seed)>;

struct OracleSort {
  std::string head;            // the statement up to the sort's end, e.g. "RANK items BY best"
  ScoreFn score;               //
  bool ascending = false;      // the default direction
  bool takes_order = true;     // ASC / DESC may follow (not after TRENDING)
  bool positive_only = false;  // TRENDING: only items whose window score is above 0
  std::optional<uint64_t> seed;
  bool seed_from_plan = false;  // explore without a seed: read it from the plan
};

OracleSort rank_by(std::string sort, ScoreFn f, bool ascending = false) {
  OracleSort o;
  o.head = "RANK items BY " + sort;
  o.score = std::move(f);
  o.ascending = ascending;
  return o;
}

ScoreFn decay_of(std::string s) {
  return [s](const Candidate& c, uint64_t) { return c.decay(s); };
}
ScoreFn count_of(std::string s, int64_t h) {
  return [s, h](const Candidate& c, uint64_t) { return c.count(s, span(h)); };
}
// cohort_trending: c (c + 1) / (g + 1), c the cohort's count, g everyone's.
ScoreFn cohort_trending_of(std::string s, int64_t h) {
  return [s, h](const Candidate& c, uint64_t) {
    const double n = c.count(s, span(h), true);
    return n * (n + 1) / (c.count(s, span(h)) + 1);
  };
}
OracleSort for_cohort(OracleSort o) {
  o.head.replace(0, std::string("RANK items").size(),
                 std::string("RANK items FOR COHORT ") + kCohort);
  return o;
}
ScoreFn sum_of(std::string s, int64_t h) {
  return [s, h](const Candidate& c, uint64_t) { return c.sum(s, span(h)); };
}
ScoreFn velocity_of(std::string s, int64_t h) {
  return [s, h](const Candidate& c, uint64_t) { return c.velocity(s, span(h)); };
}
ScoreFn trending_of(std::string s, int64_t h) {
  return [s, h](const Candidate& c, uint64_t) {
    const double n = c.count(s, span(h));
    return n * (n + 1) / (c.prev(s, span(h)) + 1);
  };
}
ScoreFn best_of(std::string pos, std::string neg, int64_t h) {
  return [pos, neg, h](const Candidate& c, uint64_t) {
    const double p = c.count(pos, span(h));
    return wilson(p, p + c.count(neg, span(h)));
  };
}
ScoreFn controversial_of(std::string pos, std::string neg, int64_t h) {
  return [pos, neg, h](const Candidate& c, uint64_t) {
    const double p = c.count(pos, span(h)), n = c.count(neg, span(h));
    const double lo = std::min(p, n), hi = std::max(p, n);
    return lo > 0 ? std::pow(p + n, lo / hi) : 0.0;
  };
}
ScoreFn rate_of(std::vector<std::string> num, std::string den, int64_t h) {
  return [num, den, h](const Candidate& c, uint64_t) {
    double a = 0;
    for (const std::string& s : num) a += c.count(s, span(h));
    return rate(a, c.count(den, span(h)));
  };
}
ScoreFn avg_dwell_of(std::string dwell, std::string views, int64_t h) {
  return [dwell, views, h](const Candidate& c, uint64_t) {
    return c.sum(dwell, span(h)) / std::max(c.count(views, span(h)), 1.0);
  };
}
ScoreFn fresh_hot_of(std::string s, int64_t h, const World& w) {
  const double now = w.now_seconds();
  return [s, h, now](const Candidate& c, uint64_t) {
    const double age = std::max(now - c.created_at(), 0.0);
    return c.count(s, span(h)) / std::pow(age / 3600 + 2, 1.8);
  };
}
ScoreFn explore_of(std::string pos, std::string trials, int64_t h) {
  return [pos, trials, h](const Candidate& c, uint64_t seed) {
    const double t = c.count(trials, span(h));
    const double m = rate(c.count(pos, span(h)), t);
    // The profile language's sqrt: 0 for a negative argument (m > 1 when
    // there are more positive events than trials).
    const double var = m * (1 - m) / (t + 3);
    const double x = m + ranking::gaussian_draw(seed, c.index) * (var < 0 ? 0 : std::sqrt(var));
    return std::clamp(x, 0.0, 1.0);
  };
}
ScoreFn attribute_of(std::string name) {
  return [name](const Candidate& c, uint64_t) { return c.number(name); };
}

// The ways the test writes each mode: bare (the defaults) and with
// arguments. A mode without an entry fails the test: add its oracle.
std::vector<OracleSort> mode_variants(std::string_view mode, const World& w) {
  const std::string m(mode);
  if (m == "hot") {
    return {rank_by("hot", decay_of("view")), rank_by("hot(like)", decay_of("like")),
            rank_by("hot(skip)", decay_of("skip")),
            rank_by("hot(dwell_time)", decay_of("dwell_time"))};
  }
  if (m == "new") return {rank_by("new", attribute_of("created_at"))};
  if (m == "oldest") return {rank_by("oldest", attribute_of("created_at"), true)};
  if (m == "top") {
    return {rank_by("top", count_of("view", 168)), rank_by("top(like, 1h)", count_of("like", 1)),
            rank_by("top(share, 24h)", count_of("share", 24)),
            rank_by("top(skip)", count_of("skip", 24)),
            rank_by("top(dwell_time)", sum_of("dwell_time", 24))};
  }
  if (m == "rising") {
    return {rank_by("rising", velocity_of("view", 1)),
            rank_by("rising(like, 24h)", velocity_of("like", 24)),
            rank_by("rising(share, 1h)", velocity_of("share", 1)),
            rank_by("rising(view, 7d)", velocity_of("view", 168))};
  }
  if (m == "trending") {
    return {rank_by("trending", trending_of("view", 1)),
            rank_by("trending(like, 7d)", trending_of("like", 168)),
            rank_by("trending(share, 24h)", trending_of("share", 24))};
  }
  if (m == "best") {
    return {rank_by("best", best_of("like", "skip", 24)),
            rank_by("best(like, skip, 24h)", best_of("like", "skip", 24)),
            rank_by("best(completion, skip)", best_of("completion", "skip", 24)),
            rank_by("best(share, view, 1h)", best_of("share", "view", 1))};
  }
  if (m == "controversial") {
    return {rank_by("controversial", controversial_of("like", "skip", 24)),
            rank_by("controversial(view, skip)", controversial_of("view", "skip", 24)),
            rank_by("controversial(like, share, 1h)", controversial_of("like", "share", 1))};
  }
  if (m == "most_viewed") {
    return {rank_by("most_viewed", count_of("view", 168)),
            rank_by("most_viewed(1h)", count_of("view", 1)),
            rank_by("most_viewed(24h)", count_of("view", 24))};
  }
  if (m == "most_liked") {
    return {rank_by("most_liked", count_of("like", 168)),
            rank_by("most_liked(24h)", count_of("like", 24))};
  }
  if (m == "most_shared") {
    return {rank_by("most_shared", count_of("share", 24)),
            rank_by("most_shared(1h)", count_of("share", 1))};
  }
  if (m == "completion_rate") {
    return {rank_by("completion_rate", rate_of({"completion"}, "view", 24)),
            rank_by("completion_rate(like, view, 7d)", rate_of({"like"}, "view", 168))};
  }
  if (m == "avg_dwell") {
    return {rank_by("avg_dwell", avg_dwell_of("dwell_time", "view", 24)),
            rank_by("avg_dwell(dwell_time, like, 24h)", avg_dwell_of("dwell_time", "like", 24))};
  }
  if (m == "engagement_rate") {
    return {rank_by("engagement_rate", rate_of({"like", "share", "completion"}, "view", 24)),
            rank_by("engagement_rate(like, share, completion, view, 24h)",
                    rate_of({"like", "share", "completion"}, "view", 24)),
            rank_by("engagement_rate(like, like, share, view, 1h)",
                    rate_of({"like", "like", "share"}, "view", 1))};
  }
  if (m == "skip_rate") {
    return {rank_by("skip_rate", rate_of({"skip"}, "view", 24)),
            rank_by("skip_rate(skip, view, 24h)", rate_of({"skip"}, "view", 24))};
  }
  if (m == "fresh_hot") {
    return {rank_by("fresh_hot", fresh_hot_of("view", 168, w)),
            rank_by("fresh_hot(like, 1h)", fresh_hot_of("like", 1, w))};
  }
  if (m == "explore") {
    OracleSort seeded = rank_by("explore(42)", explore_of("like", "view", 168));
    seeded.seed = 42;
    OracleSort full = rank_by("explore(like, view, 24h, 7)", explore_of("like", "view", 24));
    full.seed = 7;
    OracleSort fresh = rank_by("explore", explore_of("like", "view", 168));
    fresh.seed_from_plan = true;
    OracleSort fresh_args = rank_by("explore(share, view, 1h)", explore_of("share", "view", 1));
    fresh_args.seed_from_plan = true;
    return {seeded, full, fresh, fresh_args};
  }
  if (m == "cohort_trending") {
    return {for_cohort(rank_by("cohort_trending", cohort_trending_of("view", 1))),
            for_cohort(rank_by("cohort_trending(like, 24h)", cohort_trending_of("like", 24))),
            for_cohort(rank_by("cohort_trending(share, 24h)", cohort_trending_of("share", 24)))};
  }
  RC_FAIL("no oracle for sort mode " + m + ": add it to mode_variants()");
}

// TRENDING items [BY s] WINDOW w: top(s, w).
OracleSort gen_trending_statement() {
  static const std::pair<const char*, int64_t> kForms[] = {
      {"", 1}, {"", 24}, {"", 168}, {"like", 1}, {"share", 24}, {"skip", 24}, {"dwell_time", 24}};
  const auto& [signal, h] = kForms[roll<size_t>(std::size(kForms))];
  const std::string s = *signal ? signal : "view";
  OracleSort o;
  o.head = std::string("TRENDING items") + (*signal ? std::string(" BY ") + signal : "") +
           " WINDOW " + (h == 168 ? "7d" : std::to_string(h) + "h");
  o.score = s == "dwell_time" ? sum_of(s, h) : count_of(s, h);
  o.takes_order = false;
  o.positive_only = true;
  return o;
}

OracleSort gen_mode_sort(std::string_view mode, const World& w) {
  std::vector<OracleSort> v = mode_variants(mode, w);
  return v[roll<size_t>(v.size())];
}

// ---------------------------------------------------------------------------
// WHERE

struct OracleWhere {
  std::string text;
  std::function<bool(const Candidate&)> keep;
  bool names_keys = false;  // key = / key IN: signal-only items can match
};

OracleWhere gen_where(const World& w) {
  const std::string cat = kCategories[roll<size_t>(4)];
  const std::string cat2 = kCategories[roll<size_t>(4)];
  const int64_t lo = *rc::gen::inRange<int64_t>(0, 650);
  const int64_t hi = lo + *rc::gen::element<int64_t>(0, 30, 100, 400);
  const double x = static_cast<double>(roll(13)) / 4;
  auto registered = [](const Candidate& c) { return c.entity.has_value(); };
  auto has_cat = [](const Candidate& c, const std::string& v) {
    return c.keyword("category") == v;
  };
  auto dur_in = [](const Candidate& c, int64_t a, int64_t b) {
    std::optional<int64_t> d = c.integer("duration");
    return d && *d >= a && *d <= b;
  };
  switch (roll(15)) {
    case 0:
      return {"category = '" + cat + "'", [=](const Candidate& c) { return has_cat(c, cat); }};
    case 1:
      return {"category != '" + cat + "'", [=](const Candidate& c) {
                std::optional<std::string> v = c.keyword("category");
                return v && *v != cat;
              }};
    case 2:
      return {"NOT category = '" + cat + "'",
              [=](const Candidate& c) { return registered(c) && !has_cat(c, cat); }};
    case 3:
      return {"category IN ('" + cat + "', '" + cat2 + "')",
              [=](const Candidate& c) { return has_cat(c, cat) || has_cat(c, cat2); }};
    case 4:
      return {"duration BETWEEN " + std::to_string(lo) + " AND " + std::to_string(hi),
              [=](const Candidate& c) { return dur_in(c, lo, hi); }};
    case 5:
      return {"duration < " + std::to_string(lo), [=](const Candidate& c) {
                std::optional<int64_t> d = c.integer("duration");
                return d && *d < lo;
              }};
    case 6:
      return {"rating >= " + num_text(x), [=](const Candidate& c) {
                std::optional<double> s = c.real("rating");
                return s && *s >= x;
              }};
    case 7:
      return {"EXISTS rating", [](const Candidate& c) { return c.attr("rating") != nullptr; }};
    case 8: {
      const std::string creator = "c" + std::to_string(roll(5));
      return {"creator = '" + creator + "'",
              [=](const Candidate& c) { return c.keyword("creator") == creator; }};
    }
    case 9:  // very selective
      return {"duration BETWEEN " + std::to_string(lo) + " AND " + std::to_string(lo + 30) +
                  " AND category = '" + cat + "'",
              [=](const Candidate& c) { return dur_in(c, lo, lo + 30) && has_cat(c, cat); }};
    case 10:
      return {"category = '" + cat + "' OR duration < 100", [=](const Candidate& c) {
                std::optional<int64_t> d = c.integer("duration");
                return has_cat(c, cat) || (d && *d < 100);
              }};
    case 11:
      return {"NOT EXISTS duration",
              [=](const Candidate& c) { return registered(c) && c.attr("duration") == nullptr; }};
    case 12:
    case 13: {
      // Explicit keys, some unknown, signal-only ones included.
      std::set<std::string> named;
      const size_t n = 1 + roll<size_t>(6);
      std::string list;
      for (size_t i = 0; i < n; ++i) {
        const std::string k = w.keys().empty() || roll(6) == 0
                                  ? "nope" + std::to_string(i)
                                  : w.keys()[roll<size_t>(w.keys().size())];
        named.insert(k);
        list += (list.empty() ? "'" : ", '") + k + "'";
      }
      if (roll(2) == 0) {
        return {"key IN (" + list + ")", [=](const Candidate& c) { return named.contains(c.key); },
                true};
      }
      return {"key IN (" + list + ") AND category = '" + cat + "'",
              [=](const Candidate& c) { return named.contains(c.key) && has_cat(c, cat); }, true};
    }
    default: {
      const std::string k = w.keys().empty() ? "nope" : w.keys()[roll<size_t>(w.keys().size())];
      return {"key = '" + k + "'", [=](const Candidate& c) { return c.key == k; }, true};
    }
  }
}

// ---------------------------------------------------------------------------
// The oracle's answer and the comparison

struct Scored {
  std::string key;
  double score = 0;
  uint32_t index = 0;
};

bool same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-9 * std::max({std::fabs(a), std::fabs(b), 1e-3});
}

// NaN last; the score in the direction asked; then first seen first.
bool ranks_before(const Scored& a, const Scored& b, bool ascending) {
  const bool an = std::isnan(a.score), bn = std::isnan(b.score);
  if (an != bn) return bn;
  if (!an && a.score != b.score) return ascending ? a.score < b.score : a.score > b.score;
  return a.index < b.index;
}

std::string describe(const Scored& s) {
  return s.key + " (score " + num_text(s.score) + ", first seen #" + std::to_string(s.index) + ")";
}

struct Diversify {
  std::string attribute;  // category, creator or duration
  int64_t max = 1;
};

std::optional<std::string> diversify_value(const Candidate& c, const std::string& attribute) {
  if (attribute == "duration") {
    std::optional<int64_t> d = c.integer("duration");
    return d ? std::optional<std::string>(std::to_string(*d)) : std::nullopt;
  }
  return c.keyword(attribute);
}

struct Query {
  OracleSort sort;
  std::optional<bool> ascending;  // ASC / DESC written
  std::optional<OracleWhere> where;
  std::optional<Diversify> diversify;
  size_t limit = 20;

  std::string text() const {
    std::string t = sort.head;
    if (ascending) t += *ascending ? " ASC" : " DESC";
    if (where) t += " WHERE " + where->text;
    if (diversify) {
      t += " DIVERSIFY BY " + diversify->attribute + " MAX " + std::to_string(diversify->max);
    }
    return t + " LIMIT " + std::to_string(limit);
  }
  bool is_ascending() const { return ascending.value_or(sort.ascending); }
};

Query gen_query(OracleSort sort, const World& w) {
  Query q;
  if (sort.takes_order && roll(4) == 0) q.ascending = roll(2) == 0;
  q.sort = std::move(sort);
  if (roll(2) == 0) q.where = gen_where(w);
  // Small pages often, so that the trending indexes can answer.
  q.limit = roll(2) == 0 ? *rc::gen::element<size_t>(1, 2, 3, 5) : *rc::gen::inRange<size_t>(1, 31);
  return q;
}

QueryResult run(Database& db, const std::string& tql) {
  Result<QueryResult> r = db.query(tql);
  if (!r.ok()) RC_FAIL(tql + ": " + r.status().to_string());
  return std::move(*r);
}

// explore's seed when the query drew one: the plan says "explore seed N".
uint64_t plan_seed(const QueryResult& r, const std::string& tql) {
  static const std::string kMark = "explore seed ";
  for (const PlanStage& s : r.plan) {
    const size_t at = s.detail.find(kMark);
    if (at != std::string::npos) return std::stoull(s.detail.substr(at + kMark.size()));
  }
  RC_FAIL(tql + ": the plan names no explore seed");
}

// Every candidate of `q` scored, in the oracle's order.
std::vector<Scored> oracle_order(const Query& q, const std::vector<Candidate>& cands,
                                 uint64_t seed) {
  std::vector<Scored> out;
  for (const Candidate& c : cands) {
    if (q.where && !q.where->names_keys && !c.entity) continue;
    if (q.where && !q.where->keep(c)) continue;
    const double score = q.sort.score(c, seed);
    if (q.sort.positive_only && !(score > 0)) continue;
    out.push_back(Scored{c.key, score, c.index});
  }
  const bool asc = q.is_ascending();
  std::sort(out.begin(), out.end(),
            [asc](const Scored& a, const Scored& b) { return ranks_before(a, b, asc); });
  return out;
}

// The page the oracle expects (the greedy walk when diversifying) and
// whether another row follows.
std::vector<Scored> oracle_page(const Query& q, const std::vector<Scored>& order,
                                const std::vector<Candidate>& cands, bool* more) {
  std::vector<Scored> page;
  std::map<std::string, const Candidate*> by_key;
  for (const Candidate& c : cands) by_key[c.key] = &c;
  std::map<std::string, int64_t> seen;
  for (const Scored& s : order) {
    if (page.size() > q.limit) break;
    if (q.diversify) {
      std::optional<std::string> v = diversify_value(*by_key.at(s.key), q.diversify->attribute);
      if (v && ++seen[*v] > q.diversify->max) continue;
    }
    page.push_back(s);
  }
  *more = page.size() > q.limit;
  if (*more) page.resize(q.limit);
  return page;
}

// "" when `got` is `want` (see the file comment for what may differ), else
// the first difference.
std::string diff_rows(const std::vector<QueryRow>& got, const std::vector<Scored>& want,
                      const std::vector<Scored>& all) {
  std::map<std::string, const Scored*> oracle;
  for (const Scored& s : all) oracle[s.key] = &s;
  std::set<std::string> keys;
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    const std::string row = "row " + std::to_string(i) + ": ";
    if (i >= got.size()) return row + "expected " + describe(want[i]) + ", got no row";
    const QueryRow& g = got[i];
    const std::string got_text = g.key + " (score " + num_text(g.score) + ")";
    if (i >= want.size()) return row + "expected no row, got " + got_text;
    auto it = oracle.find(g.key);
    if (it == oracle.end()) {
      return row + "expected " + describe(want[i]) + ", got " + got_text +
             ", which is not a candidate";
    }
    if (!keys.insert(g.key).second) return row + "got " + got_text + " a second time";
    const Scored& o = *it->second;
    // Another row than the oracle's only where their oracle scores differ,
    // but within the tolerance; equal scores are ordered by first-seen index.
    const bool tied =
        o.score == want[i].score || (std::isnan(o.score) && std::isnan(want[i].score));
    if (g.key != want[i].key && (tied || !same(o.score, want[i].score))) {
      return row + "expected " + describe(want[i]) + ", got " + got_text + "; the oracle has " +
             describe(o);
    }
    if (!same(g.score, o.score)) {
      return row + g.key + " has score " + num_text(g.score) + ", the oracle " + num_text(o.score);
    }
    if (i > 0 &&
        (got[i - 1].score == g.score || (std::isnan(got[i - 1].score) && std::isnan(g.score)))) {
      const Scored& prev = *oracle.at(got[i - 1].key);
      if (prev.index > o.index) {
        return row + "ties with the row before at score " + num_text(g.score) + " but " +
               describe(o) + " comes after " + describe(prev);
      }
    }
  }
  return {};
}

// The first row where two answers of the engine differ in key or score.
std::optional<size_t> first_difference(const std::vector<QueryRow>& a,
                                       const std::vector<QueryRow>& b) {
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i >= a.size() || i >= b.size() || a[i].key != b[i].key || !same(a[i].score, b[i].score)) {
      return i;
    }
  }
  return std::nullopt;
}

// Which way the engine took (EXPLAIN's source stage).
std::string path_of(const QueryResult& r) {
  const std::string plan = r.explain_text();
  if (plan.find("trending index") == std::string::npos) return "scan";
  return plan.find("scoring every candidate") == std::string::npos ? "index answered"
                                                                   : "index fell back to a scan";
}

// Runs `q` and checks its page and cursor against the oracle; adds the path
// the engine took to `paths`. Returns the result.
QueryResult check_query(World& world, const std::vector<Candidate>& cands, const Query& q,
                        std::set<std::string>* paths) {
  const std::string tql = q.text();
  QueryResult r = run(world.db(), tql);
  const uint64_t seed = q.sort.seed_from_plan ? plan_seed(r, tql) : q.sort.seed.value_or(0);
  const std::vector<Scored> order = oracle_order(q, cands, seed);
  bool more = false;
  const std::vector<Scored> page = oracle_page(q, order, cands, &more);
  const std::string diff = diff_rows(r.rows, page, order);
  if (!diff.empty()) {
    RC_LOG() << world.describe() << "\n" << r.explain_text() << "\n";
    RC_FAIL(tql + "\n  " + diff);
  }
  if (r.cursor.empty() == more) {
    RC_FAIL(tql + "\n  " +
            (more ? "no cursor, but more rows follow" : "a cursor, but the page is the last"));
  }
  paths->insert(path_of(r));
  return r;
}

// ---------------------------------------------------------------------------
// Random profile expressions over oracle_schema()

Expr window_of(Choices& ch, std::initializer_list<int64_t> hs) {
  return profile_test::hours(*(hs.begin() + ch.next(static_cast<uint32_t>(hs.size()))));
}

Expr random_leaf(Choices& ch) {
  static const double kNumbers[] = {0, 1, -1, 2, 0.5, -2.5, 3, 10, 1e-3, 1e6, 100, -0.0};
  static const char* const kNames[] = {"duration", "rating", "age",  "created_at",
                                       "like",     "view",   "skip", "dwell_time"};
  switch (ch.next(11)) {
    case 0: return num(kNumbers[ch.next(std::size(kNumbers))]);
    case 10: {
      // A feature of the cohort's state, or of everyone's (cohort = all).
      Expr scope = bin(ExprOp::kEq, id("cohort"), id(ch.next(3) ? kCohort : "all"));
      return ch.next(2) ? call("count", {id("like"), window_of(ch, {1, 24, 168}), scope})
                        : call("decay", {id("view"), scope});
    }
    case 1: return call("count", {id("like"), window_of(ch, {1, 24, 168})});
    case 2: return id(kNames[ch.next(std::size(kNames))]);
    case 3: return call("decay", {id(ch.next(2) ? "share" : "completion")});
    case 4: return call("count", {id(ch.next(2) ? "view" : "skip"), hours(24)});
    case 5: return call("sum", {id("dwell_time"), hours(24)});
    case 6:
      return call(ch.next(2) ? "velocity" : "prev_count",
                  {id(ch.next(2) ? "share" : "view"), window_of(ch, {1, 24})});
    case 7: return call("freshness", {hours(1 + ch.next(48))});
    case 8: return id("duration");
    default: return ch.next(2) ? hours(ch.next(10)) : boolean(ch.next(2) != 0);
  }
}

// One feature of one candidate, read from what item_signals and get report.
double feature(const Candidate& c, const ranking::FeatureRef& f) {
  const Schema& schema = oracle_schema();
  using ranking::FeatureKind;
  switch (f.kind) {
    case FeatureKind::kAttribute:
      return c.number(schema.attributes(EntityKind::kItem).at(f.attribute).name);
    case FeatureKind::kCreatedAt: return c.created_at();
    case FeatureKind::kGaussian: return ranking::gaussian_draw(f.seed, c.index);
    default: break;
  }
  const SignalTypeDefinition& def = schema.signals().at(f.signal);
  // No FOR COHORT here: the query's audience is everyone, as is cohort = all.
  const bool cohort = f.scope == kCohort;
  if (f.kind == FeatureKind::kDecay) return c.decay(def.name, cohort);
  const Duration w = def.windows.at(f.window);
  switch (f.kind) {
    case FeatureKind::kCount: return c.count(def.name, w, cohort);
    case FeatureKind::kSum: return c.sum(def.name, w, cohort);
    case FeatureKind::kVelocity: return c.velocity(def.name, w, cohort);
    case FeatureKind::kPrevCount: return c.prev(def.name, w, cohort);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

// ---------------------------------------------------------------------------
// The properties

constexpr int kModeCases = 25;
constexpr int kPagingCases = 25;
constexpr int kProfileCases = 25;
constexpr int kDiversifyCases = 25;

// The sort modes a RANK statement takes: all but relevance, which only
// SEARCH has (tests/property/text_search_prop.cc checks it), and the user's
// modes, which only FEED has (tests/property/feed_model_prop.cc and
// tests/unit/users_feed_test.cc check them).
std::vector<query::SortModeInfo> rank_modes() {
  std::vector<query::SortModeInfo> out;
  for (const query::SortModeInfo& m : query::sort_modes()) {
    if (m.name != "relevance" && !m.needs_user) out.push_back(m);
  }
  return out;
}

// Every sort mode (one random form each) and a TRENDING statement.
TEST(QueryOracle, SortModesMatchTheirFormulas) {
  check_cases(kModeCases, [] {
    World world(gen_shape());
    const std::vector<Candidate> cands = world.candidates();
    std::set<std::string> paths;
    for (const query::SortModeInfo& m : rank_modes()) {
      check_query(world, cands, gen_query(gen_mode_sort(m.name, world), world), &paths);
    }
    check_query(world, cands, gen_query(gen_trending_statement(), world), &paths);
    for (const std::string& p : paths) RC_TAG(p);
  });
}

// A sort for the paging and diversify properties: a mode, TRENDING, or a
// sortable attribute.
OracleSort gen_any_sort(const World& w) {
  const std::vector<query::SortModeInfo> modes = rank_modes();
  const size_t pick = roll<size_t>(modes.size() + 3);
  if (pick < modes.size()) return gen_mode_sort(modes[pick].name, w);
  if (pick == modes.size()) return gen_trending_statement();
  return pick == modes.size() + 1 ? rank_by("duration", attribute_of("duration"))
                                  : rank_by("rating", attribute_of("rating"));
}

// Pages of LIMIT k, cursor after cursor, are one query with a large LIMIT.
TEST(QueryOracle, CursorPagesConcatenateToOneQuery) {
  check_cases(kPagingCases, [] {
    World world(gen_shape());
    const std::vector<Candidate> cands = world.candidates();
    std::set<std::string> paths;
    for (int round = 0; round < 3; ++round) {
      Query q = gen_query(gen_any_sort(world), world);
      const size_t k = *rc::gen::inRange<size_t>(1, 8);
      q.limit = k;
      const std::string base = q.text();
      std::vector<QueryRow> paged;
      std::optional<uint64_t> seed;
      std::string cursor;
      size_t pages = 0;
      do {
        const std::string tql = base + (cursor.empty() ? "" : " CURSOR '" + cursor + "'");
        QueryResult r = run(world.db(), tql);
        if (q.sort.seed_from_plan && !seed) seed = plan_seed(r, tql);
        paths.insert(path_of(r));
        if (r.rows.size() > k) RC_FAIL(tql + ": " + std::to_string(r.rows.size()) + " rows");
        if (!r.cursor.empty() && r.rows.size() != k) {
          RC_FAIL(tql + ": a short page with a cursor");
        }
        paged.insert(paged.end(), r.rows.begin(), r.rows.end());
        cursor = r.cursor;
        if (++pages > 200) RC_FAIL(base + ": more than 200 pages");
      } while (!cursor.empty());

      q.limit = 10000;
      const std::vector<Scored> order =
          oracle_order(q, cands, seed.value_or(q.sort.seed.value_or(0)));
      if (pages != std::max<size_t>(1, (order.size() + k - 1) / k)) {
        RC_FAIL(base + ": " + std::to_string(pages) + " pages for " + std::to_string(order.size()) +
                " rows");
      }
      const std::string diff = diff_rows(paged, order, order);
      if (!diff.empty()) RC_FAIL(base + " (pages concatenated)\n  " + diff);
      if (!q.sort.seed_from_plan) {
        const QueryResult all = run(world.db(), q.text());
        if (std::optional<size_t> i = first_difference(paged, all.rows)) {
          RC_FAIL(base + ": pages and " + q.text() + " differ at row " + std::to_string(*i));
        }
      }
    }
    for (const std::string& p : paths) RC_TAG(p);
  });
}

// RANK items BY <random expression> scores like the reference interpreter,
// and the same expression as a stored profile ranks alike.
TEST(QueryOracle, ProfilesMatchTheReferenceInterpreter) {
  check_cases(kProfileCases, [] {
    World world(gen_shape());
    const std::vector<Candidate> cands = world.candidates();
    const double now = world.now_seconds();
    std::set<std::string> paths;
    for (int round = 0; round < 3; ++round) {
      const auto choices =
          *rc::gen::container<std::vector<uint32_t>>(rc::gen::arbitrary<uint32_t>());
      Choices ch(choices);
      const Expr e = random_expr(ch, 0, 5, random_leaf);
      const Result<ranking::Program> program = ranking::compile(e, {.schema = &oracle_schema()});
      if (!program.ok()) RC_FAIL(query::to_tql(e) + ": " + program.status().to_string());
      const std::string text = query::to_tql(e);
      OracleSort sort = rank_by(text, [&e, now](const Candidate& c, uint64_t) {
        return ranking::interpret(
            e, oracle_schema(), [&c](const ranking::FeatureRef& f) { return feature(c, f); }, now);
      });
      Query q = gen_query(std::move(sort), world);
      const QueryResult direct = check_query(world, cands, q, &paths);

      run(world.db(), "CREATE PROFILE oracle_profile AS " + text);
      Query stored = q;
      stored.sort.head = "RANK items BY oracle_profile";
      const QueryResult via = run(world.db(), stored.text());
      if (std::optional<size_t> i = first_difference(via.rows, direct.rows)) {
        RC_FAIL(stored.text() + " (profile " + text + ") differs from " + q.text() + " at row " +
                std::to_string(*i));
      }
    }
    for (const std::string& p : paths) RC_TAG(p);
  });
}

// DIVERSIFY BY attr MAX n is the greedy walk down the whole order.
TEST(QueryOracle, DiversifyIsTheGreedyWalk) {
  check_cases(kDiversifyCases, [] {
    World world(gen_shape());
    const std::vector<Candidate> cands = world.candidates();
    std::set<std::string> paths;
    for (int round = 0; round < 4; ++round) {
      Query q = gen_query(gen_any_sort(world), world);
      static const char* const kBy[] = {"category", "creator", "duration"};
      q.diversify = Diversify{kBy[roll<size_t>(3)], *rc::gen::inRange<int64_t>(1, 4)};
      check_query(world, cands, q, &paths);
    }
    for (const std::string& p : paths) RC_TAG(p);
  });
}

// ---------------------------------------------------------------------------
// Found by the oracle

// A small database for the examples below: items a, b, c in that order.
class SmallDatabase {
 public:
  SmallDatabase() {
    DatabaseOptions o;
    o.clock = &clock_;
    o.durability = Durability::kNone;
    o.background_checkpoints = false;
    db_ = Database::open(dir_.str(), oracle_schema(), o).value();
    for (auto [key, duration] : {std::pair{"a", 50}, {"b", 200}, {"c", 300}}) {
      EXPECT_TRUE(db_->upsert({EntityKind::kItem, key, {{"duration", int64_t{duration}}}}).ok());
    }
  }
  QueryResult q(const std::string& tql) {
    Result<QueryResult> r = db_->query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    return r.ok() ? *r : QueryResult{};
  }

 private:
  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

// An infinite score at the far end of the order (-inf descending, +inf
// ascending) stays infinite and sorts before NaN: the executor once gave NaN
// the order key -inf and turned every -inf key back into NaN.
TEST(QueryOracle, InfiniteScoresStayInfiniteAndSortBeforeNaN) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  SmallDatabase db;
  // a (duration 50) scores NaN (inf - inf); b and c score -inf.
  QueryResult r = db.q("RANK items BY if(duration > 100, 0 - exp(1000), exp(1000) - exp(1000))");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].key, "b");
  EXPECT_EQ(r.rows[0].score, -kInf);
  EXPECT_EQ(r.rows[1].key, "c");
  EXPECT_EQ(r.rows[1].score, -kInf);
  EXPECT_EQ(r.rows[2].key, "a");
  EXPECT_TRUE(std::isnan(r.rows[2].score));
  // Ascending, +inf is the far end.
  r = db.q("RANK items BY if(duration > 100, exp(1000), exp(1000) - exp(1000)) ASC");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].key, "b");
  EXPECT_EQ(r.rows[0].score, kInf);
  EXPECT_EQ(r.rows[2].key, "a");
  EXPECT_TRUE(std::isnan(r.rows[2].score));
}

// EXPLAIN names the explore seed the ranking used: a given seed shows in the
// formula, and "explore seed N" appears only for a seed the query drew.
TEST(QueryOracle, ExplainNamesTheExploreSeedInUse) {
  SmallDatabase db;
  QueryResult r = db.q("EXPLAIN RANK items BY explore(42)");
  ASSERT_FALSE(r.plan.empty());
  const std::string& detail = r.plan.front().detail;
  const size_t at = detail.find("explore seed ");
  if (at != std::string::npos) {
    EXPECT_EQ(detail.substr(at), "explore seed 42");
  }
  EXPECT_NE(r.explain_text().find("gaussian(42)"), std::string::npos);
  r = db.q("EXPLAIN RANK items BY explore");
  EXPECT_NE(r.plan.front().detail.find("explore seed "), std::string::npos);
}

}  // namespace
}  // namespace tidal
