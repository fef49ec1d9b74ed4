// A BEIR dataset (https://github.com/beir-cellar/beir) as the benches and the
// quality test read it: a folder holding
//   corpus.jsonl      {"_id", "title", "text", "metadata"} per line
//   queries.jsonl     {"_id", "text", "metadata"} per line
//   qrels/test.tsv    the test judgments (ir_metrics.h: parse_qrels_tsv)
// (support/query_text.h makes the query texts fit for every engine.)
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "support/ir_metrics.h"
#include "support/query_text.h"
#include "tidal/status.h"

namespace tidal::bench {

struct BeirDocument {
  std::string id;
  std::string title;
  std::string text;
};

struct BeirQuery {
  std::string id;
  std::string text;
};

// Fills `*out` with document `i` of a corpus (any source: a file, a generator).
using DocumentSource = std::function<void(size_t i, BeirDocument* out)>;

// The corpus, the test queries and their judgments.
struct BeirDataset {
  std::vector<BeirDocument> documents;  // file order
  // Only the queries judged in qrels/test.tsv, in the order of `qrels` (ids
  // compared as strings); queries.jsonl holds more (train and dev).
  std::vector<BeirQuery> queries;
  Qrels qrels;
};

// Loads `folder` (e.g. .../beir/scifact). Fails (kNotFound for a missing
// file, InvalidArgument naming the file, line and field for a malformed line
// or a judged query missing from queries.jsonl) rather than scoring a
// partial dataset.
Result<BeirDataset> load_beir(const std::string& folder);

// Takes "--data=<folder>" out of `args` (a bench's arguments) and returns
// the folder, or BEIR SciFact in the shared data folder when none is given.
std::string take_data_flag(std::vector<std::string>* args);

// The document as one text: title + " " + text (Anserini's "flat" layout).
std::string flat_contents(const BeirDocument& doc);

}  // namespace tidal::bench
