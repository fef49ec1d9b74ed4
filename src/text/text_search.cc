#include "text/text_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

namespace tidal::text {

namespace {

// Bounds are computed by a different formula than scores; this margin keeps
// rounding from ever making a bound fall below the score it bounds.
constexpr double kBoundMargin = 1.0 + 1e-9;

struct Cursor {
  PostingCursor pc;
  const TextField* field = nullptr;
  double w = 0;   // boost · qtf · idf · (k1 + 1)
  double c1 = 0;  // k1 (1 − b)
  double c2 = 0;  // k1 b / avgdl
  double ub = 0;  // bound over the whole list

  double score() const {
    const double tf = pc.tf();
    const double dl = field->index.length(pc.doc());
    return w * tf / (tf + c1 + c2 * dl);
  }
  double bound(uint32_t max_tf, float min_ratio) const {
    if (max_tf == 0) return 0;
    return w / (1.0 + c1 / max_tf + c2 * static_cast<double>(min_ratio)) * kBoundMargin;
  }
  // The bound of the block that holds `target` (0 past the end).
  double block_bound(uint32_t target) const {
    const size_t c = pc.chunk_for(target);
    const auto& chunks = pc.list()->chunks();
    if (c >= chunks.size()) return 0;
    return bound(chunks[c].max_tf, chunks[c].min_ratio);
  }
  uint32_t block_last(uint32_t target) const {
    const size_t c = pc.chunk_for(target);
    return c >= pc.list()->chunks().size() ? kNoDoc : pc.list()->chunk_last(c);
  }
};

// The terms of one phrase in one attribute, with their offsets from the
// first.
struct PhraseField {
  const TextField* field = nullptr;
  std::vector<std::pair<std::string, uint32_t>> terms;
};

struct Group {
  Occur occur = Occur::kMust;
  std::vector<size_t> cursors;      // a document matches when one is at it
  std::vector<PhraseField> phrase;  // a phrase: checked against the text
};

}  // namespace

struct TextSearch::Impl {
  const TextIndex* index = nullptr;
  EntityKind kind = EntityKind::kItem;
  std::vector<Cursor> cursors;  // scoring cursors first, then excluded-only ones
  size_t scoring = 0;
  std::vector<Group> must;
  std::vector<Group> must_not;
  bool nothing = false;
  std::string description;
  uint64_t postings = 0;
  // Scratch for phrase checks.
  std::vector<Token> tokens;

  // Seeks every cursor to `doc` and says whether `doc` matches: its score.
  std::optional<double> evaluate(uint32_t doc);
  // Evaluates `doc` and offers it to the top-k heap when it matches and
  // `accept` takes it.
  void consider(uint32_t doc, size_t k, const std::function<bool(uint32_t, double)>& accept,
                std::vector<ScoredDoc>* heap, SearchStats* stats);
  bool phrase_matches(const Group& g, uint32_t doc);
  bool group_matches(const Group& g, uint32_t doc);

