// The retrieval metrics and query-text helpers of the text benches
// (bench/support/ir_metrics.h, bench/support/query_text.h): trec_eval's
// ndcg_cut.10 and recall_100, its tie order, the qrels parser.
#include <gtest/gtest.h>

#include <cmath>

#include "support/ir_metrics.h"
#include "support/query_text.h"

namespace tidal::bench {
namespace {

std::vector<ScoredDoc> ranked(std::initializer_list<const char*> ids) {
  std::vector<ScoredDoc> out;
  double score = 100;
  for (const char* id : ids) out.push_back({id, score--});
  return out;
}

TEST(IrMetricsTest, PerfectRankingScoresOne) {
  Judgments judged = {{"d1", 1}, {"d2", 1}};
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked({"d1", "d2", "x"}), judged, 10), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked({"d2", "d1"}), judged, 10), 1.0);
}

TEST(IrMetricsTest, DiscountsByLogOfRank) {
  Judgments judged = {{"d1", 1}};
  // Rank 2: 1 / log2(3); rank 3: 1 / log2(4) = 0.5.
  EXPECT_NEAR(ndcg_at_k(ranked({"x", "d1"}), judged, 10), 1 / std::log2(3.0), 1e-12);
  EXPECT_NEAR(ndcg_at_k(ranked({"x", "y", "d1"}), judged, 10), 0.5, 1e-12);
}

TEST(IrMetricsTest, IdealCountsAtMostKRelevantDocuments) {
  // Two relevant, one found at rank 1: DCG 1, ideal 1 + 1/log2(3).
  Judgments judged = {{"d1", 1}, {"d2", 1}};
  EXPECT_NEAR(ndcg_at_k(ranked({"d1", "x"}), judged, 10), 1 / (1 + 1 / std::log2(3.0)), 1e-12);
  // With k = 1 the ideal holds one document only.
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked({"d1", "x"}), judged, 1), 1.0);
}

TEST(IrMetricsTest, IgnoresRanksBeyondK) {
  Judgments judged = {{"d1", 1}};
  std::vector<ScoredDoc> r = ranked({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "d1"});
  EXPECT_DOUBLE_EQ(ndcg_at_k(r, judged, 10), 0.0);
  EXPECT_NEAR(ndcg_at_k(r, judged, 11), 1 / std::log2(12.0), 1e-12);
}

TEST(IrMetricsTest, GradesWeighGainsAndOrderTheIdeal) {
  Judgments judged = {{"d1", 1}, {"d2", 2}, {"d0", 0}};
  // Found d1 then d2: 1 + 2/log2(3); ideal d2 then d1: 2 + 1/log2(3).
  double expected = (1 + 2 / std::log2(3.0)) / (2 + 1 / std::log2(3.0));
  EXPECT_NEAR(ndcg_at_k(ranked({"d1", "d2"}), judged, 10), expected, 1e-12);
  // A grade-0 judgment is not relevant.
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked({"d0"}), judged, 10), 0.0);
}

TEST(IrMetricsTest, NothingRelevantScoresZero) {
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked({"a"}), {{"d1", 1}}, 10), 0.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked({"a"}), {}, 10), 0.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k({}, {{"d1", 1}}, 10), 0.0);
  EXPECT_DOUBLE_EQ(recall_at_k({}, {{"d1", 1}}, 100), 0.0);
}

TEST(IrMetricsTest, RecallCountsRelevantInTopK) {
  Judgments judged = {{"d1", 1}, {"d2", 1}, {"d3", 1}, {"d4", 0}};
  EXPECT_NEAR(recall_at_k(ranked({"d1", "x", "d4", "d3"}), judged, 100), 2.0 / 3, 1e-12);
  EXPECT_NEAR(recall_at_k(ranked({"d1", "x", "d4", "d3"}), judged, 2), 1.0 / 3, 1e-12);
}

