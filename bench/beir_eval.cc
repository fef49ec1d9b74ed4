// beir_eval: retrieval quality of tidalDB's BM25 on BEIR SciFact (5,183
// abstracts, the 300 judged test queries), against the published BM25
// references (data/beir/REFERENCE_SCORES.md) and against Xapian set up to
// analyze and score the same way (support/xapian_search.h), in one run.
//
// Configurations (every one k1 = 0.9, b = 0.4, English stop words):
//   (a) tidal flat           one text attribute `contents` = title + " " +
//                            text, stemmer "english" (Porter2)
//   (b) tidal flat porter    the same with stemmer "porter" (classic Porter,
//                            Lucene's and so Anserini's)
//   (c) tidal multifield     attributes `title` and `text`, searched
//                            together: SEARCH ... IN (title, text)
//   (d) xapian flat          title + " " + text as one field, Porter2
// Every query is made bag-of-words (support/beir.h: bag_of_words) and asks
// for the top 100; nDCG@10 and R@100 are trec_eval's (support/ir_metrics.h).
//
// Exit status 0 whatever the scores (a measurement), 1 when the data cannot
// be read or the peer fails.
//
//   beir_eval [--quick | --smoke] [--data=<folder with corpus.jsonl>] [--trec-runs=<folder>] [work
//   folder]
//   (--trec-runs writes each configuration's rankings as TREC run files)
//   (--quick changes nothing: SciFact is small; it is accepted like every bench's)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/beir.h"
#include "support/bench_report.h"
#include "support/ir_metrics.h"
#include "support/tidal_search.h"
#include "support/xapian_search.h"

