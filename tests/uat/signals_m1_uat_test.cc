// M1 acceptance (issue 4): the six default signal types, 100,000 events on a
// manual clock over 3 simulated days, ingested in batches while the clock
// advances. At several moments every answer — decayed scores (closed form,
// relative error ≤ 1e-9), window counts, previous counts, velocity, sums and
// the hot / top / rising top-20 — is checked against a brute-force oracle.
// Then a process that ingested the same stream is killed without a
// checkpoint; reopening replays the WAL and must give identical answers, and
// so must reopening after a clean close.
//
// TIDAL_UAT_EVENTS shrinks the stream (e.g. for sanitizer builds).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <unordered_map>

#include "support/signal_oracle.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using testing::OracleModel;
using testing::OracleRanked;
using testing::SignalOracle;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kStart = 1'700'000'000'000'000;  // 2023-11-14
constexpr int64_t kDays = 3;
constexpr size_t kItems = 2000;
constexpr size_t kBatches = 100;
constexpr size_t kTopK = 20;

size_t event_count() {
  const char* env = std::getenv("TIDAL_UAT_EVENTS");
  return env ? std::strtoull(env, nullptr, 10) : 100'000;
}

Schema schema() {
  return SchemaBuilder::with_default_signals().build().value();
}

// The deterministic stream: batch b is ingested with the clock at
// clock_at(b). Most events happened during the batch's slice of time; some
// arrive late (up to two days), a few are up to 4 minutes ahead of the clock.
struct Stream {
  std::vector<std::vector<SignalEvent>> batches;
  std::vector<int64_t> clock_at;
};

