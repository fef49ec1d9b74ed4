// Real data: BEIR SciFact (5,183 scientific abstracts, 300 judged test
// queries). tidalDB's BM25 over one text attribute `contents` = title + " " +
// text (English Porter2 stemmer, English stop words, k1 0.9, b 0.4), every
// query bag-of-words, must reach the BEIR paper's BM25 figure: nDCG@10 >=
// 0.665 (data/beir/REFERENCE_SCORES.md). bench/beir_eval measures the same
// and more, beside Xapian; this holds the line in the test suite.
//
// It shares bench/support/{beir,tidal_search}.cc with the benchmarks
// (tests/CMakeLists.txt compiles them into the uat binary).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/beir.h"
#include "support/ir_metrics.h"
#include "support/test_support.h"
#include "support/tidal_search.h"

namespace tidal {
namespace {

constexpr double kBeirBm25Ndcg10 = 0.665;

TEST(ScifactQualityUat, FlatBm25ReachesTheBeirPaperFigure) {
  const std::filesystem::path folder = testing::shared_data_dir() / "beir" / "scifact";
  if (!std::filesystem::exists(folder / "corpus.jsonl")) {
    GTEST_SKIP() << "no BEIR SciFact data at " << folder;
  }
  Result<bench::BeirDataset> data = bench::load_beir(folder.string());
  ASSERT_TRUE(data.ok()) << data.status().to_string();
  ASSERT_EQ(data->documents.size(), 5183u);
  ASSERT_EQ(data->queries.size(), 300u);

  testing::TempDir dir;
  auto db = bench::open_text_database(dir.sub("db"), bench::TextLayout::kFlat,
                                      bench::beir_text_options("english"));
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  Result<double> built = bench::upsert_documents(
      **db, bench::TextLayout::kFlat, data->documents.size(),
      [&](size_t i, bench::BeirDocument* doc) { *doc = data->documents[i]; });
  ASSERT_TRUE(built.ok()) << built.status().to_string();

  auto runs = bench::search_all(**db, data->queries, 100, "");
  ASSERT_TRUE(runs.ok()) << runs.status().to_string();
  for (const auto& [query, ranking] : *runs) {
    ASSERT_LE(ranking.size(), 100u) << "query " << query;
  }
  bench::Effectiveness e = bench::evaluate_runs(data->qrels, *runs);
  EXPECT_EQ(e.queries, 300u);
  RecordProperty("ndcg_at_10", std::to_string(e.ndcg_at_10));
  RecordProperty("recall_at_100", std::to_string(e.recall_at_100));
  EXPECT_GE(e.ndcg_at_10, kBeirBm25Ndcg10)
      << "nDCG@10 " << e.ndcg_at_10 << " (R@100 " << e.recall_at_100
      << ") is below the BEIR paper's BM25 on SciFact";
}

}  // namespace
}  // namespace tidal