namespace tidal::bench {
namespace {

constexpr const char* kBench = "beir_eval";
constexpr size_t kDepth = 100;  // results per query: R@100 needs them

// The published figures this run is read against (REFERENCE_SCORES.md).
constexpr double kBeirElasticsearch = 0.665;
constexpr double kAnseriniFlat = 0.6789;
constexpr double kAnseriniFlatRecall100 = 0.9253;
constexpr double kAnseriniMultifield = 0.6647;
constexpr double kAnseriniMultifieldRecall100 = 0.9076;

std::string g_work;  // removed on every exit

[[noreturn]] void die(const std::string& what) {
  bench_fail(kBench, what, g_work);
}

struct Outcome {
  std::string name;                        // metric stem, e.g. tidal_flat
  std::string what;                        // for the table
  std::optional<Effectiveness> quality{};  // empty: did not run
  double build_s = 0;
  double query_s = 0;
  std::string error{};  // why it did not run
  std::map<std::string, std::vector<ScoredDoc>> runs{};
};

struct TidalConfig {
  std::string name;
  std::string what;
  TextLayout layout;
  std::string stemmer;
  std::string fields;  // the IN clause, or "" for every text attribute
};

Outcome run_tidal(const TidalConfig& config, const BeirDataset& data, const std::string& folder) {
  Outcome out{.name = config.name, .what = config.what};
  Result<std::unique_ptr<Database>> db =
      open_text_database(folder, config.layout, beir_text_options(config.stemmer));
  if (!db.ok()) {
    out.error = "open: " + db.status().to_string();
    return out;
  }
  Result<double> built =
      upsert_documents(**db, config.layout, data.documents.size(),
                       [&](size_t i, BeirDocument* doc) { *doc = data.documents[i]; });
  if (!built.ok()) {
    out.error = "upsert: " + built.status().to_string();
    return out;
  }
  out.build_s = *built;
  auto runs = search_all(**db, data.queries, kDepth, config.fields, &out.query_s);
  if (!runs.ok()) {
    out.error = "SEARCH not available: " + runs.status().to_string();
    return out;
  }
  out.runs = std::move(*runs);
  out.quality = evaluate_runs(data.qrels, out.runs);
  return out;
}

Outcome run_xapian(const BeirDataset& data, const std::string& folder) {
  Outcome out{.name = "xapian_flat", .what = "Xapian 1.4 flat, Porter2, BM25(0.9, 0, 1, 0.4, 0.5)"};
  Result<std::unique_ptr<XapianTextIndex>> index = XapianTextIndex::create(folder);
  if (!index.ok()) die(index.status().to_string());
  Result<double> built = (*index)->add_all(
      data.documents.size(), [&](size_t i, BeirDocument* doc) { *doc = data.documents[i]; });
  if (!built.ok()) die(built.status().to_string());
  out.build_s = *built;
  double start = now_seconds();
  for (const BeirQuery& q : data.queries) {
    Result<std::vector<ScoredDoc>> ranking = (*index)->search(q.text, kDepth);
    if (!ranking.ok()) die(ranking.status().to_string());
    out.runs[q.id] = std::move(*ranking);
  }
  out.query_s = now_seconds() - start;
  out.quality = evaluate_runs(data.qrels, out.runs);
  return out;
}

// The mean share of the top 10 two engines agree on, over the judged queries.
double overlap_at_10(const Outcome& a, const Outcome& b) {
  double sum = 0;
  size_t n = 0;
  for (const auto& [query, ranking] : a.runs) {
    auto it = b.runs.find(query);
    if (it == b.runs.end()) continue;
    std::vector<ScoredDoc> x = ranking, y = it->second;
    trec_order(&x);
    trec_order(&y);
    size_t same = 0, depth = std::min<size_t>(10, std::max(x.size(), y.size()));
    for (size_t i = 0; i < x.size() && i < 10; ++i) {
      for (size_t j = 0; j < y.size() && j < 10; ++j) same += x[i].id == y[j].id ? 1 : 0;
    }
    sum += depth > 0 ? static_cast<double>(same) / static_cast<double>(depth) : 1;
    ++n;
  }
  return n > 0 ? sum / static_cast<double>(n) : 0;
}

// Writes every configuration's rankings as TREC run files
// (`<folder>/<name>.trec`: "query Q0 doc rank score name", trec_order), for
// checking the figures with trec_eval itself.
void write_trec_runs(const std::vector<Outcome>& outcomes, const std::string& folder) {
  std::filesystem::create_directories(folder);
  for (const Outcome& o : outcomes) {
    if (!o.quality) continue;
    const std::string path = folder + "/" + o.name + ".trec";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) die("cannot write " + path);
    for (const auto& [query, ranking] : o.runs) {
      std::vector<ScoredDoc> sorted = ranking;
      trec_order(&sorted);
      for (size_t i = 0; i < sorted.size(); ++i) {
        std::fprintf(f, "%s Q0 %s %zu %.9g %s\n", query.c_str(), sorted[i].id.c_str(), i + 1,
                     sorted[i].score, o.name.c_str());
      }
    }
    if (std::fclose(f) != 0) die("cannot write " + path);
    std::printf("wrote %s\n", path.c_str());
  }
}

struct Flags {
  std::string data;
  std::string trec_runs;  // empty: none written
};

// Takes --data= and --trec-runs= out of args.rest.
Flags parse_flags(BenchArgs* args) {
  Flags flags;
  flags.data = take_data_flag(&args->rest);
  std::vector<std::string> rest;
  for (const std::string& a : args->rest) {
    if (a.rfind("--trec-runs=", 0) == 0) {
      flags.trec_runs = a.substr(12);
    } else {
      rest.push_back(a);
    }
  }
  args->rest = rest;
  return flags;
}

int run(int argc, char** argv) {
  BenchArgs args = parse_bench_args(
      argc, argv,
      "beir_eval [--quick | --smoke] [--data=<beir/scifact folder>] [--trec-runs=<folder>] [work "
      "folder]\n"
      "nDCG@10 and R@100 of tidalDB's BM25 on BEIR SciFact beside Xapian and the published "
      "references.");
  const Flags flags = parse_flags(&args);
  const std::string& data_dir = flags.data;

  double t0 = now_seconds();
  Result<BeirDataset> loaded = load_beir(data_dir);
  if (!loaded.ok()) die("loading " + data_dir + ": " + loaded.status().to_string());
  const BeirDataset& data = *loaded;
  if (data.queries.size() != 300 || data.documents.size() != 5183) {
    std::printf("note: expected SciFact's 5,183 documents and 300 test queries, read %zu and %zu\n",
                data.documents.size(), data.queries.size());
  }
  std::printf(
      "%s: %s: %zu documents, %zu test queries, %zu judgments (loaded in %.2f s), load %.1f\n",
      kBench, data_dir.c_str(), data.documents.size(), data.queries.size(),
      [&] {
        size_t n = 0;
        for (const auto& [q, j] : data.qrels) n += j.size();
        return n;
      }(),
      now_seconds() - t0, host_load());

  g_work = bench_folder(args, "beir-eval");
  const std::vector<TidalConfig> configs = {
      {"tidal_flat", "tidal flat, english (Porter2)", TextLayout::kFlat, "english", ""},
      {"tidal_flat_porter", "tidal flat, porter", TextLayout::kFlat, "porter", ""},
      {"tidal_multifield", "tidal multifield IN (title, text)", TextLayout::kFields, "english",
       "title, text"},
  };
  std::vector<Outcome> outcomes;
  for (const TidalConfig& c : configs) {
    outcomes.push_back(run_tidal(c, data, g_work + "/" + c.name));
    if (!outcomes.back().error.empty()) {
      std::printf("tidal: %s: %s\n", c.name.c_str(), outcomes.back().error.c_str());
    }
  }
  outcomes.push_back(run_xapian(data, g_work + "/xapian"));
  const Outcome& xapian = outcomes.back();

  std::printf("\n%-52s  %8s  %8s  %9s  %9s  %s\n", "configuration", "nDCG@10", "R@100", "build s",
              "query s", "against the references");
  std::printf("%s\n", std::string(150, '-').c_str());
  auto row = [](const std::string& what, double ndcg, double recall, const std::string& build,
                const std::string& query, const std::string& note) {
    char recall_text[16] = "-";
    if (recall >= 0) std::snprintf(recall_text, sizeof recall_text, "%.4f", recall);
    std::printf("%-52s  %8.4f  %8s  %9s  %9s  %s\n", what.c_str(), ndcg, recall_text, build.c_str(),
                query.c_str(), note.c_str());
  };
  auto fixed = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return std::string(buf);
  };
  for (const Outcome& o : outcomes) {
    if (!o.quality) {
      std::printf("%-52s  %8s  %8s  %9s  %9s  did not run: %s\n", o.what.c_str(), "-", "-", "-",
                  "-", o.error.c_str());
      continue;
    }
    const bool multifield = o.name == "tidal_multifield";
    const double reference = multifield ? kAnseriniMultifield : kAnseriniFlat;
    char note[160];
    std::snprintf(note, sizeof note, "%+.4f vs Anserini %s %.4f; %+.4f vs BEIR/ES 0.665",
                  o.quality->ndcg_at_10 - reference, multifield ? "multifield" : "flat", reference,
                  o.quality->ndcg_at_10 - kBeirElasticsearch);
    row(o.what, o.quality->ndcg_at_10, o.quality->recall_at_100, fixed(o.build_s), fixed(o.query_s),
        note);
  }
  row("reference: BEIR paper BM25 (Elasticsearch)", kBeirElasticsearch, -1, "-", "-", "published");
  row("reference: Anserini BM25 flat", kAnseriniFlat, kAnseriniFlatRecall100, "-", "-",
      "published");
  row("reference: Anserini BM25 multifield", kAnseriniMultifield, kAnseriniMultifieldRecall100, "-",
      "-", "published");
  std::printf(
      "\nbuild s: upserts in batches of 1,000 (tidal, fsync) / add_document + commit (Xapian); "
      "query s: all %zu queries, top %zu each, one thread.\n",
      data.queries.size(), kDepth);
  std::printf(
      "Xapian: TermGenerator + QueryParser, Stem(\"english\"), STEM_ALL, SimpleStopper (the 33 "
      "English stop words), STOP_ALL, QueryParser flags 0, OP_OR, words joined by - / : \\ @ . "
      "split; BM25Weight(k1 0.9, k2 0, k3 1, b 0.4, min_normlen 0.5).\n");

