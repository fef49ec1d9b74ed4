// ann_eval: vector search (HNSW) through tidalDB's query path beside hnswlib
// used directly (support/raw_hnsw.h: the same library and build parameters),
// in one run.
//
// (i)   siftsmall (TEXMEX: 10,000 128-dim SIFT vectors, 100 queries, exact
//       ground truth). hnswlib: squared L2, M 16, ef_construction 200, one
//       thread, ids inserted in order. tidalDB: Database::upsert of batches
//       of 1,000 items {emb: vector(128, l2), bucket: id % 100}, the time
//       inside the upsert calls. For every search breadth ef in 10..256:
//       recall@10 against the ground truth and single-thread QPS of hnswlib
//       (setEf + searchKnn), of tidalDB through TQL (NEAREST ... EF ef
//       LIMIT 10, Database::query) and through its JSON form
//       (Database::query_json); the query strings are made before the
//       timing. Headline: tidalDB / hnswlib QPS at the smallest ef where
//       tidalDB's recall@10 >= 0.95 (target >= 0.8: the integration costs at
//       most 20%).
// (ii)  filtered: WHERE bucket < 1 / 10 / 50 (1%, 10%, 50% of the items),
//       the ground truth by brute force over the items that pass; tidalDB at
//       its default breadth (no EF clause) and at EF 64 and 128. EXPLAIN of
//       one query per selectivity shows the planner's choice (an exact scan
//       or HNSW over-fetch). Target: recall@10 >= 0.95 at every selectivity.
// (iii) scale: N synthetic 128-dim vectors (full 1,000,000; --quick 20,000;
//       --scale=N) from a Gaussian mixture of 1,000 centers
//       (support/ann_data.h: clustered_vectors), 200 queries drawn from the
//       same distribution, the ground truth by brute force. tidalDB first:
//       ingest time, the cores it kept busy, memory, recall@10 and QPS for
//       ef 16..256; then checkpoint, close, and Database::open in a new
//       process (a restart) with the saved index, and again after deleting
//       <folder>/vectors/ (the index rebuilt from the stored entities).
//       Then hnswlib: build time (one thread), memory, the same sweep.
//
// (i-b) the library choice: FAISS's IndexHNSWFlat with the same M and
//       ef_construction, one thread, on the same siftsmall sweep and on the
//       filtered queries through its IDSelectorBitmap (built when
//       libfaiss-dev is installed: TIDAL_BENCH_FAISS).
//
// Every cell runs its queries once (their answers give the recall), then
// the whole set again until 0.3 s (--quick 0.1 s) have passed: QPS over
// those timed rounds, one thread.
//
//   ann_eval [--quick | --smoke] [--data=<siftsmall folder>] [--scale=<n>] [--raw-only |
//   --tidal-only]
//            [work folder]
#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/ann_data.h"
#include "support/bench_report.h"
#include "support/raw_hnsw.h"
#ifdef TIDAL_BENCH_FAISS
#include "support/raw_faiss.h"
#endif
#include "support/tidal_vectors.h"

namespace tidal::bench {
namespace {

constexpr const char* kBench = "ann_eval";
constexpr size_t kK = 10;  // recall@10, LIMIT 10
constexpr double kRecallTarget = 0.95;
constexpr double kQpsRatioTarget = 0.8;
constexpr size_t kSiftEfs[] = {10, 16, 32, 64, 128, 256};
constexpr size_t kScaleEfs[] = {16, 32, 64, 128, 256};
constexpr int64_t kSelectivities[] = {1, 10, 50};  // percent of the items: WHERE bucket < s
constexpr size_t kFilteredEfs[] = {0, 64, 128};    // 0: no EF clause, the engine's default
constexpr size_t kFullScale = 1'000'000;
constexpr size_t kQuickScale = 20'000;
constexpr size_t kSmokeScale = 2'000;
constexpr size_t kScaleDim = 128;
constexpr size_t kScaleCenters = 1000;
constexpr size_t kScaleQueries = 200;
constexpr uint64_t kSeed = 20261124;

std::string g_work;  // removed on every exit

[[noreturn]] void die(const std::string& what) {
  bench_fail(kBench, what, g_work);
}

int threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// The number of threads of this process (0 when unknown).
int process_threads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

// CPU seconds this process has used, user and system.
double cpu_seconds() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(r.ru_utime) + s(r.ru_stime);
}

// The memory of the database's vector indexes (DatabaseStats::vector_bytes).
double vector_index_mib(const Database& db) {
  return static_cast<double>(db.stats().vector_bytes) / (1 << 20);
}

double folder_mib(const std::string& folder) {
  std::error_code ec;
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(folder, ec)) {
    if (e.is_regular_file(ec)) bytes += e.file_size(ec);
  }
  return static_cast<double>(bytes) / (1 << 20);
}

