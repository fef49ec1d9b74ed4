// The tidalDB side of the text benches and the SciFact quality test: a
// database holding BEIR-shaped documents in one or two text attributes, and
// TQL SEARCH over them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/beir.h"
#include "support/ir_metrics.h"
#include "tidal/database.h"

namespace tidal::bench {

// How a document's title and text become attributes of an item.
enum class TextLayout {
  kFlat,    // one attribute `contents` = title + " " + text (Anserini "flat")
  kFields,  // two attributes `title` and `text` (Anserini "multifield")
};

// The analysis and BM25 parameters of the BEIR runs (Anserini's): English
// stop words, k1 0.9, b 0.4, and `stemmer` ("english" = Porter2, "porter").
TextOptions beir_text_options(const std::string& stemmer = "english");

// A schema with the layout's text attributes on items, each analyzed with
// `options` (stemmer, stop words, k1, b).
Result<Schema> text_schema(TextLayout layout, const TextOptions& options);

// Opens (or creates) a database in `folder` with text_schema(layout,
// options): default durability (kFsync), background checkpoints off (a
// bench checkpoints where it means to).
Result<std::unique_ptr<Database>> open_text_database(const std::string& folder, TextLayout layout,
                                                     const TextOptions& options);

// The write that stores `doc` under its id in `layout`.
EntityWrite text_write(const BeirDocument& doc, TextLayout layout);

// Upserts documents [0, count) from `source` in batches of `batch` through
// Database::upsert (BatchMode::kApplyValid). Returns the seconds spent inside
// the upsert calls (making the documents is not counted), or the first
// rejected document's error.
Result<double> upsert_documents(Database& db, TextLayout layout, size_t count,
                                const DocumentSource& source, size_t batch = 1000);

// `SEARCH items QUERY '<query>' [IN (<fields>)] LIMIT <limit>`, with `query`
// made bag_of_words and escaped. `fields` empty: every text attribute.
std::string search_tql(std::string_view query, size_t limit, std::string_view fields = "");

// Runs one TQL SEARCH and returns its rows, best first.
Result<std::vector<ScoredDoc>> run_search(Database& db, const std::string& tql);

// Runs search_tql(q.text, limit, fields) for every query; the rankings by
// query id. Stops at the first failing query (e.g. kNotSupported while this
// build has no SEARCH). `*seconds`, when given, gets the time spent in
// Database::query.
Result<std::map<std::string, std::vector<ScoredDoc>>> search_all(
    Database& db, const std::vector<BeirQuery>& queries, size_t limit, std::string_view fields,
    double* seconds = nullptr);

}  // namespace tidal::bench