  BenchReport report(kBench);
  for (const Outcome& o : outcomes) {
    if (!o.quality) continue;
    const bool multifield = o.name == "tidal_multifield";
    const bool tidal = o.name != xapian.name;
    std::string target = multifield ? ">= 0.6647 (Anserini multifield)" : ">= 0.665 (BEIR/ES)";
    report.add(o.name + "_ndcg10", o.quality->ndcg_at_10, "ndcg",
               tidal ? meets(o.quality->ndcg_at_10 >=
                                 (multifield ? kAnseriniMultifield : kBeirElasticsearch),
                             target)
                     : "peer");
    report.add(o.name + "_recall100", o.quality->recall_at_100, "recall");
    report.add(o.name + "_query_time", o.query_s, "s", "all queries, top 100");
    if (tidal) {
      report.add(o.name + "_ndcg10_vs_xapian", o.quality->ndcg_at_10 / xapian.quality->ndcg_at_10,
                 "ratio", "tidal / Xapian");
      report.add(o.name + "_query_time_vs_xapian", o.query_s / xapian.query_s, "ratio",
                 "tidal / Xapian (lower is faster)");
      report.add(o.name + "_top10_overlap_xapian", overlap_at_10(o, xapian), "share",
                 "mean share of top 10 the two agree on");
    }
  }
  report.print();
  if (!flags.trec_runs.empty()) write_trec_runs(outcomes, flags.trec_runs);
  std::filesystem::remove_all(g_work);
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run(argc, argv);
}