std::string ef_name(size_t ef) {
  return ef == 0 ? "default" : "ef" + std::to_string(ef);
}

// One figure pair of a sweep or a filtered run; ran = false: not measured.
struct Cell {
  bool ran = false;
  double recall = 0;
  double qps = 0;
};

using RunQuery = std::function<Status(size_t q, std::vector<int64_t>* ids)>;

// Runs queries 0..n-1 once (their answers give the recall against
// `truth`), then again until `budget_s` has passed. Fails on the first
// failing query.
Result<Cell> measure(size_t n, const Neighbors& truth, double budget_s, const RunQuery& run) {
  std::vector<std::vector<int64_t>> found(n);
  for (size_t q = 0; q < n; ++q) TIDAL_RETURN_IF_ERROR(run(q, &found[q]));
  std::vector<int64_t> ids;
  size_t done = 0;
  const double start = now_seconds();
  double elapsed = 0;
  do {
    for (size_t q = 0; q < n; ++q) TIDAL_RETURN_IF_ERROR(run(q, &ids));
    done += n;
    elapsed = now_seconds() - start;
  } while (elapsed < budget_s);
  return Cell{.ran = true,
              .recall = recall_at(truth, found, kK),
              .qps = static_cast<double>(done) / elapsed};
}

Cell measure_raw(RawHnswIndex& raw, const VectorSet& queries, size_t ef, const Neighbors& truth,
                 double budget_s) {
  raw.set_ef(ef);
  Result<Cell> cell =
      measure(queries.count, truth, budget_s, [&](size_t q, std::vector<int64_t>* ids) {
        raw.search(queries.row(q), kK, ids);
        return Status::Ok();
      });
  return *cell;
}

// tidalDB while the run has it open: `queryable` turns false at the first
// kNotSupported answer (the engine without vector search yet); the run goes
// on without tidalDB's query figures. Any other error stops the run.
struct TidalSide {
  std::unique_ptr<Database> db;
  bool queryable = true;
  std::string why_not;
};

// The prepared NEAREST queries for `queries`, as TQL or JSON.
std::vector<std::string> nearest_queries(const VectorSet& queries, size_t ef, int64_t bucket_below,
                                         bool json) {
  std::vector<std::string> out;
  for (size_t q = 0; q < queries.count; ++q) {
    NearestQuery n{.vector = queries.row(q),
                   .dim = queries.dim,
                   .ef = ef,
                   .bucket_below = bucket_below,
                   .limit = kK};
    out.push_back(json ? nearest_json(n) : nearest_tql(n));
  }
  return out;
}

// `run` answers query q through tidalDB's `api` (for messages).
Cell measure_tidal(TidalSide& tidal, size_t n, const char* api, const Neighbors& truth,
                   double budget_s, const RunQuery& run) {
  if (!tidal.db || !tidal.queryable) return {};
  Result<Cell> cell = measure(n, truth, budget_s, run);
  if (cell.ok()) return *cell;
  if (cell.status().code() != StatusCode::kNotSupported) {
    die(std::string(api) + ": " + cell.status().to_string());
  }
  tidal.queryable = false;
  tidal.why_not = cell.status().to_string();
  std::printf("  tidal: NEAREST not available: %s\n", tidal.why_not.c_str());
  return {};
}

// TQL (json false) or JSON statements, each parsed as it runs.
Cell measure_text(TidalSide& tidal, const std::vector<std::string>& queries, bool json,
                  const Neighbors& truth, double budget_s) {
  return measure_tidal(tidal, queries.size(), json ? "query_json" : "query", truth, budget_s,
                       [&](size_t q, std::vector<int64_t>* ids) {
                         return run_nearest(*tidal.db, queries[q], json, ids);
                       });
}