  void run_wand(size_t k, const entities::Bitmap* candidates,
                const std::function<bool(uint32_t, double)>& accept, std::vector<ScoredDoc>* heap,
                SearchStats* stats);
  void run_conjunctive(size_t k, const entities::Bitmap* candidates,
                       const std::function<bool(uint32_t, double)>& accept,
                       std::vector<ScoredDoc>* heap, SearchStats* stats);
  void run_candidates(size_t k, const entities::Bitmap& candidates,
                      const std::function<bool(uint32_t, double)>& accept,
                      std::vector<ScoredDoc>* heap, SearchStats* stats);
  void run(size_t k, const entities::Bitmap* candidates,
           const std::function<bool(uint32_t, double)>& accept, std::vector<ScoredDoc>* out,
           SearchStats* stats);
};

namespace {

// Heap order: the worst on top (lowest score, then highest document).
inline bool better(const ScoredDoc& a, const ScoredDoc& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.doc < b.doc;
}

// Offers a match to a top-k heap (k == SIZE_MAX: keep everything, in
// document order).
inline void offer(std::vector<ScoredDoc>* heap, size_t k, ScoredDoc d) {
  if (k == SIZE_MAX) {
    heap->push_back(d);
  } else if (heap->size() < k) {
    heap->push_back(d);
    std::push_heap(heap->begin(), heap->end(), better);
  } else if (better(d, heap->front())) {
    std::pop_heap(heap->begin(), heap->end(), better);
    heap->back() = d;
    std::push_heap(heap->begin(), heap->end(), better);
  }
}

inline double threshold(const std::vector<ScoredDoc>& heap, size_t k) {
  return k != SIZE_MAX && heap.size() >= k ? heap.front().score
                                           : -std::numeric_limits<double>::infinity();
}

}  // namespace

bool TextSearch::Impl::group_matches(const Group& g, uint32_t doc) {
  bool any = false;
  for (size_t c : g.cursors) {
    cursors[c].pc.seek(doc);
    any = any || cursors[c].pc.doc() == doc;
  }
  if (!any) return false;
  return g.phrase.empty() || phrase_matches(g, doc);
}

bool TextSearch::Impl::phrase_matches(const Group& g, uint32_t doc) {
  for (const PhraseField& pf : g.phrase) {
    if (pf.terms.empty()) continue;
    pf.field->analyzer->analyze(index->text_of(kind, *pf.field, doc), &tokens);
    // positions of each phrase term in the document
    std::vector<std::vector<uint32_t>> at(pf.terms.size());
    for (const Token& t : tokens) {
      for (size_t i = 0; i < pf.terms.size(); ++i) {
        if (t.term == pf.terms[i].first) at[i].push_back(t.position);
      }
    }
    for (uint32_t p : at[0]) {
      bool all = true;
      for (size_t i = 1; i < pf.terms.size() && all; ++i) {
        all = std::binary_search(at[i].begin(), at[i].end(), p + pf.terms[i].second);
      }
      if (all) return true;
    }
  }
  return false;
}

std::optional<double> TextSearch::Impl::evaluate(uint32_t doc) {
  for (const Group& g : must) {
    if (!group_matches(g, doc)) return std::nullopt;
  }
  double score = 0;
  bool any = !must.empty();
  for (size_t i = 0; i < scoring; ++i) {
    Cursor& c = cursors[i];
    c.pc.seek(doc);
    if (c.pc.doc() == doc) {
      score += c.score();
      any = true;
    }
  }
  if (!any) return std::nullopt;
  for (const Group& g : must_not) {
    if (group_matches(g, doc)) return std::nullopt;
  }
  return score;
}

void TextSearch::Impl::consider(uint32_t doc, size_t k,
                                const std::function<bool(uint32_t, double)>& accept,
                                std::vector<ScoredDoc>* heap, SearchStats* stats) {
  ++stats->evaluated;
  std::optional<double> s = evaluate(doc);
  if (s && (!accept || accept(doc, *s))) {
    ++stats->matched;
    offer(heap, k, {doc, *s});
  }
}

void TextSearch::Impl::run_wand(size_t k, const entities::Bitmap* candidates,
                                const std::function<bool(uint32_t, double)>& accept,
                                std::vector<ScoredDoc>* heap, SearchStats* stats) {
  std::vector<Cursor*> order;
  for (size_t i = 0; i < scoring; ++i) order.push_back(&cursors[i]);
  auto by_doc = [](const Cursor* a, const Cursor* b) { return a->pc.doc() < b->pc.doc(); };
  std::sort(order.begin(), order.end(), by_doc);
  const size_t n = order.size();
  while (true) {
    const double theta = threshold(*heap, k);
    // The pivot: the first cursor where the bounds so far could beat theta.
    double acc = 0;
    size_t p = n;
    for (size_t i = 0; i < n && order[i]->pc.doc() != kNoDoc; ++i) {
      acc += order[i]->ub;
      if (acc > theta) {
        p = i;
        break;
      }
    }
    if (p == n) break;
    const uint32_t pivot = order[p]->pc.doc();
    while (p + 1 < n && order[p + 1]->pc.doc() == pivot) ++p;
    double block = 0;
    for (size_t i = 0; i <= p; ++i) block += order[i]->block_bound(pivot);
    if (block > theta) {
      if (order[0]->pc.doc() == pivot) {
        if (candidates == nullptr || candidates->contains(pivot)) {
          consider(pivot, k, accept, heap, stats);
        }
        for (size_t i = 0; i <= p; ++i) order[i]->pc.next();
      } else {
        for (size_t i = 0; i < p && order[i]->pc.doc() < pivot; ++i) order[i]->pc.seek(pivot);
      }
    } else {
      // No document before the end of these blocks can beat theta.
      uint32_t next = p + 1 < n ? order[p + 1]->pc.doc() : kNoDoc;
      for (size_t i = 0; i <= p; ++i) {
        const uint32_t last = order[i]->block_last(pivot);
        if (last != kNoDoc) next = std::min(next, last + 1);
      }
      for (size_t i = 0; i <= p; ++i) order[i]->pc.seek(next);
    }
    std::sort(order.begin(), order.end(), by_doc);
  }
}

void TextSearch::Impl::run_conjunctive(size_t k, const entities::Bitmap* candidates,
                                       const std::function<bool(uint32_t, double)>& accept,
                                       std::vector<ScoredDoc>* heap, SearchStats* stats) {
  // Leapfrog over the required groups: a group is at the smallest document
  // one of its cursors is at.
  auto group_at = [&](const Group& g, uint32_t target) {
    uint32_t d = kNoDoc;
    for (size_t c : g.cursors) {
      cursors[c].pc.seek(target);
      d = std::min(d, cursors[c].pc.doc());
    }
    return d;
  };
  uint32_t target = 0;
  while (true) {
    bool agreed = true;
    for (const Group& g : must) {
      const uint32_t d = group_at(g, target);
      if (d == kNoDoc) return;
      if (d != target) {
        target = d;
        agreed = false;
        break;
      }
    }
    if (!agreed) continue;
    if (candidates == nullptr || candidates->contains(target)) {
      consider(target, k, accept, heap, stats);
    }
    if (target == kNoDoc - 1) return;
    ++target;
  }
}

void TextSearch::Impl::run_candidates(size_t k, const entities::Bitmap& candidates,
                                      const std::function<bool(uint32_t, double)>& accept,
                                      std::vector<ScoredDoc>* heap, SearchStats* stats) {
  for (uint32_t doc : candidates) {
    consider(doc, k, accept, heap, stats);
  }
}

void TextSearch::Impl::run(size_t k, const entities::Bitmap* candidates,
                           const std::function<bool(uint32_t, double)>& accept,
                           std::vector<ScoredDoc>* out, SearchStats* stats) {
  stats->postings = postings;
  if (nothing) {
    stats->strategy = "none (no searched word is in the index)";
    return;
  }
  // Fresh cursors for this run.
  for (Cursor& c : cursors) c.pc = PostingCursor(c.pc.list());
  const uint64_t lookups =
      candidates ? candidates->cardinality() * std::max<size_t>(1, scoring) : 0;
  if (candidates != nullptr && lookups * 8 < postings) {
    stats->strategy = "candidates";
    run_candidates(k, *candidates, accept, out, stats);
  } else if (!must.empty()) {
    stats->strategy = "conjunctive";
    run_conjunctive(k, candidates, accept, out, stats);
  } else {
    stats->strategy = "block-max WAND";
    run_wand(k, candidates, accept, out, stats);
  }
}

TextSearch::TextSearch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TextSearch::~TextSearch() = default;

bool TextSearch::matches_nothing() const {
  return impl_->nothing;
}

std::string TextSearch::describe() const {
  return impl_->description;
}

std::vector<ScoredDoc> TextSearch::top(size_t k, const entities::Bitmap* candidates,
                                       const std::function<bool(uint32_t, double)>& accept,
                                       SearchStats* stats) {
  std::vector<ScoredDoc> heap;
  if (k == 0) return heap;
  impl_->run(k, candidates, accept, &heap, stats);
  std::sort(heap.begin(), heap.end(), better);
  return heap;
}

std::vector<ScoredDoc> TextSearch::all(const entities::Bitmap* candidates, SearchStats* stats) {
  std::vector<ScoredDoc> out;
  impl_->run(SIZE_MAX, candidates, nullptr, &out, stats);
  return out;
}

// ---------------------------------------------------------------------------
// Compile

Result<std::unique_ptr<TextSearch>> TextSearch::compile(const TextIndex& index, EntityKind kind,
                                                        std::vector<FieldChoice> fields,
                                                        const std::vector<QueryClause>& clauses,
                                                        bool match_all) {
  if (fields.empty()) {
    for (const auto& f : index.fields(kind)) fields.push_back({f.get(), 1.0});
  }
  if (fields.empty()) {
    return Status::Invalid(Subsystem::kQuery, "target", std::string(entity_kind_name(kind)),
                           "has no text attributes to search; declare an attribute of type text");
  }
  auto impl = std::make_unique<Impl>();
  impl->index = &index;
  impl->kind = kind;

  // Scoring cursors, one per (attribute, term), with the term's count over
  // the clauses that score (all but the excluded ones).
  std::map<std::pair<size_t, std::string>, size_t> scoring_at;  // (field, term) -> cursor
  std::vector<std::pair<size_t, std::string>> scoring_keys;
  std::vector<double> qtf;
  std::vector<Token> tokens;
  auto scoring_cursor = [&](size_t f, const std::string& term) {
    auto [it, added] = scoring_at.emplace(std::make_pair(f, term), scoring_keys.size());
    if (added) {
      scoring_keys.emplace_back(f, term);
      qtf.push_back(0);
    }
    return it->second;
  };
  struct PendingGroup {
    Occur occur;
    std::vector<std::pair<size_t, std::string>> keys;  // (field, term) a match needs one of
    std::vector<PhraseField> phrase;
  };
  std::vector<PendingGroup> groups;
  std::string words_text;
  for (const QueryClause& c : clauses) {
    const Occur occur = c.occur == Occur::kShould && match_all ? Occur::kMust : c.occur;
    PendingGroup g{occur, {}, {}};
    for (size_t f = 0; f < fields.size(); ++f) {
      const TextField& field = *fields[f].field;
      field.analyzer->analyze(c.text, &tokens);
      if (tokens.empty()) continue;
      if (c.phrase && tokens.size() > 1) {
        PhraseField pf{&field, {}};
        for (const Token& t : tokens) {
          pf.terms.emplace_back(t.term, t.position - tokens[0].position);
        }
        // A match needs the phrase's rarest term in this attribute.
        const Token* rarest = &tokens[0];
        size_t rarest_df = SIZE_MAX;
        for (const Token& t : tokens) {
          const PostingList* l = field.index.find(t.term);
          const size_t df = l ? l->size() : 0;
          if (df < rarest_df) {
            rarest_df = df;
            rarest = &t;
          }
        }
        g.keys.emplace_back(f, rarest->term);
        g.phrase.push_back(std::move(pf));
      } else {
        for (const Token& t : tokens) g.keys.emplace_back(f, t.term);
      }
      if (occur != Occur::kMustNot) {
        for (const Token& t : tokens) qtf[scoring_cursor(f, t.term)] += 1;
      }
    }
    if (!words_text.empty()) words_text += ' ';
    words_text += (c.occur == Occur::kMust      ? "+"
                   : c.occur == Occur::kMustNot ? "-"
                                                : "") +
                  (c.phrase ? "\"" + c.text + "\"" : c.text);
    if (g.keys.empty()) continue;  // only stop words: the clause asks for nothing
    groups.push_back(std::move(g));
  }

  // Cursors over the lists that exist.
  std::map<std::pair<size_t, std::string>, size_t> cursor_of;
  for (size_t i = 0; i < scoring_keys.size(); ++i) {
    const auto& [f, term] = scoring_keys[i];
    const TextField& field = *fields[f].field;
    const PostingList* list = field.index.find(term);
    if (list == nullptr) continue;
    const TextOptions& o = field.def.text;
    const double avgdl = std::max(field.index.average_length(), 1e-9);
    Cursor c;
    c.pc = PostingCursor(list);
    c.field = &field;
    c.w = fields[f].boost * o.boost * qtf[i] * bm25_idf(field.index.doc_count(), list->size()) *
          (o.k1 + 1);
    c.c1 = o.k1 * (1 - o.b);
    c.c2 = o.k1 * o.b / avgdl;
    c.ub = c.bound(list->max_tf(), list->min_ratio());
    impl->postings += list->size();
    cursor_of[scoring_keys[i]] = impl->cursors.size();
    impl->cursors.push_back(c);
  }
  impl->scoring = impl->cursors.size();
  auto any_cursor = [&](const std::pair<size_t, std::string>& key) -> std::optional<size_t> {
    auto it = cursor_of.find(key);
    if (it != cursor_of.end()) return it->second;
    const PostingList* list = fields[key.first].field->index.find(key.second);
    if (list == nullptr) return std::nullopt;
    Cursor c;  // an excluded-only term: never scored
    c.pc = PostingCursor(list);
    c.field = fields[key.first].field;
    cursor_of[key] = impl->cursors.size();
    impl->cursors.push_back(c);
    return cursor_of[key];
  };
  for (PendingGroup& pg : groups) {
    Group g;
    g.occur = pg.occur;
    g.phrase = std::move(pg.phrase);
    for (const auto& key : pg.keys) {
      if (std::optional<size_t> c = any_cursor(key)) g.cursors.push_back(*c);
    }
    if (g.occur == Occur::kMustNot) {
      if (!g.cursors.empty()) impl->must_not.push_back(std::move(g));
    } else if (g.occur == Occur::kMust) {
      if (g.cursors.empty()) impl->nothing = true;  // a required word no document has
      impl->must.push_back(std::move(g));
    }
  }
  if (impl->scoring == 0) impl->nothing = true;

  std::string names;
  for (const FieldChoice& f : fields) {
    if (!names.empty()) names += ", ";
    names += f.field->def.name;
    const double boost = f.boost * f.field->def.text.boost;
    if (boost != 1.0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "^%g", boost);
      names += buf;
    }
  }
  impl->description = "text index over " + names + ": " + std::to_string(impl->scoring) +
                      " (attribute, term) posting lists for \"" + words_text + "\"" +
                      (match_all ? ", all words required" : "");
  return std::unique_ptr<TextSearch>(new TextSearch(std::move(impl)));
}

}  // namespace tidal::text
