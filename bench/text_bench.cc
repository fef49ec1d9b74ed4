// text_bench: full-text indexing and search speed of tidalDB beside Xapian
// (support/xapian_search.h: the same analysis and BM25 parameters), on the
// same documents and queries in one run.
//
// Corpora:
//   (i)  BEIR SciFact: 5,183 abstracts, flat (title + " " + text).
//   (ii) synthetic: N documents (full 1,000,000; --quick 10,000; --docs=N) drawn from
//        SciFact's unigram distribution and document lengths
//        (support/synthetic_text.h), fixed seed.
// Queries: SciFact's 300 judged test queries, bag-of-words, top 10.
//
// Per engine and corpus:
//   build      documents/s. tidalDB: Database::upsert of batches of 1,000
//              (attribute `contents`, stemmer english, English stop words,
//              k1 0.9, b 0.4), default durability (fsync), background
//              checkpoints off, the time inside the upsert calls until the
//              last batch is acknowledged. Xapian: add_document for every
//              document, then commit(). Making the documents is not timed.
//   queries    every query once untimed (warm), then `rounds` timed rounds:
//              p50 / p99 latency of one query, and single-thread QPS.
//   memory     the process's VmRSS after each engine's build, and its growth
//              during the build. tidalDB runs first (its index is in memory,
//              Xapian's on disk), and is closed before Xapian's build.
// And for tidalDB on the synthetic corpus:
//   (iii) start-up: checkpoint, close, and the time until Database::open
//         returns (the index is rebuilt) — in a new process, as a restart,
//         and again in this one; the top 10 of every query compared with the
//         answers before the close.
//   (iv)  real-time visibility: 200 times, upsert one new document holding a
//         unique made-up word (fsync), then at once SEARCH for that word:
//         the upsert's ack latency, how many of the 200 the first query found,
//         and the time from the ack until a query returned the document.
//
//   text_bench [--quick | --smoke] [--docs=<n>] [--tidal-only] [--data=<beir/scifact folder>] [work
//   folder]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/beir.h"
#include "support/bench_report.h"
#include "support/synthetic_text.h"
#include "support/tidal_search.h"
#include "support/xapian_search.h"