// One statement prepared from the first query, each query's vector bound.
Cell measure_prepared(TidalSide& tidal, const VectorSet& queries, size_t ef, const Neighbors& truth,
                      double budget_s) {
  if (!tidal.db || !tidal.queryable) return {};
  Result<PreparedStatement> prepared =
      Database::prepare(nearest_queries(queries, ef, 0, false).front());
  if (!prepared.ok()) die("prepare: " + prepared.status().to_string());
  return measure_tidal(
      tidal, queries.count, "execute", truth, budget_s, [&](size_t q, std::vector<int64_t>* ids) {
        return run_prepared(*tidal.db, *prepared, {queries.row(q), queries.dim}, ids);
      });
}

// Recall and QPS per ef: hnswlib, tidalDB TQL, tidalDB JSON, tidalDB
// prepared (parsed once, the vector bound per query).
struct Sweep {
  std::vector<size_t> efs;
  std::vector<Cell> raw, tidal, json, prepared;

  explicit Sweep(std::span<const size_t> e)
      : efs(e.begin(), e.end()),
        raw(e.size()),
        tidal(e.size()),
        json(e.size()),
        prepared(e.size()) {}
};

void sweep_tidal(TidalSide& tidal, const VectorSet& queries, const Neighbors& truth,
                 double budget_s, bool with_json, Sweep* sweep) {
  for (size_t i = 0; i < sweep->efs.size(); ++i) {
    sweep->tidal[i] = measure_text(tidal, nearest_queries(queries, sweep->efs[i], 0, false), false,
                                   truth, budget_s);
    sweep->prepared[i] = measure_prepared(tidal, queries, sweep->efs[i], truth, budget_s);
    if (with_json) {
      sweep->json[i] = measure_text(tidal, nearest_queries(queries, sweep->efs[i], 0, true), true,
                                    truth, budget_s);
    }
  }
}

void sweep_raw(RawHnswIndex& raw, const VectorSet& queries, const Neighbors& truth, double budget_s,
               Sweep* sweep) {
  for (size_t i = 0; i < sweep->efs.size(); ++i) {
    sweep->raw[i] = measure_raw(raw, queries, sweep->efs[i], truth, budget_s);
  }
}

std::string cell_text(const Cell& c, bool qps) {
  char buf[32];
  if (!c.ran) return "-";
  std::snprintf(buf, sizeof buf, qps ? "%.0f" : "%.4f", qps ? c.qps : c.recall);
  return buf;
}

std::string ratio_text(const Cell& a, const Cell& b) {
  char buf[32];
  if (!a.ran || !b.ran) return "-";
  std::snprintf(buf, sizeof buf, "%.3f", a.qps / b.qps);
  return buf;
}

void print_sweep(const Sweep& s) {
  std::printf("  %5s | %-26s | %-35s | %s\n", "ef", "recall@10: hnswlib tidal json",
              "QPS: hnswlib tidal json prepared", "/hnswlib: tidal json prepared");
  for (size_t i = 0; i < s.efs.size(); ++i) {
    std::printf("  %5zu | %8s %8s %8s | %8s %8s %8s %8s | %8s %8s %8s\n", s.efs[i],
                cell_text(s.raw[i], false).c_str(), cell_text(s.tidal[i], false).c_str(),
                cell_text(s.json[i], false).c_str(), cell_text(s.raw[i], true).c_str(),
                cell_text(s.tidal[i], true).c_str(), cell_text(s.json[i], true).c_str(),
                cell_text(s.prepared[i], true).c_str(), ratio_text(s.tidal[i], s.raw[i]).c_str(),
                ratio_text(s.json[i], s.raw[i]).c_str(),
                ratio_text(s.prepared[i], s.raw[i]).c_str());
  }
}

// The index of the smallest ef whose cell reaches the recall target.
std::optional<size_t> first_at_target(const std::vector<Cell>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].ran && cells[i].recall >= kRecallTarget) return i;
  }
  return std::nullopt;
}

