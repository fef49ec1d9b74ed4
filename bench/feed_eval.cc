// feed_eval: the quality of FEED FOR USER on real signals — a prequential
// replay of MovieLens ml-latest-small (../shared/data/movielens) through the
// real ingest path (issue 21, docs/feeds.md).
//
// The ratings, in time order, map as ../shared/WORKLOADS.md says: every
// rating a view, a rating >= 4 a like, <= 2 a skip. Everything before the
// cut-off (the 90th-percentile timestamp) is ingested; then, for each later
// rating >= 4 in time order, `FEED FOR USER u LIMIT 10` is asked before that
// rating is ingested (seen items excluded, over every movie, no sampled
// negatives): a hit when the movie is in the list. Every later rating is
// ingested as it comes. HR@10 and NDCG@10 are reported overall and for users
// with fewer than 5 earlier ratings, beside three baselines computed here on
// the same prefix and updated the same way:
//   - popularity: ratings of all time;
//   - decayed popularity: ratings decayed with a 7-day half-life;
//   - item-kNN: Σ over the user's rated items i of cosine(i, j), the cosine
//     between the two items' sets of raters (binary).
// tidalDB runs twice: with no embeddings (the feed learns from signals
// alone), and with the genres of movies.csv as a one-hot item embedding (the
// preference-vector path).
//
//   feed_eval [--quick | --smoke] [--data=DIR] [--profile=EXPR]
//
// --profile=EXPR ranks the feeds by a profile of your own (CREATE PROFILE
// eval AS EXPR; FEED ... PROFILE eval) instead of for_you.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "support/bench_report.h"
#include "tidal/database.h"