namespace tidal::bench {
namespace {

constexpr const char* kBench = "text_bench";
constexpr uint64_t kSeed = 20261124;
constexpr size_t kTopK = 10;
// Synthetic corpus sizes. Xapian indexes ~1,000 of these documents/s on the
// project's machine (less when the machine is busy), so --quick stays at
// 10,000 to finish in well under a minute.
constexpr size_t kFullDocs = 1'000'000;
constexpr size_t kQuickDocs = 10'000;
constexpr size_t kSmokeDocs = 1'000;
constexpr size_t kVisibilityProbes = 200;
constexpr double kVisibilityWaitSeconds = 2;

std::string g_work;  // removed on every exit

[[noreturn]] void die(const std::string& what) {
  bench_fail(kBench, what, g_work);
}

// What one engine did on one corpus.
struct EngineSpeed {
  double build_docs_per_s = 0;
  double rss_after_build_mib = 0;
  double rss_growth_mib = 0;  // during the build: what the engine holds in memory, roughly
  bool queried = false;       // false: queries failed (error says why)
  std::string error;
  double p50_us = 0, p99_us = 0, qps = 0;
  double mean_hits = 0;  // results per query
};

// One search: the ranking, or why it failed.
using Searcher = std::function<Result<std::vector<ScoredDoc>>(const BeirQuery&)>;

// Runs every query once (warm), then `rounds` timed rounds. Fails on the
// first failing query.
Status time_query_rounds(const std::vector<BeirQuery>& queries, int rounds, const Searcher& search,
                         EngineSpeed* out) {
  size_t hits = 0;
  for (const BeirQuery& q : queries) {
    Result<std::vector<ScoredDoc>> r = search(q);
    if (!r.ok()) return r.status().with_context("query " + q.id);
    hits += r->size();
  }
  std::vector<double> us;
  us.reserve(queries.size() * static_cast<size_t>(rounds));
  double start = now_seconds();
  for (int round = 0; round < rounds; ++round) {
    for (const BeirQuery& q : queries) {
      double t0 = now_seconds();
      Result<std::vector<ScoredDoc>> r = search(q);
      us.push_back((now_seconds() - t0) * 1e6);
      if (!r.ok()) return r.status().with_context("query " + q.id);
    }
  }
  double elapsed = now_seconds() - start;
  out->queried = true;
  out->p50_us = percentile(us, 50);
  out->p99_us = percentile(us, 99);
  out->qps = static_cast<double>(us.size()) / elapsed;
  out->mean_hits = static_cast<double>(hits) / static_cast<double>(queries.size());
  return Status::Ok();
}

// The top 10 of every query, by query id, for comparing answers.
std::map<std::string, std::vector<std::string>> answers(Database& db,
                                                        const std::vector<BeirQuery>& queries) {
  std::map<std::string, std::vector<std::string>> out;
  for (const BeirQuery& q : queries) {
    Result<std::vector<ScoredDoc>> r = run_search(db, search_tql(q.text, kTopK));
    if (!r.ok()) continue;
    for (const ScoredDoc& d : *r) out[q.id].push_back(d.id);
  }
  return out;
}

struct Corpus {
  std::string name;  // metric prefix: scifact, synthetic
  size_t size = 0;
  DocumentSource source;
};

EngineSpeed run_xapian(const Corpus& corpus, const std::vector<BeirQuery>& queries, int rounds,
                       const std::string& folder) {
  EngineSpeed speed;
  const double rss_before = rss_mib();
  Result<std::unique_ptr<XapianTextIndex>> index = XapianTextIndex::create(folder);
  if (!index.ok()) die(index.status().to_string());
  Result<double> seconds = (*index)->add_all(corpus.size, corpus.source);
  if (!seconds.ok()) die(seconds.status().to_string());
  speed.build_docs_per_s = static_cast<double>(corpus.size) / *seconds;
  speed.rss_after_build_mib = rss_mib();
  speed.rss_growth_mib = speed.rss_after_build_mib - rss_before;
  std::printf("  xapian: built %zu documents in %.1f s; VmRSS %.0f MiB\n", corpus.size, *seconds,
              speed.rss_after_build_mib);
  Status s = time_query_rounds(
      queries, rounds, [&](const BeirQuery& q) { return (*index)->search(q.text, kTopK); }, &speed);
  if (!s.ok()) die(s.to_string());
  return speed;
}

// Builds tidalDB's index of `corpus` in `folder` and times the queries;
// returns the open database in *db (null when it could not be built).
EngineSpeed run_tidal(const Corpus& corpus, const std::vector<BeirQuery>& queries, int rounds,
                      const std::string& folder, std::unique_ptr<Database>* db) {
  EngineSpeed speed;
  const double rss_before = rss_mib();
  Result<std::unique_ptr<Database>> opened =
      open_text_database(folder, TextLayout::kFlat, beir_text_options());
  if (!opened.ok()) die("tidal open: " + opened.status().to_string());
  *db = std::move(*opened);
  Result<double> seconds = upsert_documents(**db, TextLayout::kFlat, corpus.size, corpus.source);
  if (!seconds.ok()) die("tidal upsert: " + seconds.status().to_string());
  speed.build_docs_per_s = static_cast<double>(corpus.size) / *seconds;
  speed.rss_after_build_mib = rss_mib();
  speed.rss_growth_mib = speed.rss_after_build_mib - rss_before;
  std::printf("  tidal: built %zu documents in %.1f s; VmRSS %.0f MiB\n", corpus.size, *seconds,
              speed.rss_after_build_mib);
  Status s = time_query_rounds(
      queries, rounds,
      [&](const BeirQuery& q) { return run_search(**db, search_tql(q.text, kTopK)); }, &speed);
  if (!s.ok()) {
    speed.error = s.to_string();
    std::printf("  tidal: SEARCH not available: %s\n", speed.error.c_str());
  }
  return speed;
}

// tidalDB's figures alone (--tidal-only).
void report_tidal(BenchReport& report, const std::string& prefix, const EngineSpeed& tidal) {
  report.add(prefix + "_tidal_build", tidal.build_docs_per_s, "docs/s", "upserts of 1,000, fsync");
  report.add(prefix + "_tidal_rss", tidal.rss_after_build_mib, "MiB", "VmRSS after tidal build");
  if (!tidal.queried) return;
  report.add(prefix + "_tidal_top10_p50", tidal.p50_us, "us");
  report.add(prefix + "_tidal_top10_p99", tidal.p99_us, "us");
  report.add(prefix + "_tidal_qps", tidal.qps, "q/s", "1 thread");
}

void report_pair(BenchReport& report, const std::string& prefix, const EngineSpeed& tidal,
                 const EngineSpeed& xapian) {
  report_tidal(report, prefix, tidal);
  report.add(prefix + "_xapian_build", xapian.build_docs_per_s, "docs/s", "add_document + commit");
  report.add(prefix + "_build_ratio", tidal.build_docs_per_s / xapian.build_docs_per_s, "ratio",
             "tidal / Xapian");
  report.add(prefix + "_xapian_rss", xapian.rss_after_build_mib, "MiB", "VmRSS after Xapian build");
  report.add(prefix + "_tidal_rss_growth", tidal.rss_growth_mib, "MiB",
             "during tidal's build (memory the allocator kept from before hides some)");
  report.add(prefix + "_xapian_rss_growth", xapian.rss_growth_mib, "MiB",
             "during Xapian's build (its index is on disk)");
  report.add(prefix + "_xapian_top10_p50", xapian.p50_us, "us");
  report.add(prefix + "_xapian_top10_p99", xapian.p99_us, "us");
  report.add(prefix + "_xapian_qps", xapian.qps, "q/s", "1 thread");
  if (!tidal.queried) return;
  report.add(prefix + "_p50_ratio", tidal.p50_us / xapian.p50_us, "ratio",
             "tidal / Xapian (lower is faster)");
  report.add(prefix + "_p99_ratio", tidal.p99_us / xapian.p99_us, "ratio",
             "tidal / Xapian (lower is faster)");
  report.add(prefix + "_qps_ratio", tidal.qps / xapian.qps, "ratio",
             "tidal / Xapian (higher is faster)");
  if (tidal.mean_hits != xapian.mean_hits) {
    std::printf("  note: mean results per query differ: tidal %.2f, Xapian %.2f\n", tidal.mean_hits,
                xapian.mean_hits);
  }
}

// (iii) checkpoint, close, reopen; compares the answers after with before.
void startup(std::unique_ptr<Database>* db, const std::string& folder,
             const std::vector<BeirQuery>& queries, bool searchable, BenchReport& report) {
  auto before =
      searchable ? answers(**db, queries) : std::map<std::string, std::vector<std::string>>{};
  double t0 = now_seconds();
  Status s = (*db)->checkpoint();
  if (!s.ok()) die("checkpoint: " + s.to_string());
  double checkpoint_s = now_seconds() - t0;
  t0 = now_seconds();
  db->reset();
  double close_s = now_seconds() - t0;
  // A restart: a new process opens the folder (this one's allocator still
  // holds the closed database's memory, which a real restart does not).
  double fresh_s = -1;
  const std::string child = run_this_program("--open-only=" + folder);
  if (const size_t at = child.find("open-only: "); at != std::string::npos) {
    fresh_s = std::strtod(child.c_str() + at + 11, nullptr);
  }
  if (fresh_s < 0) die("the start-up child process did not report its time: " + child);
  t0 = now_seconds();
  Result<std::unique_ptr<Database>> opened =
      open_text_database(folder, TextLayout::kFlat, beir_text_options());
  double open_s = now_seconds() - t0;
  if (!opened.ok()) die("reopen: " + opened.status().to_string());
  *db = std::move(*opened);
  std::printf(
      "  tidal: checkpoint %.2f s, close %.2f s, open in a new process %.2f s, reopen in this "
      "one %.2f s; VmRSS %.0f MiB\n",
      checkpoint_s, close_s, fresh_s, open_s, rss_mib());
  report.add("startup_checkpoint", checkpoint_s, "s");
  report.add("startup_open_new_process", fresh_s, "s",
             "a restart: Database::open in a new process (index rebuilt)");
  report.add("startup_reopen", open_s, "s", "Database::open again in this process");
  if (searchable) {
    auto after = answers(**db, queries);
    size_t same = 0;
    for (const auto& [q, top] : before) same += after[q] == top ? 1 : 0;
    report.add("startup_same_answers", static_cast<double>(same), "queries",
               "top 10 equal before and after, of " + std::to_string(queries.size()));
  }
}

// A word no corpus holds: "zq" and 5 consonants spelling n (stemmers leave
// a consonant ending alone).
std::string made_up_word(size_t n) {
  static const char kConsonants[] = "bcdfghjklmnp";  // 12
  std::string word = "zq";
  for (int k = 0; k < 5; ++k) {
    word += kConsonants[n % 12];
    n /= 12;
  }
  return word;
}

// (iv) real-time visibility.
void visibility(Database& db, const Corpus& corpus, BenchReport& report) {
  std::vector<double> ack_us, visible_us;
  size_t seen_at_once = 0, seen_at_all = 0;
  bool searchable = true;  // false after the first failing SEARCH
  BeirDocument doc;
  for (size_t i = 0; i < kVisibilityProbes; ++i) {
    corpus.source(i, &doc);
    const std::string word = made_up_word(i);
    doc.id = "realtime-" + std::to_string(i);
    doc.text += " " + word;
    EntityWrite write = text_write(doc, TextLayout::kFlat);
    double t0 = now_seconds();
    Result<uint64_t> seq = db.upsert(write);
    double acked = now_seconds();
    if (!seq.ok()) die("upsert " + doc.id + ": " + seq.status().to_string());
    ack_us.push_back((acked - t0) * 1e6);
    const std::string tql = "SEARCH items QUERY " + tql_string(word) + " LIMIT 1";
    for (bool first = true; searchable; first = false) {
      Result<std::vector<ScoredDoc>> r = run_search(db, tql);
      if (!r.ok()) {
        std::printf("  tidal: SEARCH not available: %s\n", r.status().to_string().c_str());
        searchable = false;
        break;
      }
      if (!r->empty() && (*r)[0].id == doc.id) {
        visible_us.push_back((now_seconds() - acked) * 1e6);
        seen_at_once += first ? 1 : 0;
        ++seen_at_all;
        break;
      }
      if (now_seconds() - acked > kVisibilityWaitSeconds) break;
    }
  }
  report.add("realtime_upsert_ack_p50", percentile(ack_us, 50), "us", "one document, fsync");
  report.add("realtime_upsert_ack_p99", percentile(ack_us, 99), "us");
  if (!searchable) return;
  report.add("realtime_visible_first_query", static_cast<double>(seen_at_once), "docs",
             meets(seen_at_once == kVisibilityProbes, "200/200"));
  report.add("realtime_visible_within_2s", static_cast<double>(seen_at_all), "docs");
  if (!visible_us.empty()) {
    report.add("realtime_ack_to_visible_p50", percentile(visible_us, 50), "us",
               "ack until a query returned it");
    report.add("realtime_ack_to_visible_p99", percentile(visible_us, 99), "us");
  }
}

// --open-only=DIR: opens the database in DIR, prints how long that took,
// and exits (the start-up measurement's new process).
int open_only(const std::string& folder) {
  const double t0 = now_seconds();
  Result<std::unique_ptr<Database>> db =
      open_text_database(folder, TextLayout::kFlat, beir_text_options());
  const double seconds = now_seconds() - t0;
  if (!db.ok()) {
    std::printf("open-only failed: %s\n", db.status().to_string().c_str());
    return 1;
  }
  std::printf("open-only: %.3f\n", seconds);
  return 0;
}

int run(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]).starts_with("--open-only=")) {
    return open_only(std::string(argv[1] + 12));
  }
  BenchArgs args = parse_bench_args(
      argc, argv,
      "text_bench [--quick | --smoke] [--docs=<n>] [--tidal-only] [--data=<beir/scifact folder>] "
      "[work "
      "folder]\n"
      "Text indexing and top-10 search speed of tidalDB beside Xapian: SciFact and a synthetic "
      "corpus (full 1,000,000 documents, --quick 10,000, or --docs).");
  const std::string data_dir = take_data_flag(&args.rest);
  const size_t synthetic_docs =
      take_count_flag(&args.rest, "--docs=", args.sized(kFullDocs, kQuickDocs, kSmokeDocs), kBench);
  // --tidal-only: skip the Xapian runs (for scale runs of tidalDB alone; no ratios).
  const bool tidal_only = std::erase(args.rest, std::string("--tidal-only")) > 0;
  const int scifact_rounds = args.sized(10, 3, 1);
  const int synthetic_rounds = args.sized(3, 2, 1);

  Result<BeirDataset> loaded = load_beir(data_dir);
  if (!loaded.ok()) die("loading " + data_dir + ": " + loaded.status().to_string());
  const BeirDataset& data = *loaded;
  g_work = bench_folder(args, "text-bench");
  std::printf(
      "%s (%s): %zu queries (SciFact test, bag-of-words), top %zu; load %.1f; VmRSS %.0f "
      "MiB\n",
      kBench, args.quick ? "quick" : "full", data.queries.size(), kTopK, host_load(), rss_mib());
  BenchReport report(kBench);

  // (i) SciFact
  Corpus scifact{"scifact", data.documents.size(),
                 [&](size_t i, BeirDocument* doc) { *doc = data.documents[i]; }};
  std::printf("\n(i) SciFact: %zu documents, %d timed rounds of the queries\n", scifact.size,
              scifact_rounds);
  // tidalDB first: its index is in memory, so its RSS growth is what it
  // holds; Xapian's is on disk (growth: its buffers and caches).
  std::unique_ptr<Database> db;
  EngineSpeed tidal =
      run_tidal(scifact, data.queries, scifact_rounds, g_work + "/tidal-scifact", &db);
  db.reset();
  std::filesystem::remove_all(g_work + "/tidal-scifact");
  EngineSpeed xapian;
  if (tidal_only) {
    report_tidal(report, "scifact", tidal);
  } else {
    xapian = run_xapian(scifact, data.queries, scifact_rounds, g_work + "/xapian-scifact");
    std::filesystem::remove_all(g_work + "/xapian-scifact");
    report_pair(report, "scifact", tidal, xapian);
  }

  // (ii) synthetic
  SyntheticCorpus synthetic(data.documents, kSeed);
  Corpus generated{"synthetic", synthetic_docs,
                   [&](size_t i, BeirDocument* doc) { synthetic.document(i, doc); }};
  std::printf(
      "\n(ii) SYNTHETIC corpus: %zu documents generated (seed %llu) from SciFact's statistics: "
      "words drawn independently from its unigram distribution (%zu words; split on "
      "non-alphanumerics, lowercased), lengths drawn from its %zu documents' lengths (mean %.1f "
      "words). %d timed rounds of the queries.\n",
      synthetic_docs, static_cast<unsigned long long>(kSeed), synthetic.vocabulary(),
      data.documents.size(), synthetic.mean_length(), synthetic_rounds);
  const std::string tidal_folder = g_work + "/tidal-synthetic";
  tidal = run_tidal(generated, data.queries, synthetic_rounds, tidal_folder, &db);

  // (iii), (iv)
  std::printf("  (iii) start-up and (iv) real-time visibility, tidal\n");
  startup(&db, tidal_folder, data.queries, tidal.queried, report);
  visibility(*db, generated, report);
  db.reset();
  std::filesystem::remove_all(tidal_folder);
  std::printf("  after closing tidal: VmRSS %.0f MiB\n", rss_mib());

  if (tidal_only) {
    report_tidal(report, "synthetic", tidal);
  } else {
    xapian = run_xapian(generated, data.queries, synthetic_rounds, g_work + "/xapian-synthetic");
    std::filesystem::remove_all(g_work + "/xapian-synthetic");
    report_pair(report, "synthetic", tidal, xapian);
  }

  report.print();
  std::filesystem::remove_all(g_work);
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run(argc, argv);
}