void report_sweep(BenchReport& report, const std::string& prefix, const Sweep& s) {
  for (size_t i = 0; i < s.efs.size(); ++i) {
    const std::string ef = "_ef" + std::to_string(s.efs[i]);
    auto add = [&](const char* side, const Cell& c) {
      if (!c.ran) return;
      report.add(prefix + "_recall" + ef + "_" + side, c.recall, "recall", "recall@10");
      report.add(prefix + "_qps" + ef + "_" + side, c.qps, "q/s", "1 thread");
    };
    add("raw", s.raw[i]);
    add("tidal", s.tidal[i]);
    add("json", s.json[i]);
    add("prepared", s.prepared[i]);
    if (s.raw[i].ran && s.tidal[i].ran) {
      report.add(prefix + "_qps_ratio" + ef, s.tidal[i].qps / s.raw[i].qps, "ratio",
                 "tidal TQL / hnswlib");
    }
    if (s.raw[i].ran && s.json[i].ran) {
      report.add(prefix + "_qps_ratio_json" + ef, s.json[i].qps / s.raw[i].qps, "ratio",
                 "tidal JSON / hnswlib");
    }
    if (s.raw[i].ran && s.prepared[i].ran) {
      report.add(prefix + "_qps_ratio_prepared" + ef, s.prepared[i].qps / s.raw[i].qps, "ratio",
                 "tidal prepared (Database::execute, vector bound) / hnswlib");
    }
  }
  auto at_target = [&](const char* side, const std::vector<Cell>& cells) {
    bool any = false;
    double best = 0;
    for (const Cell& c : cells) {
      any |= c.ran;
      best = std::max(best, c.recall);
    }
    if (!any) return;
    std::optional<size_t> i = first_at_target(cells);
    if (!i) {
      report.add(prefix + "_max_recall_" + side, best, "recall",
                 meets(false, "recall@10 >= 0.95 at some ef"));
      return;
    }
    report.add(prefix + "_qps_at_recall95_" + side, cells[*i].qps, "q/s",
               "smallest ef with recall@10 >= 0.95: " + std::to_string(s.efs[*i]));
  };
  at_target("raw", s.raw);
  at_target("tidal", s.tidal);
  if (std::optional<size_t> i = first_at_target(s.tidal); i && s.raw[*i].ran) {
    const double ratio = s.tidal[*i].qps / s.raw[*i].qps;
    char note[160];
    std::snprintf(note, sizeof note, "tidal / hnswlib at ef %zu (hnswlib recall %.4f); ", s.efs[*i],
                  s.raw[*i].recall);
    report.add(prefix + "_qps_ratio_at_recall95", ratio, "ratio",
               note + meets(ratio >= kQpsRatioTarget, ">= 0.8"));
  }
}

// (ii) filtered queries on siftsmall.
void filtered(TidalSide& tidal, const VectorSet& base, const VectorSet& queries, double budget_s,
              BenchReport& report) {
  std::printf("\n(ii) filtered: WHERE bucket < s (bucket = id %% 100), exact ground truth\n");
  double worst = 1;
  for (int64_t s : kSelectivities) {
    const Neighbors truth = exact_neighbors(
        base, queries, kK, [s](uint32_t id) { return static_cast<int64_t>(id) % kBuckets < s; },
        threads());
    const std::string prefix = "siftsmall_filtered" + std::to_string(s) + "pct";
    if (tidal.queryable) {
      const std::string explain = "EXPLAIN " + nearest_queries(queries, 0, s, false)[0];
      Result<QueryResult> plan = tidal.db->query(explain);
      if (plan.ok()) {
        std::printf("  %" PRId64 "%%: EXPLAIN of query 0 (default ef):\n", s);
        for (const PlanStage& stage : plan->plan) {
          std::printf("    %-9s %-60s in %llu out %llu, %.0f us\n", stage.name.c_str(),
                      stage.detail.c_str(), static_cast<unsigned long long>(stage.rows_in),
                      static_cast<unsigned long long>(stage.rows_out), stage.micros);
        }
      } else if (plan.status().code() != StatusCode::kNotSupported) {
        die("EXPLAIN: " + plan.status().to_string());
      }
    }
    for (size_t ef : kFilteredEfs) {
      const Cell c =
          measure_text(tidal, nearest_queries(queries, ef, s, false), false, truth, budget_s);
      if (!c.ran) continue;
      std::printf("  %3" PRId64 "%% %-8s recall@10 %.4f  %8.0f q/s\n", s, ef_name(ef).c_str(),
                  c.recall, c.qps);
      report.add(prefix + "_recall_" + ef_name(ef), c.recall, "recall",
                 meets(c.recall >= kRecallTarget, "recall@10 >= 0.95"));
      report.add(prefix + "_qps_" + ef_name(ef), c.qps, "q/s", "1 thread");
      if (ef == 0) worst = std::min(worst, c.recall);
    }
  }
  if (tidal.queryable) {
    report.add("siftsmall_filtered_min_recall", worst, "recall",
               "default ef, over 1/10/50%; " + meets(worst >= kRecallTarget, ">= 0.95"));
  }
}

