// Retrieval-quality metrics as trec_eval computes them, for comparing a
// ranking with relevance judgments (qrels):
//
//   ndcg_at_k   trec_eval's ndcg_cut.k: DCG = sum over ranks i = 1..k of
//               grade / log2(i + 1); the ideal DCG takes the judged documents
//               with grade > 0, best grade first; a query whose ranking holds
//               no relevant document scores 0.
//   recall_at_k trec_eval's recall_k: relevant documents in the top k over
//               all relevant (grade > 0) judged documents.
//
// Both read the ranking in trec_eval's order (trec_order): score descending,
// ties by document id descending (strcmp), whatever order the engine gave.
// Published figures (BEIR, Anserini) come from trec_eval, so equal scores must
// break the same way for the figures to compare.
//
// Header-only, so the unit tests use it with nothing but an include path.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tidal/status.h"

namespace tidal::bench {

// One retrieved document and the engine's score for it.
struct ScoredDoc {
  std::string id;
  double score = 0;
};

// Grades of the judged documents of one query, by document id.
using Judgments = std::unordered_map<std::string, int>;
// Judgments by query id.
using Qrels = std::map<std::string, Judgments>;

// Sorts `ranking` as trec_eval reads a run: score descending, then document
// id descending.
inline void trec_order(std::vector<ScoredDoc>* ranking) {
  std::stable_sort(ranking->begin(), ranking->end(), [](const ScoredDoc& a, const ScoredDoc& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.id > b.id;
  });
}

// trec_eval ndcg_cut.k of `ranking` (already in trec_order) against `judged`.
// 0 when `judged` holds no relevant document.
inline double ndcg_at_k(const std::vector<ScoredDoc>& ranking, const Judgments& judged, size_t k) {
  double dcg = 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    auto it = judged.find(ranking[i].id);
    if (it != judged.end() && it->second > 0) {
      dcg += it->second / std::log2(static_cast<double>(i) + 2);
    }
  }
  std::vector<int> grades;
  for (const auto& [doc, grade] : judged) {
    if (grade > 0) grades.push_back(grade);
  }
  std::sort(grades.begin(), grades.end(), std::greater<>());
  double ideal = 0;
  for (size_t i = 0; i < grades.size() && i < k; ++i) {
    ideal += grades[i] / std::log2(static_cast<double>(i) + 2);
  }
  return ideal > 0 ? dcg / ideal : 0;
}

// trec_eval recall_k of `ranking` (already in trec_order) against `judged`.
// 0 when `judged` holds no relevant document.
inline double recall_at_k(const std::vector<ScoredDoc>& ranking, const Judgments& judged,
                          size_t k) {
  size_t relevant = 0;
  for (const auto& [doc, grade] : judged) relevant += grade > 0 ? 1 : 0;
  size_t found = 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    auto it = judged.find(ranking[i].id);
    found += it != judged.end() && it->second > 0 ? 1 : 0;
  }
  return relevant > 0 ? static_cast<double>(found) / static_cast<double>(relevant) : 0;
}

// Means over every query of `qrels` (a query absent from `runs` scores 0).
struct Effectiveness {
  double ndcg_at_10 = 0;
  double recall_at_100 = 0;
  size_t queries = 0;
};

// `runs` maps query id to its ranking, in any order (each is put in
// trec_order here). Rankings of queries not in `qrels` are ignored.
inline Effectiveness evaluate_runs(const Qrels& qrels,
                                   const std::map<std::string, std::vector<ScoredDoc>>& runs) {
  Effectiveness e;
  for (const auto& [query, judged] : qrels) {
    auto it = runs.find(query);
    if (it != runs.end()) {
      std::vector<ScoredDoc> ranking = it->second;
      trec_order(&ranking);
      e.ndcg_at_10 += ndcg_at_k(ranking, judged, 10);
      e.recall_at_100 += recall_at_k(ranking, judged, 100);
    }
    ++e.queries;
  }
  if (e.queries > 0) {
    e.ndcg_at_10 /= static_cast<double>(e.queries);
    e.recall_at_100 /= static_cast<double>(e.queries);
  }
  return e;
}

// Parses BEIR's qrels TSV: a header line ("query-id\tcorpus-id\tscore"),
// then one `query<TAB>doc<TAB>grade` line per judgment. Lines may end in
// "\r\n"; blank lines are skipped. InvalidArgument naming the line number
// and the rule for a line without three fields or with a grade that is not
// an integer.
inline Result<Qrels> parse_qrels_tsv(std::string_view text) {
  Qrels qrels;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line_no == 1) continue;  // the header, or nothing
    size_t t1 = line.find('\t');
    size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos || t1 == 0 || t2 == t1 + 1) {
      return Status::Invalid(Subsystem::kIo, "qrels line " + std::to_string(line_no), line,
                             "needs query-id, corpus-id and score separated by tabs");
    }
    std::string grade_text(line.substr(t2 + 1));
    size_t used = 0;
    int grade = 0;
    try {
      grade = std::stoi(grade_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != grade_text.size()) {
      return Status::Invalid(Subsystem::kIo, "qrels line " + std::to_string(line_no) + " score",
                             grade_text, "must be an integer");
    }
    qrels[std::string(line.substr(0, t1))][std::string(line.substr(t1 + 1, t2 - t1 - 1))] = grade;
  }
  return qrels;
}

}  // namespace tidal::bench
