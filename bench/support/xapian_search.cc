#include "support/xapian_search.h"

#include <xapian.h>

#include <chrono>

namespace tidal::bench {
namespace {

Status xapian_error(const std::string& what, const Xapian::Error& e) {
  return Status::IoError(Subsystem::kIo, "xapian " + what + ": " + e.get_description());
}

// bag_of_words(query), and also without Xapian's phrase generators: the
// QueryParser turns words joined by - / : \ @ or . ("IP3R-mediated", "e.g")
// into a phrase (or with FLAG_NO_POSITIONS an AND) even with flags 0, where
// the TermGenerator indexed separate words and tidalDB ORs them. A '.'
// between digits stays: both sides keep "1.5" as one term.
std::string without_phrase_generators(std::string_view query) {
  std::string out = bag_of_words(query);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (c == '-' || c == '/' || c == ':' || c == '\\' || c == '@') {
      out[i] = ' ';
    } else if (c == '.' &&
               !(i > 0 && i + 1 < out.size() && digit(out[i - 1]) && digit(out[i + 1]))) {
      out[i] = ' ';
    }
  }
  return out;
}

}  // namespace

const std::vector<std::string>& english_stop_words() {
  static const std::vector<std::string> words = {
      "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
      "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
      "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
  return words;
}

struct XapianTextIndex::Impl {
  Xapian::WritableDatabase db;
  Xapian::Stem stem{"english"};
  Xapian::SimpleStopper stopper;
  Xapian::TermGenerator indexer;
  Xapian::QueryParser parser;
  std::unique_ptr<Xapian::Enquire> enquire;  // made by the first search after a commit
  size_t documents = 0;
};

XapianTextIndex::XapianTextIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XapianTextIndex::~XapianTextIndex() = default;

Result<std::unique_ptr<XapianTextIndex>> XapianTextIndex::create(const std::string& folder) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->db = Xapian::WritableDatabase(folder, Xapian::DB_CREATE_OR_OVERWRITE);
    for (const std::string& w : english_stop_words()) impl->stopper.add(w);
    impl->indexer.set_stemmer(impl->stem);
    impl->indexer.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
    impl->indexer.set_stopper(&impl->stopper);
    impl->indexer.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
    impl->parser.set_stemmer(impl->stem);
    impl->parser.set_stemming_strategy(Xapian::QueryParser::STEM_ALL);
    impl->parser.set_stopper(&impl->stopper);
    impl->parser.set_default_op(Xapian::Query::OP_OR);
  } catch (const Xapian::Error& e) {
    return xapian_error("create " + folder, e);
  }
  return std::unique_ptr<XapianTextIndex>(new XapianTextIndex(std::move(impl)));
}

Status XapianTextIndex::add(const BeirDocument& doc) {
  try {
    Xapian::Document document;
    impl_->indexer.set_document(document);
    impl_->indexer.index_text(flat_contents(doc));
    document.set_data(doc.id);
    impl_->db.add_document(document);
    ++impl_->documents;
  } catch (const Xapian::Error& e) {
    return xapian_error("add_document " + doc.id, e);
  }
  return Status::Ok();
}

Status XapianTextIndex::commit() {
  try {
    impl_->db.commit();
    impl_->enquire.reset();
  } catch (const Xapian::Error& e) {
    return xapian_error("commit", e);
  }
  return Status::Ok();
}

Result<double> XapianTextIndex::add_all(size_t count, const DocumentSource& source) {
  double seconds = 0;
  BeirDocument doc;
  for (size_t i = 0; i < count; ++i) {
    source(i, &doc);
    auto start = std::chrono::steady_clock::now();
    TIDAL_RETURN_IF_ERROR(add(doc));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  auto start = std::chrono::steady_clock::now();
  TIDAL_RETURN_IF_ERROR(commit());
  return seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<std::vector<ScoredDoc>> XapianTextIndex::search(std::string_view query, size_t k) {
  std::vector<ScoredDoc> out;
  try {
    if (!impl_->enquire) {
      impl_->enquire = std::make_unique<Xapian::Enquire>(impl_->db);
      impl_->enquire->set_weighting_scheme(Xapian::BM25Weight(0.9, 0, 1, 0.4, 0.5));
      impl_->parser.set_database(impl_->db);
    }
    // Flags 0: no boolean operators, phrases or love/hate marks.
    Xapian::Query q = impl_->parser.parse_query(without_phrase_generators(query), 0);
    impl_->enquire->set_query(q);
    Xapian::MSet top = impl_->enquire->get_mset(0, static_cast<Xapian::doccount>(k));
    out.reserve(top.size());
    for (auto it = top.begin(); it != top.end(); ++it) {
      out.push_back({it.get_document().get_data(), it.get_weight()});
    }
  } catch (const Xapian::Error& e) {
    return xapian_error("search '" + std::string(query) + "'", e);
  }
  return out;
}

size_t XapianTextIndex::size() const {
  return impl_->documents;
}

}  // namespace tidal::bench