#ifdef TIDAL_BENCH_FAISS
// (i-b) FAISS's HNSW beside hnswlib: the same sweep, and the filtered
// queries at FAISS's default-like breadth 64 through its selector.
void library_choice(const VectorSet& base, const VectorSet& queries, const Neighbors& truth,
                    const Sweep& hnsw, double budget_s, BenchReport& report) {
  std::printf(
      "\n(i-b) library choice: FAISS IndexHNSWFlat (M 16, efConstruction 200) beside "
      "hnswlib, one thread\n");
  RawFaissIndex faiss(base.dim);
  const double seconds = faiss.add_all(base);
  std::printf("  faiss: built %zu vectors in %.2f s (%.0f/s)\n", base.count, seconds,
              base.count / seconds);
  report.add("siftsmall_build_faiss", seconds, "s", "IndexHNSWFlat::add, 1 thread");
  std::printf("  %5s | %-17s | %-17s | %s\n", "ef", "recall: hnswlib faiss", "QPS: hnswlib faiss",
              "hnswlib/faiss QPS");
  for (size_t i = 0; i < hnsw.efs.size(); ++i) {
    const size_t ef = hnsw.efs[i];
    Result<Cell> cell = measure(queries.count, truth, budget_s, [&](size_t q, auto* ids) {
      faiss.search(queries.row(q), kK, ef, nullptr, ids);
      return Status::Ok();
    });
    const Cell& raw = hnsw.raw[i];
    std::printf("  %5zu | %8s %8.4f | %8s %8.0f | %8s\n", ef, cell_text(raw, false).c_str(),
                cell->recall, cell_text(raw, true).c_str(), cell->qps,
                ratio_text(raw, *cell).c_str());
    const std::string suffix = "_ef" + std::to_string(ef);
    report.add("siftsmall_recall" + suffix + "_faiss", cell->recall, "recall", "recall@10");
    report.add("siftsmall_qps" + suffix + "_faiss", cell->qps, "q/s", "1 thread");
    if (raw.ran) {
      report.add("siftsmall_qps_ratio_hnswlib_faiss" + suffix, raw.qps / cell->qps, "ratio",
                 "hnswlib / FAISS, same breadth");
    }
  }
  for (int64_t s : kSelectivities) {
    const auto pass = [s](uint32_t id) { return static_cast<int64_t>(id) % kBuckets < s; };
    const Neighbors filtered_truth = exact_neighbors(base, queries, kK, pass, threads());
    std::vector<uint8_t> allowed((base.count + 7) / 8, 0);
    for (uint32_t id = 0; id < base.count; ++id) {
      if (pass(id)) allowed[id / 8] |= static_cast<uint8_t>(1u << (id % 8));
    }
    Result<Cell> cell = measure(queries.count, filtered_truth, budget_s, [&](size_t q, auto* ids) {
      faiss.search(queries.row(q), kK, 64, &allowed, ids);
      return Status::Ok();
    });
    std::printf("  faiss IDSelectorBitmap, %3" PRId64
                "%% of the items, ef 64: recall@10 %.4f  "
                "%8.0f q/s\n",
                s, cell->recall, cell->qps);
    const std::string prefix = "siftsmall_filtered" + std::to_string(s) + "pct";
    report.add(prefix + "_recall_faiss_ef64", cell->recall, "recall", "FAISS selector");
    report.add(prefix + "_qps_faiss_ef64", cell->qps, "q/s", "FAISS selector, 1 thread");
  }
}
#endif

// The sides the run measures.
struct Sides {
  bool raw = true;
  bool tidal = true;
};

