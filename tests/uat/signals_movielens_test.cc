// Real data: MovieLens ml-latest-small replayed in historical-import mode,
// mapped as ../shared/WORKLOADS.md says (every rating a view, rating ≥ 4 a
// like, rating ≤ 2 a skip, every tag a share), in timestamp order. Top-20 by
// window and by decayed score are checked against an oracle computed directly
// from the files, halfway through and at the end; then the database is
// closed and reopened, and must answer the same (its present is the newest
// event time, which has to survive the restart).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <unordered_map>

#include "support/signal_oracle.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using std::chrono::hours;
using testing::OracleModel;
using testing::OracleRanked;
using testing::SignalOracle;

struct RawEvent {
  int64_t t_us;
  std::string item;
  std::string user;
  const char* signal;
};

// The comma-separated fields of a line without its CR. Tags may hold commas
// (quoted), so callers only use the first two fields and the last one.
std::vector<std::string> fields(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Ratings then tags, each in file order; sorted by time (stably) by the caller.
std::vector<RawEvent> load(const std::filesystem::path& folder) {
  std::vector<RawEvent> out;
  std::ifstream ratings(folder / "ratings.csv");
  std::string line;
  std::getline(ratings, line);  // header
  while (std::getline(ratings, line)) {
    std::vector<std::string> f = fields(line);
    if (f.size() != 4) continue;
    int64_t t = std::stoll(f[3]) * 1'000'000;
    double rating = std::stod(f[2]);
    std::string item = "movie_" + f[1], user = "user_" + f[0];
    out.push_back({t, item, user, "view"});
    if (rating >= 4) out.push_back({t, item, user, "like"});
    if (rating <= 2) out.push_back({t, item, user, "skip"});
  }
  std::ifstream tags(folder / "tags.csv");
  std::getline(tags, line);
  while (std::getline(tags, line)) {
    std::vector<std::string> f = fields(line);
    if (f.size() < 4) continue;
    out.push_back({std::stoll(f.back()) * 1'000'000, "movie_" + f[1], "user_" + f[0], "share"});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RawEvent& a, const RawEvent& b) { return a.t_us < b.t_us; });
  return out;
}

// The questions of the issue: top by view 24h and 7d, like 7d, hot view;
// and a few more (rising view 7d, top like 24h, top skip 24h, hot share).
void verify(const Database& db, const OracleModel& m, int64_t now, const std::string& when) {
  SCOPED_TRACE(when);
  ASSERT_EQ(to_micros(db.now()), now);
  const Schema& sc = db.schema();
  struct Question {
    TrendingKind kind;
    const char* signal;
    Duration window;
  };
  const Question questions[] = {
      {TrendingKind::kTop, "view", hours(24)},        {TrendingKind::kTop, "view", hours(24 * 7)},
      {TrendingKind::kTop, "like", hours(24 * 7)},    {TrendingKind::kHot, "view", {}},
      {TrendingKind::kRising, "view", hours(24 * 7)}, {TrendingKind::kTop, "like", hours(24)},
      {TrendingKind::kTop, "skip", hours(24)},        {TrendingKind::kHot, "share", {}},
  };
  for (const Question& q : questions) {
    const SignalTypeDefinition* def = sc.find_signal(q.signal);
    const SignalOracle& o = m.oracles[def->id];
    size_t w = static_cast<size_t>(std::find(def->windows.begin(), def->windows.end(), q.window) -
                                   def->windows.begin());
    auto got = db.trending({q.kind, q.signal, q.window, 20});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    std::string what = std::string(q.signal) + " kind " + std::to_string(static_cast<int>(q.kind)) +
                       " window " + std::to_string(q.window.count());
    if (q.kind == TrendingKind::kHot) {
      EXPECT_EQ(testing::compare_hot_ranking(m.ranked(*got), o.top_hot(20, now),
                                             [&](uint32_t i) { return o.hot(i, now); }),
                "")
          << what;
    } else {
      auto want = q.kind == TrendingKind::kTop ? o.top_count(w, 20, now) : o.top_rising(w, 20, now);
      EXPECT_EQ(m.show(m.ranked(*got)), m.show(want)) << what;
    }
    // The items ranked also read back the oracle's state.
    for (const TrendingEntry& e : *got) {
      uint32_t item = m.index_of.at(e.item);
      auto s = db.item_signals(e.item);
      ASSERT_TRUE(s.ok());
      const SignalSnapshot& snap = s->signals[def->id];
      EXPECT_TRUE(testing::oracle_close(snap.decayed, o.hot(item, now))) << e.item;
      for (size_t v = 0; v < def->windows.size(); ++v) {
        EXPECT_EQ(snap.windows[v].count, o.count(item, v, now)) << e.item;
        EXPECT_EQ(snap.windows[v].previous_count, o.prev_count(item, v, now)) << e.item;
      }
    }
  }
}