TEST(IrMetricsTest, TrecOrderBreaksTiesByDocumentIdDescending) {
  std::vector<ScoredDoc> r = {{"a", 1}, {"c", 2}, {"b", 2}, {"d", 0.5}};
  trec_order(&r);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].id, "c");
  EXPECT_EQ(r[1].id, "b");
  EXPECT_EQ(r[2].id, "a");
  EXPECT_EQ(r[3].id, "d");
  // strcmp order, not numeric: "9" > "10".
  std::vector<ScoredDoc> n = {{"10", 1}, {"9", 1}};
  trec_order(&n);
  EXPECT_EQ(n[0].id, "9");
}

TEST(IrMetricsTest, EvaluateRunsAveragesOverEveryJudgedQuery) {
  Qrels qrels = {{"q1", {{"d1", 1}}}, {"q2", {{"d2", 1}}}};
  // q1 perfect; q2 not run at all; q3 not judged (ignored). Ties re-sorted:
  // "d1" and "z" tie, and trec_eval puts "z" first.
  std::map<std::string, std::vector<ScoredDoc>> runs = {{"q1", {{"d1", 1}, {"z", 1}}},
                                                        {"q3", {{"d9", 1}}}};
  Effectiveness e = evaluate_runs(qrels, runs);
  EXPECT_EQ(e.queries, 2u);
  EXPECT_NEAR(e.ndcg_at_10, (1 / std::log2(3.0)) / 2, 1e-12);
  EXPECT_NEAR(e.recall_at_100, 0.5, 1e-12);
}

TEST(IrMetricsTest, ParsesBeirQrelsWithCrlfAndHeader) {
  Result<Qrels> q = parse_qrels_tsv(
      "query-id\tcorpus-id\tscore\r\n1\t31715818\t1\r\n3\t14717500\t1"
      "\r\n3\t23389795\t2\r\n\r\n");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ(q->at("1").at("31715818"), 1);
  EXPECT_EQ(q->at("3").size(), 2u);
  EXPECT_EQ(q->at("3").at("23389795"), 2);
}

TEST(IrMetricsTest, RejectsMalformedQrelsNamingTheLine) {
  Result<Qrels> fields = parse_qrels_tsv("query-id\tcorpus-id\tscore\n1\t2\t1\n1 2 1\n");
  ASSERT_FALSE(fields.ok());
  EXPECT_NE(fields.status().message().find("qrels line 3"), std::string::npos)
      << fields.status().to_string();
  Result<Qrels> grade = parse_qrels_tsv("h\n1\t2\tone\n");
  ASSERT_FALSE(grade.ok());
  EXPECT_NE(grade.status().message().find("must be an integer"), std::string::npos)
      << grade.status().to_string();
  EXPECT_FALSE(parse_qrels_tsv("h\n1\t2\t1x\n").ok());
}

TEST(QueryTextTest, BagOfWordsDropsPhraseRequiredAndExcludedMarks) {
  EXPECT_EQ(bag_of_words("\"gene therapy\" +cancer -mouse"), " gene therapy   cancer  mouse");
  // A hyphen or plus inside a word stays: the analyzer splits it.
  EXPECT_EQ(bag_of_words("IP3R-mediated Ca2+ 0-dimensional"), "IP3R-mediated Ca2+ 0-dimensional");
  EXPECT_EQ(bag_of_words("--x\t+y"), "  x\t y");
  EXPECT_EQ(bag_of_words("G - quadruplex"), "G   quadruplex");
  EXPECT_EQ(bag_of_words(""), "");
}

TEST(QueryTextTest, TqlStringEscapes) {
  EXPECT_EQ(tql_string("plain"), "'plain'");
  EXPECT_EQ(tql_string("Crohn's \"x\" a\\b"), "'Crohn\\'s \\\"x\\\" a\\\\b'");
  EXPECT_EQ(tql_string("a\nb\tc"), "'a\\nb\\tc'");
  EXPECT_EQ(tql_string(std::string("a\x01") + "b"), "'a\\u0001b'");
}

}  // namespace
}  // namespace tidal::bench