// (i) and (ii).
void siftsmall(const std::string& data_dir, const Sides& sides, double budget_s,
               BenchReport& report) {
  Result<VectorSet> base = load_fvecs(data_dir + "/siftsmall_base.fvecs");
  if (!base.ok()) die(base.status().to_string());
  Result<VectorSet> queries = load_fvecs(data_dir + "/siftsmall_query.fvecs");
  if (!queries.ok()) die(queries.status().to_string());
  Result<Neighbors> truth = load_ivecs(data_dir + "/siftsmall_groundtruth.ivecs");
  if (!truth.ok()) die(truth.status().to_string());
  if (queries->dim != base->dim || truth->queries() != queries->count || truth->k < kK) {
    die(data_dir + ": base, queries and ground truth do not agree in dimension or count");
  }
  std::printf("\n(i) siftsmall: %zu base vectors, %zu queries, dim %zu (%s)\n", base->count,
              queries->count, base->dim, data_dir.c_str());

  Sweep sweep(kSiftEfs);
  TidalSide tidal;
  if (sides.tidal) {
    const std::string folder = g_work + "/siftsmall";
    Result<std::unique_ptr<Database>> db = open_vector_database(folder, base->dim);
    if (!db.ok()) die("tidal open: " + db.status().to_string());
    tidal.db = std::move(*db);
    Result<double> seconds = upsert_vectors(*tidal.db, *base);
    if (!seconds.ok()) die("tidal upsert: " + seconds.status().to_string());
    std::printf("  tidal: upserted %zu vectors in %.2f s (%.0f/s), vector index %.1f MiB\n",
                base->count, *seconds, base->count / *seconds, vector_index_mib(*tidal.db));
    report.add("siftsmall_build_tidal", *seconds, "s", "upserts of 1,000, fsync");
    sweep_tidal(tidal, *queries, *truth, budget_s, true, &sweep);
  }
  if (sides.raw) {
    RawHnswIndex raw(base->dim, base->count);
    const double seconds = raw.add_all(*base);
    std::printf("  hnswlib: built %zu vectors in %.2f s (%.0f/s), one thread\n", base->count,
                seconds, base->count / seconds);
    report.add("siftsmall_build_raw", seconds, "s", "hnswlib addPoint, 1 thread");
    sweep_raw(raw, *queries, *truth, budget_s, &sweep);
  }
  print_sweep(sweep);
  report_sweep(report, "siftsmall", sweep);
#ifdef TIDAL_BENCH_FAISS
  if (sides.raw) library_choice(*base, *queries, *truth, sweep, budget_s, report);
#endif
  if (sides.tidal) filtered(tidal, *base, *queries, budget_s, report);
  if (!tidal.why_not.empty()) {
    std::printf("  note: tidal NEAREST was not available (%s): no tidal query figures\n",
                tidal.why_not.c_str());
  }
}

// A restart in a new process: --open-only=<folder>. Returns the seconds
// Database::open took and those of a first NEAREST query after it (-1 when
// it failed).
std::pair<double, double> open_in_new_process(const std::string& folder) {
  const std::string out = run_this_program("--open-only=" + folder);
  double open_s = -1, query_s = -1;
  const size_t at = out.find("open-only: ");
  if (at == std::string::npos ||
      std::sscanf(out.c_str() + at, "open-only: %lf first-query: %lf", &open_s, &query_s) < 1) {
    die("the restart child process did not report its time: " + out);
  }
  return {open_s, query_s};
}