std::string snapshot(const Database& db, const OracleModel& m) {
  std::string out;
  for (const char* signal : {"view", "like", "skip", "share"}) {
    for (TrendingKind kind : {TrendingKind::kHot, TrendingKind::kTop}) {
      auto r = db.trending({kind, signal, hours(24), 20});
      if (!r.ok()) return r.status().to_string();
      for (const TrendingEntry& e : *r) out += e.item + "=" + std::to_string(e.score) + " ";
      out += "\n";
    }
  }
  for (size_t i = 0; i < m.keys.size(); i += 97) {
    auto s = db.item_signals(m.keys[i]);
    if (!s.ok()) return s.status().to_string();
    for (const SignalSnapshot& snap : s->signals) {
      out += std::to_string(snap.decayed) + ",";
      for (const WindowSignal& w : snap.windows) out += std::to_string(w.count) + ",";
    }
    out += "\n";
  }
  return out;
}

TEST(SignalsMovieLens, TopByWindowMatchesAnOracleFromTheFile) {
  std::filesystem::path folder = testing::shared_data_dir() / "movielens" / "ml-latest-small";
  if (!std::filesystem::exists(folder / "ratings.csv")) {
    GTEST_SKIP() << "no MovieLens data in " << folder;
  }
  std::vector<RawEvent> raw = load(folder);
  ASSERT_GT(raw.size(), 100'836u);

  const Schema sc = SchemaBuilder::with_default_signals().build().value();
  OracleModel model(sc);
  testing::TempDir dir;
  DatabaseOptions o;
  o.historical_import = true;
  o.durability = Durability::kNone;
  o.background_checkpoints = false;
  auto opened = Database::open(dir.str(), sc, o);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(opened).value();

  std::vector<SignalEvent> batch;
  size_t done = 0;
  bool checked_halfway = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    const RawEvent& r = raw[i];
    SignalEvent e;
    e.item = r.item;
    e.user = r.user;
    e.signal = r.signal;
    e.timestamp = from_micros(r.t_us);
    // A user may tag a movie several times in one second: distinct shares.
    e.idempotency_key = "ml" + std::to_string(i);
    batch.push_back(std::move(e));
    model.add(r.item, sc.find_signal(r.signal)->id, r.t_us, 1.0);
    if (batch.size() == 1000 || i + 1 == raw.size()) {
      BatchIngestResult res = db->ingest(batch);
      ASSERT_EQ(res.rejected, 0u) << res.errors[0].to_string();
      done += res.accepted;
      batch.clear();
      if (!checked_halfway && i >= raw.size() / 2) {
        checked_halfway = true;
        verify(*db, model, r.t_us, "halfway");
      }
    }
  }
  EXPECT_EQ(done, raw.size());
  EXPECT_EQ(db->stats().duplicates, 0u);
  int64_t end = raw.back().t_us;
  verify(*db, model, end, "at the end");

  // A restart keeps the present at the newest event time.
  std::string before = snapshot(*db, model);
  ASSERT_TRUE(db->close().ok());
  db.reset();
  auto reopened = Database::open(dir.str(), sc, o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  EXPECT_EQ(to_micros((*reopened)->now()), end);
  EXPECT_EQ(snapshot(**reopened, model), before);
}

}  // namespace
}  // namespace tidal
