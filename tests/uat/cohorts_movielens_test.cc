// Real data: cohorts over MovieLens ml-latest-small, checked against an
// oracle computed from the CSV files alone.
//
// Signals as ../shared/WORKLOADS.md maps them: every rating a view, rating ≥ 4
// a like, rating ≤ 2 a skip, every tag a share; replayed in historical-import
// mode in timestamp order (ratings before tags at the same second, each in
// file order).
//
// MovieLens has no user demographics, so each of the 610 users ("user_<id>")
// gets attributes derived from its id alone:
//   age       (int)      13 + (id · 7919) mod 60                  13..72
//   country   (keyword)  ["US", "DE", "BR", "IN", "JP"][id mod 5],
//                        absent when id mod 37 = 0 (16 users)
//   interests (tags)     "jazz" "rock" "film" "games" "books" "sport" for bits
//                        0..5 of the id, in that order; absent when those six
//                        bits are all 0 (ids divisible by 64: 9 users)
// Movies are registered first, in movies.csv order, so an item's dense index
// (the tie-break of every ranking) is its line in the file.
//
// Five predicates — single-attribute, composite with BETWEEN/IN/AND, a tags
// one, OR with NOT (true for users without a country), NOT of a tag (true for
// users without interests) — are each defined three times: "<name>_before"
// before any event; "<name>_mid" once the events before kSplit are in
// (backfilled from the cold tier, then fed live); "<name>_after" once every
// event is in (backfilled). At kSplit, at two later moments and at the end,
// every cohort defined by then must match the oracle: its members (the count,
// and every user's user_cohorts), TRENDING FOR COHORT by like and by view over
// each of their windows (1h, 24h, 7d: keys and counts, ties by dense index),
// and RANK FOR COHORT BY hot(like) / hot(view) against the brute-force decayed
// sum over the members' events (half-lives from the schema, relative 1e-9).
// The moments are weeks when several heavy raters were active, so the 7-day
// windows hold hundreds of the cohorts' events; the end is sparse (the file's
// last week has 28 ratings). The present is the newest event time applied.
//
// The oracle never asks tidalDB: membership is the predicate evaluated on the
// derived attributes, the ledgers are testing::SignalOracle fed with the
// members' events (docs/signals.md's bucket and decay definitions).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <optional>

#include "support/movielens.h"
#include "support/signal_oracle.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

using testing::OracleModel;
using testing::OracleRanked;

constexpr int kUsers = 610;
// 2000-11-27 00:00 UTC: the "_mid" cohorts are defined once the events
// before it are in.
constexpr int64_t kSplit = 975'283'200'000'000;
// Later moments (2006-10-29 and 2007-02-21 00:00 UTC) checked on the way to
// the end, after the events before each.
constexpr std::array<int64_t, 2> kLaterChecks = {1'162'080'000'000'000, 1'172'016'000'000'000};
constexpr std::array<const char*, 5> kCountries = {"US", "DE", "BR", "IN", "JP"};
constexpr std::array<const char*, 6> kInterests = {"jazz",  "rock",  "film",
                                                   "games", "books", "sport"};

struct User {
  int id = 0;
  int64_t age = 0;
  std::optional<std::string> country;
  std::vector<std::string> interests;
};

User user_of(int id) {
  User u{id, 13 + (int64_t{id} * 7919) % 60, std::nullopt, {}};
  if (id % 37 != 0) u.country = kCountries[id % 5];
  for (size_t bit = 0; bit < kInterests.size(); ++bit) {
    if ((id >> bit) & 1) u.interests.push_back(kInterests[bit]);
  }
  return u;
}

std::string user_key(int id) {
  return "user_" + std::to_string(id);
}

EntityWrite write_of(const User& u) {
  EntityWrite w{EntityKind::kUser, user_key(u.id), {{"age", u.age}}};
  if (u.country) w.attributes.emplace_back("country", *u.country);
  if (!u.interests.empty()) w.attributes.emplace_back("interests", u.interests);
  return w;
}

bool interested(const User& u, std::string_view interest) {
  return std::find(u.interests.begin(), u.interests.end(), interest) != u.interests.end();
}

struct CohortSpec {
  std::string name;
  std::string predicate;
  std::function<bool(const User&)> matches;
};