namespace tidal::bench {
namespace {

constexpr const char* kBench = "feed_eval";
constexpr size_t kTop = 10;
constexpr int64_t kSevenDaysUs = int64_t{7} * 24 * 3600 * 1'000'000;

struct Rating {
  int user;
  uint32_t movie;  // index into Movies::keys
  double rating;
  int64_t t_us;
};

struct Movies {
  std::vector<std::string> keys;  // movie_<id>
  std::vector<std::vector<std::string>> genres;
  std::unordered_map<std::string, uint32_t> index;
};

std::vector<std::string> csv_fields(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

Movies load_movies(const std::string& dir) {
  Movies m;
  std::ifstream in(dir + "/movies.csv");
  if (!in) bench_fail(kBench, "cannot read " + dir + "/movies.csv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f = csv_fields(line);
    if (f.size() < 3) continue;
    const std::string key = "movie_" + f[0];
    m.index[key] = static_cast<uint32_t>(m.keys.size());
    m.keys.push_back(key);
    std::vector<std::string> g;
    std::string cur;
    for (char c : f.back() + "|") {
      if (c == '|') {
        if (!cur.empty() && cur != "(no genres listed)") g.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    m.genres.push_back(std::move(g));
  }
  return m;
}

std::vector<Rating> load_ratings(const std::string& dir, const Movies& m) {
  std::vector<Rating> out;
  std::ifstream in(dir + "/ratings.csv");
  if (!in) bench_fail(kBench, "cannot read " + dir + "/ratings.csv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f = csv_fields(line);
    if (f.size() != 4) continue;
    auto it = m.index.find("movie_" + f[1]);
    if (it == m.index.end()) continue;
    out.push_back({std::stoi(f[0]), it->second, std::stod(f[2]), std::stoll(f[3]) * 1'000'000});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Rating& a, const Rating& b) { return a.t_us < b.t_us; });
  return out;
}

std::string user_key(int u) {
  return "user_" + std::to_string(u);
}

// Hit rate and NDCG@10 over a set of test events.
struct Score {
  double hits = 0, ndcg = 0;
  size_t n = 0;
  void add(int rank) {  // rank from 0, or -1 for a miss
    ++n;
    if (rank >= 0) {
      hits += 1;
      ndcg += 1.0 / std::log2(rank + 2.0);
    }
  }
  double hr() const { return n ? hits / static_cast<double>(n) : 0; }
  double nd() const { return n ? ndcg / static_cast<double>(n) : 0; }
};

struct Scores {
  Score all, cold;  // cold: users with fewer than 5 earlier ratings
};

// The baselines, over dense movie indexes.
class Baselines {
 public:
  explicit Baselines(size_t movies)
      : n_(movies),
        count_(movies, 0),
        decayed_(movies, 0),
        last_(movies, INT64_MIN),
        co_(movies * movies, 0) {}

  void add(const Rating& r, std::vector<uint32_t>& history) {
    const uint32_t j = r.movie;
    ++count_[j];
    decayed_[j] = decayed_at(j, r.t_us) + 1;
    last_[j] = r.t_us;
    for (uint32_t i : history) {
      if (i == j) continue;
      ++co_[static_cast<size_t>(i) * n_ + j];
      ++co_[static_cast<size_t>(j) * n_ + i];
    }
  }

  // The rank of `target` in each baseline's top 10 for a user who rated
  // `seen` (excluded), at time t_us.
  void rank(uint32_t target, const std::vector<uint32_t>& history, const std::vector<bool>& seen,
            int64_t t_us, int* pop, int* dec, int* knn) {
    std::vector<double> s(n_);
    for (size_t j = 0; j < n_; ++j) s[j] = count_[j];
    *pop = rank_of(s, seen, target);
    for (size_t j = 0; j < n_; ++j) s[j] = decayed_at(static_cast<uint32_t>(j), t_us);
    *dec = rank_of(s, seen, target);
    std::fill(s.begin(), s.end(), 0.0);
    for (uint32_t i : history) {
      if (count_[i] == 0) continue;
      const double wi = 1.0 / std::sqrt(static_cast<double>(count_[i]));
      const uint16_t* row = &co_[static_cast<size_t>(i) * n_];
      for (size_t j = 0; j < n_; ++j) s[j] += row[j] * wi;
    }
    for (size_t j = 0; j < n_; ++j) {
      s[j] = count_[j] ? s[j] / std::sqrt(static_cast<double>(count_[j])) : 0;
    }
    *knn = rank_of(s, seen, target);
  }

 private:
  double decayed_at(uint32_t j, int64_t t_us) const {
    if (last_[j] == INT64_MIN) return 0;
    return decayed_[j] *
           std::exp2(-static_cast<double>(std::max<int64_t>(0, t_us - last_[j])) / kSevenDaysUs);
  }
  // The 0-based rank of `target` among the unseen items by score (ties by
  // index), or -1 when it is not in the top 10.
  int rank_of(const std::vector<double>& s, const std::vector<bool>& seen, uint32_t target) const {
    int better = 0;
    const double st = s[target];
    for (size_t j = 0; j < n_ && better < static_cast<int>(kTop); ++j) {
      if (j == target || seen[j]) continue;
      if (s[j] > st || (s[j] == st && j < target)) ++better;
    }
    return better < static_cast<int>(kTop) ? better : -1;
  }

  size_t n_;
  std::vector<uint32_t> count_;
  std::vector<double> decayed_;
  std::vector<int64_t> last_;
  std::vector<uint16_t> co_;  // co_[i·n + j]: users who rated both (at most 65535 users here)
};

void add_events(const Rating& r, const Movies& m, std::vector<SignalEvent>* out) {
  auto push = [&](const char* signal) {
    SignalEvent e;
    e.item = m.keys[r.movie];
    e.user = user_key(r.user);
    e.signal = signal;
    e.timestamp = from_micros(r.t_us);
    out->push_back(std::move(e));
  };
  push("view");
  if (r.rating >= 4) push("like");
  if (r.rating <= 2) push("skip");
}

struct Run {
  std::string name;
  Scores scores;
  double ingest_s = 0;
  double query_p50_ms = 0, query_p99_ms = 0;
};

// One tidalDB run over the ratings; `genre_vectors` fills an item embedding
// with the movie's genres, one-hot.
Run run_tidal(const std::string& folder, const Movies& m, const std::vector<Rating>& ratings,
              size_t cut, size_t max_tests, bool genre_vectors, const std::string& profile) {
  Run run;
  run.name = genre_vectors ? "tidal_genres" : "tidal";
  std::map<std::string, uint32_t> genre_index;
  for (const auto& g : m.genres) {
    for (const std::string& x : g) genre_index.emplace(x, 0);
  }
  uint32_t next = 0;
  for (auto& [name, index] : genre_index) index = next++;
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  if (genre_vectors) {
    b.add_attribute(EntityKind::kItem, {.name = "genres",
                                        .type = AttributeType::kVector,
                                        .vector_dim = static_cast<uint32_t>(genre_index.size())});
  }
  Result<Schema> schema = b.build();
  if (!schema.ok()) bench_fail(kBench, schema.status().to_string());
  std::filesystem::remove_all(folder);
  DatabaseOptions o;
  o.durability = Durability::kNone;
  o.historical_import = true;
  o.background_checkpoints = false;
  auto opened = Database::open(folder, *schema, o);
  if (!opened.ok()) bench_fail(kBench, opened.status().to_string(), folder);
  std::unique_ptr<Database> db = std::move(opened).value();

  // The catalog: every movie, before any rating.
  std::vector<EntityWrite> items;
  for (size_t i = 0; i < m.keys.size(); ++i) {
    EntityWrite w{EntityKind::kItem, m.keys[i], {}};
    if (genre_vectors && !m.genres[i].empty()) {
      std::vector<float> v(genre_index.size(), 0.0f);
      for (const std::string& g : m.genres[i]) v[genre_index[g]] = 1.0f;
      w.attributes.push_back({"genres", std::move(v)});
    }
    items.push_back(std::move(w));
  }
  BatchIngestResult up = db->upsert(items, BatchMode::kApplyValid);
  if (up.accepted != items.size()) bench_fail(kBench, "catalog upsert refused", folder);
  std::string feed_profile;
  if (!profile.empty()) {
    Result<QueryResult> created = db->query("CREATE PROFILE eval AS " + profile);
    if (!created.ok()) bench_fail(kBench, "--profile: " + created.status().to_string(), folder);
    feed_profile = " PROFILE eval";
  }

  const double t0 = now_seconds();
  std::vector<SignalEvent> batch;
  for (size_t i = 0; i < cut; ++i) {
    add_events(ratings[i], m, &batch);
    if (batch.size() >= 20000 || i + 1 == cut) {
      BatchIngestResult r = db->ingest(batch, BatchMode::kApplyValid);
      if (r.accepted != batch.size()) {
        bench_fail(kBench, "ingest refused events", folder);
      }
      batch.clear();
    }
  }
  run.ingest_s = now_seconds() - t0;

  std::unordered_map<int, size_t> prior;
  for (size_t i = 0; i < cut; ++i) ++prior[ratings[i].user];
  std::vector<double> latencies;
  size_t tests = 0;
  for (size_t i = cut; i < ratings.size(); ++i) {
    const Rating& r = ratings[i];
    if (r.rating >= 4 && tests < max_tests) {
      ++tests;
      const double q0 = now_seconds();
      Result<QueryResult> feed = db->query("FEED FOR USER '" + user_key(r.user) + "'" +
                                           feed_profile + " LIMIT " + std::to_string(kTop));
      latencies.push_back((now_seconds() - q0) * 1e3);
      if (!feed.ok()) bench_fail(kBench, feed.status().to_string(), folder);
      int rank = -1;
      for (size_t k = 0; k < feed->rows.size(); ++k) {
        if (feed->rows[k].key == m.keys[r.movie]) rank = static_cast<int>(k);
      }
      run.scores.all.add(rank);
      if (prior[r.user] < 5) run.scores.cold.add(rank);
    }
    batch.clear();
    add_events(r, m, &batch);
    BatchIngestResult in = db->ingest(batch, BatchMode::kApplyValid);
    if (in.accepted != batch.size()) {
      bench_fail(kBench, "ingest refused a test event", folder);
    }
    ++prior[r.user];
  }
  run.query_p50_ms = percentile(latencies, 50);
  run.query_p99_ms = percentile(latencies, 99);
  (void)db->close();
  db.reset();
  std::filesystem::remove_all(folder);
  return run;
}

std::vector<Run> run_baselines(const Movies& m, const std::vector<Rating>& ratings, size_t cut,
                               size_t max_tests) {
  Baselines b(m.keys.size());
  std::unordered_map<int, std::vector<uint32_t>> history;
  std::unordered_map<int, std::vector<bool>> seen;
  std::unordered_map<int, size_t> prior;  // ratings so far, by user
  auto add = [&](const Rating& r) {
    ++prior[r.user];
    std::vector<uint32_t>& h = history[r.user];
    std::vector<bool>& s = seen[r.user];
    if (s.empty()) s.assign(m.keys.size(), false);
    b.add(r, h);
    if (!s[r.movie]) h.push_back(r.movie);
    s[r.movie] = true;
  };
  for (size_t i = 0; i < cut; ++i) add(ratings[i]);
  std::vector<Run> runs(3);
  runs[0].name = "popularity";
  runs[1].name = "decayed_popularity";
  runs[2].name = "item_knn";
  size_t tests = 0;
  for (size_t i = cut; i < ratings.size(); ++i) {
    const Rating& r = ratings[i];
    if (r.rating >= 4 && tests < max_tests) {
      ++tests;
      std::vector<bool>& s = seen[r.user];
      if (s.empty()) s.assign(m.keys.size(), false);
      int pop, dec, knn;
      if (s[r.movie]) {
        pop = dec = knn = -1;  // a re-rating of a seen movie: no feed shows it
      } else {
        b.rank(r.movie, history[r.user], s, r.t_us, &pop, &dec, &knn);
      }
      const bool cold = prior[r.user] < 5;
      for (auto [run, rank] : {std::pair{&runs[0], pop}, {&runs[1], dec}, {&runs[2], knn}}) {
        run->scores.all.add(rank);
        if (cold) run->scores.cold.add(rank);
      }
    }
    add(r);
  }
  return runs;
}

int run(int argc, char** argv) {
  BenchArgs args = parse_bench_args(
      argc, argv,
      "feed_eval [--quick | --smoke] [--data=DIR] [--profile=EXPR]: FEED quality on MovieLens");
  const std::string dir = take_flag(
      &args.rest, "--data=", std::string(TIDAL_SHARED_DATA_DIR) + "/movielens/ml-latest-small");
  Movies movies = load_movies(dir);
  std::vector<Rating> ratings = load_ratings(dir, movies);
  // --smoke: the first 15,000 ratings; the test events are capped in
  // --quick and --smoke.
  ratings.resize(
      std::min(ratings.size(), args.sized<size_t>(ratings.size(), ratings.size(), 15000)));
  const std::string profile = take_flag(&args.rest, "--profile=", "");
  const size_t max_tests = args.sized<size_t>(SIZE_MAX, 1500, 100);
  const size_t cut = ratings.size() * 9 / 10;
  const std::string folder = bench_folder(args, kBench);

  std::printf("feed_eval%s: %zu ratings of %zu movies, %zu before the cut-off, load %.2f\n",
              args.mode_flag(), ratings.size(), movies.keys.size(), cut, host_load());
  std::vector<Run> runs = run_baselines(movies, ratings, cut, max_tests);
  runs.push_back(run_tidal(folder + "/plain", movies, ratings, cut, max_tests, false, profile));
  runs.push_back(run_tidal(folder + "/genres", movies, ratings, cut, max_tests, true, profile));
  std::filesystem::remove_all(folder);

  BenchReport report(kBench);
  for (const Run& r : runs) {
    report.add(r.name + "_hr10", r.scores.all.hr(), "ratio",
               std::to_string(r.scores.all.n) + " test events");
    report.add(r.name + "_ndcg10", r.scores.all.nd(), "ratio");
    report.add(r.name + "_cold_hr10", r.scores.cold.hr(), "ratio",
               std::to_string(r.scores.cold.n) + " events of users with < 5 earlier ratings");
    report.add(r.name + "_cold_ndcg10", r.scores.cold.nd(), "ratio");
    if (r.name.starts_with("tidal")) {
      report.add(r.name + "_feed_p50", r.query_p50_ms, "ms");
      report.add(r.name + "_feed_p99", r.query_p99_ms, "ms");
    }
  }
  const Run& pop = runs[0];
  const Run& dec = runs[1];
  const Run& knn = runs[2];
  const Run& tidal = runs[3];
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0; };
  const double vs_knn = ratio(tidal.scores.all.hr(), knn.scores.all.hr());
  const double vs_pop = ratio(tidal.scores.all.hr(), pop.scores.all.hr());
  const double cold_vs_dec = ratio(tidal.scores.cold.hr(), dec.scores.cold.hr());
  report.add("hr10_vs_item_knn", vs_knn, "x", meets(vs_knn >= 1.2, ">= 1.2x"));
  report.add("hr10_vs_popularity", vs_pop, "x", meets(vs_pop >= 2.0, ">= 2x"));
  report.add("cold_hr10_vs_decayed_popularity", cold_vs_dec, "x",
             meets(cold_vs_dec >= 1.0, ">= 1x"));
  report.print();
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run(argc, argv);
}