// (iii) scale run, tidalDB's part; returns with the database closed.
void scale_tidal(const VectorSet& base, const VectorSet& queries, const Neighbors& truth,
                 double budget_s, Sweep* sweep, BenchReport& report) {
  const std::string folder = g_work + "/scale";
  const double rss_before = rss_mib();
  TidalSide tidal;
  Result<std::unique_ptr<Database>> db = open_vector_database(folder, base.dim);
  if (!db.ok()) die("tidal open: " + db.status().to_string());
  tidal.db = std::move(*db);
  const double cpu_before = cpu_seconds();
  Result<double> seconds = upsert_vectors(*tidal.db, base);
  if (!seconds.ok()) die("tidal upsert: " + seconds.status().to_string());
  const double cores = (cpu_seconds() - cpu_before) / *seconds;
  const double rss_after = rss_mib();
  const double index_mib = vector_index_mib(*tidal.db);
  std::printf(
      "  tidal: upserted %zu vectors in %.1f s (%.0f/s), %.2f cores busy, %d threads; VmRSS "
      "%.0f -> %.0f MiB; vector index %.1f MiB\n",
      base.count, *seconds, base.count / *seconds, cores, process_threads(), rss_before, rss_after,
      index_mib);
  report.add("scale_build_tidal", *seconds, "s", "upserts of 1,000, fsync");
  report.add("scale_build_rate_tidal", base.count / *seconds, "vectors/s");
  report.add("scale_build_cores_tidal", cores, "cores", "CPU time / wall time during the upserts");
  report.add("scale_rss_growth_tidal", rss_after - rss_before, "MiB", "VmRSS growth during ingest");
  report.add("scale_vector_index_tidal", index_mib, "MiB", "DatabaseStats::vector_bytes");
  sweep_tidal(tidal, queries, truth, budget_s, false, sweep);

  double t0 = now_seconds();
  Status s = tidal.db->checkpoint();
  if (!s.ok()) die("checkpoint: " + s.to_string());
  const double checkpoint_s = now_seconds() - t0;
  t0 = now_seconds();
  tidal.db.reset();
  const double close_s = now_seconds() - t0;
  const std::string vectors = folder + "/vectors";
  const double saved_mib = folder_mib(vectors);
  auto [saved_s, saved_query_s] = open_in_new_process(folder);
  std::filesystem::remove_all(vectors);
  auto [rebuild_s, rebuild_query_s] = open_in_new_process(folder);
  std::printf(
      "  tidal: checkpoint %.2f s (vectors/ %.1f MiB), close %.2f s; open in a new process: "
      "%.2f s with the saved index (first query %.4f s), %.2f s after deleting vectors/ "
      "(first query %.4f s)\n",
      checkpoint_s, saved_mib, close_s, saved_s, saved_query_s, rebuild_s, rebuild_query_s);
  report.add("scale_checkpoint_tidal", checkpoint_s, "s");
  report.add("scale_saved_index_tidal", saved_mib, "MiB", "<folder>/vectors/ on disk");
  report.add("scale_open_saved_index", saved_s, "s", "Database::open in a new process");
  report.add("scale_open_rebuild", rebuild_s, "s",
             "Database::open in a new process, vectors/ deleted (index rebuilt)");
  if (saved_query_s >= 0) {
    report.add("scale_first_query_saved_index", saved_query_s * 1e3, "ms", "after that open");
    report.add("scale_first_query_rebuild", rebuild_query_s * 1e3, "ms", "after that open");
  }
  if (!tidal.why_not.empty()) {
    std::printf("  note: tidal NEAREST was not available: no tidal query figures\n");
  }
}

// (iii) scale run, hnswlib's part.
void scale_raw(const VectorSet& base, const VectorSet& queries, const Neighbors& truth,
               double budget_s, Sweep* sweep, BenchReport& report) {
  const double rss_before = rss_mib();
  RawHnswIndex raw(base.dim, base.count);
  const double seconds = raw.add_all(base);
  const double rss_after = rss_mib();
  const double index_mib = static_cast<double>(raw.bytes()) / (1 << 20);
  std::printf(
      "  hnswlib: built %zu vectors in %.1f s (%.0f/s), one thread; VmRSS %.0f -> %.0f "
      "MiB; index %.0f MiB\n",
      base.count, seconds, base.count / seconds, rss_before, rss_after, index_mib);
  report.add("scale_build_raw", seconds, "s", "hnswlib addPoint, 1 thread");
  report.add("scale_build_rate_raw", base.count / seconds, "vectors/s");
  report.add(
      "scale_rss_growth_raw", rss_after - rss_before, "MiB",
      "VmRSS growth during build (reuses memory tidal freed: --raw-only for a clean figure)");
  report.add("scale_vector_index_raw", index_mib, "MiB", "hnswlib's allocations");
  sweep_raw(raw, queries, truth, budget_s, sweep);
}