std::vector<CohortSpec> cohort_specs() {
  return {
      {"jp", "country = 'JP'", [](const User& u) { return u.country == "JP"; }},
      {"older_br_us", "age BETWEEN 40 AND 69 AND country IN ('BR', 'US')",
       [](const User& u) {
         return u.age >= 40 && u.age <= 69 && (u.country == "BR" || u.country == "US");
       }},
      {"rock", "'rock' IN interests", [](const User& u) { return interested(u, "rock"); }},
      {"young_or_readers_not_jp", "(age < 30 OR 'books' IN interests) AND NOT country = 'JP'",
       [](const User& u) { return (u.age < 30 || interested(u, "books")) && u.country != "JP"; }},
      {"no_jazz_40plus", "NOT 'jazz' IN interests AND age >= 40",
       [](const User& u) { return !interested(u, "jazz") && u.age >= 40; }},
  };
}

using RawEvent = testing::MovieLensEvent;

Schema cohort_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kUser,
                  {.name = "age", .type = AttributeType::kInt, .filterable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "country", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kUser,
                  {.name = "interests", .type = AttributeType::kTags, .filterable = true});
  return b.build().value();
}

// The oracle of one predicate: which users are members, and a brute-force
// ledger of their events with the database's dense item indexes.
struct CohortOracle {
  CohortOracle(const Schema& schema, const CohortSpec& spec, const std::vector<std::string>& movies)
      : model(schema) {
    members.assign(kUsers + 1, false);
    for (int id = 1; id <= kUsers; ++id) {
      members[id] = spec.matches(user_of(id));
      size += members[id] ? 1 : 0;
    }
    for (const std::string& key : movies) {
      model.index_of.emplace(key, static_cast<uint32_t>(model.keys.size()));
      model.keys.push_back(key);
    }
  }
  std::vector<bool> members;  // by user id
  uint64_t size = 0;
  OracleModel model;
};

class CohortChecker {
 public:
  CohortChecker(Database& db, const Schema& schema) : db_(db), schema_(schema) {}

  QueryResult query(const std::string& tql) {
    auto r = db_.query(tql);
    EXPECT_TRUE(r.ok()) << tql << ": " << r.status().to_string();
    return r.ok() ? *r : QueryResult{};
  }

  std::vector<OracleRanked> ranked(const QueryResult& r, const OracleModel& m) {
    std::vector<OracleRanked> out;
    for (const QueryRow& row : r.rows) {
      auto it = m.index_of.find(row.key);
      out.push_back({it == m.index_of.end() ? UINT32_MAX : it->second, row.score});
    }
    return out;
  }

  // Every defined cohort (every spec under each suffix) against its oracle
  // at `now`, and every user's cohorts.
  void verify(const std::vector<CohortSpec>& specs, const std::vector<CohortOracle>& oracles,
              const std::vector<std::string>& suffixes, int64_t now, const std::string& when) {
    SCOPED_TRACE(when);
    ASSERT_EQ(to_micros(db_.now()), now);
    for (size_t i = 0; i < specs.size(); ++i) {
      for (const std::string& suffix : suffixes) {
        verify_cohort(specs[i].name + suffix, oracles[i], now);
      }
    }
    for (int id = 1; id <= kUsers; ++id) {
      std::vector<std::string> want;
      for (size_t i = 0; i < specs.size(); ++i) {
        if (!oracles[i].members[id]) continue;
        for (const std::string& suffix : suffixes) want.push_back(specs[i].name + suffix);
      }
      std::sort(want.begin(), want.end());
      auto got = db_.user_cohorts(user_key(id));
      ASSERT_TRUE(got.ok()) << got.status().to_string();
      EXPECT_EQ(*got, want) << user_key(id);
    }
  }