Stream make_stream(size_t events) {
  std::mt19937_64 rng(20240417);
  // Zipf(1.1) popularity over the items.
  std::vector<double> cumulative(kItems);
  double total = 0;
  for (size_t i = 0; i < kItems; ++i) cumulative[i] = total += 1.0 / std::pow(i + 1.0, 1.1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(3.0, 1.0);
  const char* names[] = {"view", "like", "skip", "share", "completion", "dwell_time"};
  const int mix[] = {60, 12, 15, 3, 7, 3};  // percent, WORKLOADS.md W1

  Stream s;
  const int64_t slice = kDays * 24 * kHour / static_cast<int64_t>(kBatches);
  size_t per_batch = (events + kBatches - 1) / kBatches;
  size_t made = 0;
  for (size_t b = 0; b < kBatches; ++b) {
    int64_t clock = kStart + static_cast<int64_t>(b + 1) * slice;
    s.clock_at.push_back(clock);
    std::vector<SignalEvent>& batch = s.batches.emplace_back();
    for (size_t i = 0; i < per_batch && made < events; ++i, ++made) {
      SignalEvent e;
      size_t item = static_cast<size_t>(
          std::upper_bound(cumulative.begin(), cumulative.end(), unit(rng) * total) -
          cumulative.begin());
      e.item = "item_" + std::to_string(std::min(item, kItems - 1));
      e.user = "user_" + std::to_string(rng() % 10000);
      int pick = static_cast<int>(rng() % 100), k = 0;
      while (pick >= mix[k]) pick -= mix[k++];
      e.signal = names[k];
      if (e.signal == "dwell_time") e.value = std::round(std::exp(normal(rng)) * 8) / 8;
      double kind = unit(rng);
      int64_t t;
      if (kind < 0.05) {
        t = clock - static_cast<int64_t>(unit(rng) * 48 * kHour);  // late
      } else if (kind < 0.06) {
        t = clock + static_cast<int64_t>(unit(rng) * 4 * kMinute);  // ahead of the clock
      } else {
        t = clock - static_cast<int64_t>(unit(rng) * slice);
      }
      e.timestamp = from_micros(t);
      e.idempotency_key = "e" + std::to_string(made);
      batch.push_back(std::move(e));
    }
  }
  return s;
}

// Checks `items` and every ranking at `now` against the model.
void verify(const Database& db, const OracleModel& m, const std::vector<uint32_t>& items,
            int64_t now, const std::string& when) {
  SCOPED_TRACE(when);
  ASSERT_EQ(to_micros(db.now()), now);
  const Schema& sc = db.schema();
  int failures = 0;
  for (uint32_t item : items) {
    auto got = db.item_signals(m.keys[item]);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    for (const auto& def : sc.signals()) {
      const SignalOracle& o = m.oracles[def.id];
      const SignalSnapshot& snap = got->signals[def.id];
      ASSERT_EQ(snap.signal, def.name);
      std::string where = m.keys[item] + " " + def.name;
      double want = o.hot(item, now);
      if (!testing::oracle_close(snap.decayed, want)) {
        ADD_FAILURE() << where << " decayed " << snap.decayed << " want " << want;
        ++failures;
      }
      for (size_t w = 0; w < def.windows.size(); ++w) {
        const WindowSignal& ws = snap.windows[w];
        if (ws.count != o.count(item, w, now) || ws.previous_count != o.prev_count(item, w, now) ||
            ws.velocity != o.velocity(item, w, now) || ws.sum != o.sum(item, w, now)) {
          ADD_FAILURE() << where << " window " << w << ": count " << ws.count << "/"
                        << o.count(item, w, now) << " prev " << ws.previous_count << "/"
                        << o.prev_count(item, w, now) << " velocity " << ws.velocity << "/"
                        << o.velocity(item, w, now) << " sum " << ws.sum << "/"
                        << o.sum(item, w, now);
          ++failures;
        }
      }
      ASSERT_LT(failures, 10) << "too many differences";
    }
  }
  for (const auto& def : sc.signals()) {
    const SignalOracle& o = m.oracles[def.id];
    auto hot = db.trending({TrendingKind::kHot, def.name, {}, kTopK});
    ASSERT_TRUE(hot.ok()) << hot.status().to_string();
    std::string diff = testing::compare_hot_ranking(m.ranked(*hot), o.top_hot(kTopK, now),
                                                    [&](uint32_t i) { return o.hot(i, now); });
    EXPECT_EQ(diff, "") << "hot " << def.name;
    for (size_t w = 0; w < def.windows.size(); ++w) {
      auto top = db.trending({TrendingKind::kTop, def.name, def.windows[w], kTopK});
      ASSERT_TRUE(top.ok()) << top.status().to_string();
      EXPECT_EQ(m.show(m.ranked(*top)), m.show(o.top_count(w, kTopK, now)))
          << "top " << def.name << " window " << w;
      if (!def.velocity) continue;
      auto rising = db.trending({TrendingKind::kRising, def.name, def.windows[w], kTopK});
      ASSERT_TRUE(rising.ok()) << rising.status().to_string();
      EXPECT_EQ(m.show(m.ranked(*rising)), m.show(o.top_rising(w, kTopK, now)))
          << "rising " << def.name << " window " << w;
    }
  }
}

// Every answer the database gives for `keys`, exactly (decayed scores to
// the last bit), as text.
std::string answers(const Database& db, const std::vector<std::string>& keys) {
  std::ostringstream out;
  char buf[64];
  for (const std::string& key : keys) {
    auto s = db.item_signals(key);
    if (!s.ok()) return "error: " + s.status().to_string();
    out << key << (s->registered ? " r" : " u");
    for (const SignalSnapshot& snap : s->signals) {
      std::snprintf(buf, sizeof(buf), "%a", snap.decayed);
      out << " " << snap.signal << "=" << buf;
      for (const WindowSignal& w : snap.windows) {
        std::snprintf(buf, sizeof(buf), "%a", w.sum);
        out << "," << w.count << "/" << w.previous_count << "/" << w.velocity << "/" << buf;
      }
    }
    out << "\n";
  }
  for (const auto& def : db.schema().signals()) {
    std::vector<TrendingQuery> qs = {{TrendingKind::kHot, def.name, {}, kTopK}};
    for (Duration w : def.windows) {
      qs.push_back({TrendingKind::kTop, def.name, w, kTopK});
      if (def.velocity) qs.push_back({TrendingKind::kRising, def.name, w, kTopK});
    }
    for (const TrendingQuery& q : qs) {
      auto r = db.trending(q);
      if (!r.ok()) return "error: " + r.status().to_string();
      out << def.name << " " << static_cast<int>(q.kind) << " " << q.window.count() << ":";
      for (const TrendingEntry& e : *r) {
        std::snprintf(buf, sizeof(buf), "%a", e.score);
        out << " " << e.item << "=" << buf;
      }
      out << "\n";
    }
  }
  return out.str();
}

DatabaseOptions options(const Clock* clock) {
  DatabaseOptions o;
  o.clock = clock;
  o.durability = Durability::kBatch;
  o.background_checkpoints = false;
  return o;
}

std::vector<uint32_t> all_items(const OracleModel& m) {
  std::vector<uint32_t> v(m.keys.size());
  for (uint32_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

// Ingests the stream with the clock advancing; at the listed batches (and
// after the last) checks a sample of items, or all of them at the end.
TEST(SignalsM1Uat, LiveAnswersMatchTheOracle) {
  const Schema sc = schema();
  Stream stream = make_stream(event_count());
  OracleModel model(sc);
  testing::TempDir dir;
  ManualClock clock(from_micros(kStart));
  auto opened = Database::open(dir.str(), sc, options(&clock));
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(opened).value();

  std::mt19937 pick(7);
  for (size_t b = 0; b < stream.batches.size(); ++b) {
    clock.set(from_micros(stream.clock_at[b]));
    BatchIngestResult r = db->ingest(stream.batches[b]);
    ASSERT_EQ(r.rejected, 0u) << r.errors[0].to_string();
    for (const SignalEvent& e : stream.batches[b])
      model.add(e.item, sc.find_signal(e.signal)->id, to_micros(e.timestamp), e.value);
    if (b == 9 || b == 34 || b == 60 || b == 83) {
      // A sample: the most popular items and random ones.
      std::vector<uint32_t> sample;
      for (uint32_t i = 0; i < 100 && i < model.keys.size(); ++i) {
        sample.push_back(i < 20 ? i : static_cast<uint32_t>(pick() % model.keys.size()));
      }
      verify(*db, model, sample, stream.clock_at[b], "after batch " + std::to_string(b));
      // Minutes later, across bucket edges, with no new events.
      clock.advance(std::chrono::minutes(7));
      verify(*db, model, sample, stream.clock_at[b] + 7 * kMinute,
             "7 minutes after batch " + std::to_string(b));
    }
  }
  int64_t end = stream.clock_at.back();
  clock.set(from_micros(end));
  verify(*db, model, all_items(model), end, "at the end");
  // Two hours and then a day later: the 1h and 24h windows have moved on.
  for (int64_t gap : {2 * kHour, 26 * kHour}) {
    clock.set(from_micros(end + gap));
    verify(*db, model, all_items(model), end + gap, "after a gap");
  }
  DatabaseStats st = db->stats();
  EXPECT_EQ(st.events_applied, event_count());
  EXPECT_EQ(st.items, model.keys.size());
}

// A child process ingests the whole stream and is killed (_exit) without a
// checkpoint, after writing its answers to a file. Reopening replays the WAL
// and must answer identically (and as the oracle says); so must reopening
// after a clean close, which checkpoints.
TEST(SignalsM1Uat, ReplayAfterKillAndReopenAfterCloseAnswerIdentically) {
  const Schema sc = schema();
  Stream stream = make_stream(event_count());
  OracleModel model(sc);
  for (const auto& batch : stream.batches) {
    for (const SignalEvent& e : batch)
      model.add(e.item, sc.find_signal(e.signal)->id, to_micros(e.timestamp), e.value);
  }
  testing::TempDir dir;
  const std::string data = dir.sub("db");
  const std::string answers_file = dir.sub("child_answers.txt");
  const int64_t end = stream.clock_at.back();

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    ManualClock clock(from_micros(kStart));
    auto db = Database::open(data, sc, options(&clock));
    if (!db.ok()) _exit(2);
    for (size_t b = 0; b < stream.batches.size(); ++b) {
      clock.set(from_micros(stream.clock_at[b]));
      if ((*db)->ingest(stream.batches[b]).rejected != 0) _exit(3);
    }
    clock.set(from_micros(end));
    {
      std::ofstream f(answers_file);
      f << answers(**db, model.keys);
      if (!f.good()) _exit(4);
    }
    ssize_t n = write(pipe_fds[1], "done", 4);
    _exit(n == 4 ? 0 : 5);  // no close, no checkpoint: the WAL must carry it
  }
  close(pipe_fds[1]);
  char buf[8] = {};
  ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "done");
  std::ifstream f(answers_file);
  std::string child_answers((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(child_answers.empty());

  ManualClock clock(from_micros(end));
  {
    auto db = Database::open(data, sc, options(&clock));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    EXPECT_EQ((*db)->stats().checkpoint_sequence, 0u) << "the child must not have checkpointed";
    EXPECT_EQ((*db)->stats().events_applied, event_count());
    EXPECT_EQ(answers(**db, model.keys), child_answers) << "replay differs from the live run";
    verify(**db, model, all_items(model), end, "after replay");
    ASSERT_TRUE((*db)->close().ok());
  }
  {
    auto db = Database::open(data, sc, options(&clock));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    EXPECT_GT((*db)->stats().checkpoint_sequence, 0u);
    // Counted since the database was created, not since this open.
    EXPECT_EQ((*db)->stats().events_applied, event_count());
    EXPECT_EQ(answers(**db, model.keys), child_answers) << "restore differs from the live run";
    // And the restored state keeps answering as time moves on.
    clock.set(from_micros(end + 3 * kHour));
    verify(**db, model, all_items(model), end + 3 * kHour, "restored, 3h later");
  }
}

}  // namespace
}  // namespace tidal