void scale(size_t count, const Sides& sides, double budget_s, BenchReport& report) {
  std::printf(
      "\n(iii) scale: %zu synthetic %zu-dim vectors (Gaussian mixture of %zu centers, seed "
      "%llu), %zu queries from the same distribution\n",
      count, kScaleDim, kScaleCenters, static_cast<unsigned long long>(kSeed), kScaleQueries);
  double t0 = now_seconds();
  const VectorSet base = clustered_vectors(count, kScaleDim, kScaleCenters, kSeed, 1);
  const VectorSet queries = clustered_vectors(kScaleQueries, kScaleDim, kScaleCenters, kSeed, 2);
  const double made_s = now_seconds() - t0;
  t0 = now_seconds();
  const Neighbors truth = exact_neighbors(base, queries, kK, {}, threads());
  std::printf(
      "  made in %.1f s; exact top 10 by brute force in %.1f s (%d threads); VmRSS %.0f "
      "MiB\n",
      made_s, now_seconds() - t0, threads(), rss_mib());
  Sweep sweep(kScaleEfs);
  if (sides.tidal) scale_tidal(base, queries, truth, budget_s, &sweep, report);
  if (sides.raw) scale_raw(base, queries, truth, budget_s, &sweep, report);
  print_sweep(sweep);
  report_sweep(report, "scale", sweep);
}

// --open-only=DIR: opens the database in DIR with its stored schema, then
// runs one NEAREST query (a zero vector); prints both times and exits (the
// restart measurement's new process).
int open_only(const std::string& folder) {
  Result<Schema> schema = Database::stored_schema(folder);
  if (!schema.ok()) {
    std::printf("open-only failed: %s\n", schema.status().to_string().c_str());
    return 1;
  }
  DatabaseOptions options;
  options.background_checkpoints = false;
  const double t0 = now_seconds();
  Result<std::unique_ptr<Database>> db = Database::open(folder, *schema, options);
  const double open_s = now_seconds() - t0;
  if (!db.ok()) {
    std::printf("open-only failed: %s\n", db.status().to_string().c_str());
    return 1;
  }
  size_t dim = 0;
  for (const AttributeDefinition& a : schema->attributes(EntityKind::kItem)) {
    if (a.name == kVectorAttribute) dim = a.vector_dim;
  }
  const std::vector<float> zero(dim, 0.0f);
  std::vector<int64_t> ids;
  const double t1 = now_seconds();
  Status s =
      run_nearest(**db, nearest_tql({.vector = zero.data(), .dim = dim, .limit = kK}), false, &ids);
  const double query_s = s.ok() ? now_seconds() - t1 : -1;
  std::printf("open-only: %.3f first-query: %.6f\n", open_s, query_s);
  return 0;
}

int run(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]).starts_with("--open-only=")) {
    return open_only(std::string(argv[1] + 12));
  }
  BenchArgs args = parse_bench_args(
      argc, argv,
      "ann_eval [--quick | --smoke] [--data=<siftsmall folder>] [--scale=<n>] [--raw-only | "
      "--tidal-only] "
      "[work folder]\n"
      "Recall@10 and QPS of tidalDB's vector search (NEAREST) beside hnswlib used directly: "
      "siftsmall with an ef sweep and filtered queries, and a scale run of synthetic vectors "
      "(full 1,000,000, --quick 20,000, or --scale).");
  const std::string data_dir = take_ann_data_flag(&args.rest);
  const size_t scale_count = take_count_flag(
      &args.rest, "--scale=", args.sized(kFullScale, kQuickScale, kSmokeScale), kBench);
  Sides sides;
  sides.tidal = std::erase(args.rest, std::string("--raw-only")) == 0;
  sides.raw = std::erase(args.rest, std::string("--tidal-only")) == 0;
  if (!sides.raw && !sides.tidal) die("--raw-only and --tidal-only exclude each other");
  const double budget_s = args.sized(0.3, 0.1, 0.01);

  g_work = bench_folder(args, "ann-eval");
  std::printf(
      "%s (%s): recall@10 and single-thread QPS, %.1f s per cell; load %.1f; VmRSS %.0f "
      "MiB\n",
      kBench, args.quick ? "quick" : "full", budget_s, host_load(), rss_mib());
  BenchReport report(kBench);
  siftsmall(data_dir, sides, budget_s, report);
  scale(scale_count, sides, budget_s, report);
  report.print();
  std::filesystem::remove_all(g_work);
  return 0;
}

}  // namespace
}  // namespace tidal::bench

int main(int argc, char** argv) {
  return tidal::bench::run(argc, argv);
}