  void verify_cohort(const std::string& name, const CohortOracle& oracle, int64_t now) {
    SCOPED_TRACE(name);
    auto info = db_.cohort(name);
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    EXPECT_EQ(info->members, oracle.size);
    EXPECT_FALSE(info->backfilling);
    const OracleModel& m = oracle.model;
    for (const char* signal : {"like", "view"}) {
      const SignalTypeDefinition* def = schema_.find_signal(signal);
      const testing::SignalOracle& o = m.oracles[def->id];
      for (size_t w = 0; w < def->windows.size(); ++w) {
        const std::string window = std::to_string(def->windows[w].count() / 3'600'000'000) + "h";
        const std::string tql = "TRENDING items FOR COHORT " + name + " BY " + signal + " WINDOW " +
                                window + " LIMIT 20";
        std::vector<OracleRanked> want = o.top_count(w, 20, now);
        EXPECT_EQ(m.show(ranked(query(tql), m)), m.show(want)) << tql;
        trending_rows_ += want.size();
      }
      // Hot: the brute-force decayed sum over the members' events. A cohort
      // ledger lets go of scores below 1e-12 (docs/cohorts.md), so those may
      // read 0 and rank in any order.
      const std::string tql = "RANK items FOR COHORT " + name + " BY hot(" + signal + ") LIMIT 20";
      std::vector<OracleRanked> got = ranked(query(tql), m);
      std::vector<OracleRanked> want = o.top_hot(20, now);
      for (size_t k = want.size(); k < got.size(); ++k) EXPECT_LE(got[k].score, 1e-12) << tql;
      if (got.size() > want.size()) got.resize(want.size());
      EXPECT_EQ(testing::compare_hot_ranking(
                    got, want, [&](uint32_t item) { return o.hot(item, now); }, 1e-9, 1e-12),
                "")
          << tql;
      // The best few items by their own scores, relative 1e-9 (where the
      // ledger still holds them).
      for (size_t k = 0; k < std::min<size_t>(3, got.size()); ++k) {
        if (got[k].item == UINT32_MAX) continue;
        double exact = o.hot(got[k].item, now);
        if (exact < 1e-12) continue;
        ++hot_scores_;
        EXPECT_TRUE(testing::oracle_close(got[k].score, exact))
            << tql << " " << m.keys[got[k].item] << ": " << got[k].score << " vs " << exact;
      }
    }
  }

  void define(const std::vector<CohortSpec>& specs, const std::string& suffix) {
    for (const CohortSpec& s : specs) {
      auto r = db_.create_cohort(s.name + suffix, s.predicate);
      ASSERT_TRUE(r.ok()) << s.name << suffix << ": " << r.status().to_string();
    }
  }

  // After a backfill: it read every event before the definition and counted
  // those of the members.
  void verify_backfill(const std::vector<CohortSpec>& specs,
                       const std::vector<CohortOracle>& oracles, const std::string& suffix,
                       const std::vector<RawEvent>& raw, size_t applied) {
    for (size_t i = 0; i < specs.size(); ++i) {
      uint64_t counted = 0;
      for (size_t e = 0; e < applied; ++e) counted += oracles[i].members[raw[e].user] ? 1 : 0;
      auto info = db_.cohort(specs[i].name + suffix);
      ASSERT_TRUE(info.ok()) << info.status().to_string();
      EXPECT_FALSE(info->backfilling) << info->name;
      EXPECT_EQ(info->backfill_events_read, applied) << info->name;
      EXPECT_EQ(info->backfill_events_counted, counted) << info->name;
    }
  }

  // How much the checks compared: TRENDING rows with a count, decayed
  // scores checked one by one.
  size_t trending_rows() const { return trending_rows_; }
  size_t hot_scores() const { return hot_scores_; }

 private:
  Database& db_;
  const Schema& schema_;
  size_t trending_rows_ = 0;
  size_t hot_scores_ = 0;
};

TEST(CohortsMovieLens, CohortsDefinedBeforeAndAfterTheEventsMatchAnOracleFromTheFiles) {
  std::filesystem::path folder = testing::shared_data_dir() / "movielens" / "ml-latest-small";
  if (!std::filesystem::exists(folder / "ratings.csv")) {
    GTEST_SKIP() << "no MovieLens data in " << folder;
  }
  const std::vector<std::string> movies = testing::load_movielens_movies(folder);
  ASSERT_EQ(movies.size(), 9742u);
  const std::vector<RawEvent> raw = testing::load_movielens_events(folder);
  ASSERT_GT(raw.size(), 100'836u);
  // The events before time t.
  auto before = [&](int64_t t) {
    return static_cast<size_t>(std::partition_point(raw.begin(), raw.end(),
                                                    [t](const RawEvent& e) { return e.t_us < t; }) -
                               raw.begin());
  };
  const size_t split = before(kSplit);
  ASSERT_GT(split, raw.size() / 10);

  const Schema schema = cohort_schema();
  const std::vector<CohortSpec> specs = cohort_specs();
  std::vector<CohortOracle> oracles;
  for (const CohortSpec& s : specs) oracles.emplace_back(schema, s, movies);
  for (const CohortOracle& o : oracles) {
    EXPECT_GT(o.size, 20u);  // no cohort is trivially small
    EXPECT_LT(o.size, 400u);
  }

  testing::TempDir dir;
  DatabaseOptions options;
  options.historical_import = true;
  options.durability = Durability::kNone;
  options.background_checkpoints = false;
  auto opened = Database::open(dir.str(), schema, options);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(opened).value();
  CohortChecker check(*db, schema);

  std::vector<EntityWrite> users;
  for (int id = 1; id <= kUsers; ++id) users.push_back(write_of(user_of(id)));
  BatchIngestResult written = db->upsert(users, BatchMode::kAllOrNothing);
  ASSERT_EQ(written.accepted, users.size())
      << (written.errors.empty() ? "" : written.errors[0].to_string());
  std::vector<EntityWrite> items;
  for (const std::string& key : movies) items.push_back({EntityKind::kItem, key, {}});
  written = db->upsert(items, BatchMode::kAllOrNothing);
  ASSERT_EQ(written.accepted, items.size())
      << (written.errors.empty() ? "" : written.errors[0].to_string());
  check.define(specs, "_before");

  auto ingest = [&](size_t from, size_t to) {
    std::vector<SignalEvent> batch;
    for (size_t i = from; i < to; ++i) {
      const RawEvent& r = raw[i];
      SignalEvent e;
      e.item = r.item;
      e.user = user_key(r.user);
      e.signal = r.signal;
      e.timestamp = from_micros(r.t_us);
      // A user may tag a movie several times in one second: distinct shares.
      e.idempotency_key = "ml" + std::to_string(i);
      batch.push_back(std::move(e));
      for (CohortOracle& o : oracles) {
        if (o.members[r.user]) o.model.add(r.item, schema.find_signal(r.signal)->id, r.t_us, 1.0);
      }
      if (batch.size() == 1000 || i + 1 == to) {
        BatchIngestResult res = db->ingest(batch);
        ASSERT_EQ(res.rejected, 0u) << res.errors[0].to_string();
        batch.clear();
      }
    }
  };

  ASSERT_NO_FATAL_FAILURE(ingest(0, split));
  check.verify(specs, oracles, {"_before"}, raw[split - 1].t_us, "at the split");
  check.define(specs, "_mid");
  ASSERT_TRUE(db->wait_for_backfills(std::chrono::seconds(60)).ok());
  check.verify_backfill(specs, oracles, "_mid", raw, split);
  check.verify(specs, oracles, {"_before", "_mid"}, raw[split - 1].t_us,
               "at the split, after the backfill");

  size_t done = split;
  for (int64_t t : kLaterChecks) {
    const size_t to = before(t);
    ASSERT_GT(to, done);
    ASSERT_NO_FATAL_FAILURE(ingest(done, to));
    done = to;
    check.verify(specs, oracles, {"_before", "_mid"}, raw[to - 1].t_us,
                 "before " + std::to_string(t / 1'000'000));
  }

  ASSERT_NO_FATAL_FAILURE(ingest(done, raw.size()));
  EXPECT_EQ(db->stats().duplicates, 0u);
  check.verify(specs, oracles, {"_before", "_mid"}, raw.back().t_us, "at the end");
  check.define(specs, "_after");
  ASSERT_TRUE(db->wait_for_backfills(std::chrono::seconds(60)).ok());
  check.verify_backfill(specs, oracles, "_after", raw, raw.size());
  check.verify(specs, oracles, {"_before", "_mid", "_after"}, raw.back().t_us,
               "at the end, after the backfill");
  // The checks compared something: windows with events, scores above 0.
  EXPECT_GT(check.trending_rows(), 3000u);
  EXPECT_GT(check.hot_scores(), 300u);
}

}  // namespace
}  // namespace tidal
