#include "query/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/coding.h"
#include "core/duration.h"
#include "core/hash.h"
#include "entities/attribute_catalog.h"
#include "entities/entity_codec.h"
#include "entities/filter_index.h"
#include "query/cursor.h"
#include "query/filter.h"
#include "query/limits.h"
#include "query/printer.h"
#include "query/sort_modes.h"
#include "ranking/profile.h"
#include "text/text_search.h"

namespace tidal::query {

namespace {

using SteadyClock = std::chrono::steady_clock;
using entities::Bitmap;

constexpr size_t kBatch = ranking::kEvalBatch;
// SIMILAR / NEAREST ranked by anything but similarity alone: how many of the
// nearest are scored (at least; EF or the page may ask for more).
constexpr size_t kVectorPool = 200;
// Reciprocal-rank fusion's constant (Cormack et al. 2009).
constexpr int kRrfK = 60;
constexpr double kMaxSeed = 9007199254740992.0;  // 2^53

double micros_since(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - t).count();
}

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

Status not_supported(const Statement& s, std::string_view what) {
  return Status::NotSupported(Subsystem::kQuery, "line " + std::to_string(s.pos.line) +
                                                     ", column " + std::to_string(s.pos.column) +
                                                     ": not supported yet: " + std::string(what));
}

// ---------------------------------------------------------------------------
// Plan

struct Plan {
  EntityKind target = EntityKind::kItem;
  std::string sort_text;   // the sort as the user sees it (a mode's full call)
  std::string score_text;  // the expression actually scored
  ranking::Program program;
  bool ascending = false;
  SortIndex index = SortIndex::kNone;
  uint16_t index_signal = 0;
  uint8_t index_window = 0;

  std::optional<Filter> filter;
  std::string filter_text;
  std::optional<std::vector<std::string>> keys;  // WHERE key IN (...)

  std::optional<Diversify> diversify;
  const AttributeDefinition* diversify_attr = nullptr;

  // SEARCH: the compiled text query; `relevance_only` when the sort is
  // exactly bm25 descending (the text index's top-k answers it).
  std::shared_ptr<text::TextSearch> text;
  bool relevance_only = false;

  // SIMILAR / NEAREST: the slot searched, the query vector as stored
  // vectors are (normalized under cosine), the entity itself (SIMILAR: never
  // its own neighbour), the HNSW breadth. `similarity_only` when the sort is
  // exactly similarity(slot) descending with no QUERY (the nearest are the
  // answer); `hybrid` when a QUERY text is fused with the vector list.
  const vectors::VectorSlot* vector_slot = nullptr;
  std::vector<float> query_vector;
  std::optional<uint32_t> exclude;
  size_t ef = vectors::kDefaultEf;
  bool similarity_only = false;

  size_t limit = 20;
  std::optional<Ranked> after;
  uint64_t fingerprint = 0;
  uint64_t seed = 0;
};

uint64_t fresh_seed() {
  static std::atomic<uint64_t> counter{std::random_device{}()};
  uint64_t x = counter.fetch_add(0x9e3779b97f4a7c15ULL) + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
  return (x ^ (x >> 29)) % static_cast<uint64_t>(kMaxSeed);
}

bool is_key_name(const Expr& e, const Schema& schema, EntityKind kind) {
  return e.kind == ExprKind::kIdentifier && e.text == "key" &&
         schema.find_attribute(kind, "key") == nullptr;
}

void flatten_and(const Expr& e, std::vector<const Expr*>* out) {
  if (e.kind == ExprKind::kBinary && e.op == ExprOp::kAnd) {
    flatten_and(e.args[0], out);
    flatten_and(e.args[1], out);
  } else {
    out->push_back(&e);
  }
}

// Splits `key = 'x'` and `key IN ('a', 'b')` conjuncts (the explicit-keys
// source) from the rest of a WHERE predicate.
Status split_keys(const Expr& where, const Schema& schema, EntityKind kind,
                  std::optional<std::vector<std::string>>* keys, std::optional<Expr>* rest) {
  std::vector<const Expr*> conjuncts;
  flatten_and(where, &conjuncts);
  for (const Expr* c : conjuncts) {
    std::vector<std::string> these;
    bool is_keys = false;
    if (c->kind == ExprKind::kBinary && c->op == ExprOp::kEq && c->args.size() == 2) {
      const Expr* name = &c->args[0];
      const Expr* value = &c->args[1];
      if (!is_key_name(*name, schema, kind)) std::swap(name, value);
      if (is_key_name(*name, schema, kind)) {
        if (value->kind != ExprKind::kString) {
          return Status::Invalid(Subsystem::kQuery, "where.key", to_tql(*value),
                                 "keys are strings: key = 'k' or key IN ('a', 'b')");
        }
        these.push_back(value->text);
        is_keys = true;
      }
    } else if (c->kind == ExprKind::kBinary && c->op == ExprOp::kIn &&
               is_key_name(c->args[0], schema, kind) && c->args[1].kind == ExprKind::kList) {
      for (const Expr& v : c->args[1].args) {
        if (v.kind != ExprKind::kString) {
          return Status::Invalid(Subsystem::kQuery, "where.key", to_tql(v),
                                 "keys are strings: key = 'k' or key IN ('a', 'b')");
        }
        these.push_back(v.text);
      }
      is_keys = true;
    }
    if (is_keys) {
      if (!*keys) {
        *keys = std::move(these);
      } else {  // two key conjuncts: their intersection
        std::vector<std::string> both;
        for (const std::string& k : **keys) {
          if (std::find(these.begin(), these.end(), k) != these.end()) both.push_back(k);
        }
        **keys = std::move(both);
      }
      continue;
    }
    if (!*rest) {
      *rest = *c;
    } else {
      Expr conj{.kind = ExprKind::kBinary, .op = ExprOp::kAnd, .pos = (*rest)->pos};
      conj.args.push_back(std::move(**rest));
      conj.args.push_back(*c);
      *rest = std::move(conj);
    }
  }
  return Status::Ok();
}

// SEARCH: resolves IN (...) against the text attributes and compiles the
// search text.
Status compile_search(const Statement& s, const QueryState& st, Plan* p) {
  if (st.text == nullptr) return Status::Internal(Subsystem::kQuery, "no text index");
  std::vector<text::FieldChoice> fields;
  for (size_t i = 0; i < s.fields.size(); ++i) {
    const SearchField& f = s.fields[i];
    const text::TextField* tf = st.text->field(s.target, f.name);
    if (tf == nullptr) {
      std::string known;
      for (const auto& x : st.text->fields(s.target)) {
        known += (known.empty() ? "" : ", ") + x->def.name;
      }
      return Status::Invalid(Subsystem::kQuery, "fields[" + std::to_string(i) + "]", f.name,
                             "is not a text attribute of " + std::string(target_name(s.target)) +
                                 " (text attributes: " + (known.empty() ? "none" : known) + ")");
    }
    fields.push_back({tf, f.boost});
  }
  TIDAL_ASSIGN_OR_RETURN(std::vector<text::QueryClause> clauses, text::parse_query_text(s.text));
  TIDAL_ASSIGN_OR_RETURN(
      std::unique_ptr<text::TextSearch> search,
      text::TextSearch::compile(*st.text, s.target, std::move(fields), clauses, s.match_all));
  p->text = std::move(search);
  return Status::Ok();
}

// SIMILAR / NEAREST: resolves USING against the vector attributes and the
// query vector (SIMILAR: the vector of entity TO 'key').
Status compile_vector(const Statement& s, const QueryState& st, Plan* p) {
  if (st.vectors == nullptr) return Status::Internal(Subsystem::kQuery, "no vector index");
  const std::string kind(target_name(s.target));
  const vectors::VectorSlot* slot = st.vectors->slot(s.target, s.slot);
  if (slot == nullptr) {
    std::string known;
    for (const auto& x : st.vectors->slots(s.target)) {
      known += (known.empty() ? "" : ", ") + x->def().name;
    }
    return Status::Invalid(Subsystem::kQuery, "using", s.slot,
                           "is not a vector attribute of " + kind +
                               " (vector attributes: " + (known.empty() ? "none" : known) + ")");
  }
  p->vector_slot = slot;
  p->ef = static_cast<size_t>(s.ef.value_or(static_cast<int64_t>(vectors::kDefaultEf)));
  if (s.kind == StatementKind::kNearest) {
    TIDAL_ASSIGN_OR_RETURN(p->query_vector, slot->prepare_query(s.vector, "vector"));
    return Status::Ok();
  }
  std::optional<uint32_t> id = st.keys[static_cast<size_t>(s.target)]->find(s.key);
  if (!id || !st.entities->live(s.target, *id)) {
    return Status::NotFound(Subsystem::kQuery,
                            "SIMILAR " + kind + " TO '" + s.key + "': no such entity", "key");
  }
  const float* v = slot->stored(*id);
  if (v == nullptr) {
    return Status::Invalid(Subsystem::kQuery, "key", s.key,
                           "has no value for vector attribute " + s.slot +
                               "; SIMILAR compares to that entity's vector");
  }
  p->query_vector.assign(v, v + slot->dim());
  p->exclude = *id;
  return Status::Ok();
}

Result<Plan> make_plan(const Statement& s, const QueryState& st, const QueryOptions&) {
  const Schema& schema = *st.schema;
  Plan p;
  p.target = s.target;
  p.limit = static_cast<size_t>(s.limit.value_or(20));
  p.fingerprint = fingerprint_of(s);
  p.seed = fresh_seed();
  if (s.cursor) {
    TIDAL_ASSIGN_OR_RETURN(Cursor c, decode_cursor(*s.cursor));
    if (c.fingerprint != p.fingerprint) {
      return Status::Invalid(Subsystem::kQuery, "cursor", *s.cursor,
                             "belongs to a different query; a cursor continues only the query "
                             "that returned it (its LIMIT may change)");
    }
    p.after = c.last;
    p.seed = c.seed;
  }

  // The sort.
  Expr sort;
  std::optional<bool> ascending;
  switch (s.kind) {
    case StatementKind::kTrending: {
      if (!s.cohort.empty()) return not_supported(s, "TRENDING ... FOR COHORT (cohorts)");
      sort = Expr{.kind = ExprKind::kCall, .pos = s.pos, .text = "top"};
      if (!s.signal.empty()) {
        sort.args.push_back(Expr{.kind = ExprKind::kIdentifier, .pos = s.pos, .text = s.signal});
      }
      sort.args.push_back(Expr{.kind = ExprKind::kDuration, .pos = s.pos, .duration = *s.window});
      break;
    }
    case StatementKind::kRank: sort = *s.rank_by; break;
    case StatementKind::kSearch: {
      if (s.within_trending) {
        return not_supported(s, "SEARCH ... WITHIN TRENDING (cohort and trending sources)");
      }
      sort = s.rank_by ? *s.rank_by
                       : Expr{.kind = ExprKind::kIdentifier, .pos = s.pos, .text = "relevance"};
      TIDAL_RETURN_IF_ERROR(compile_search(s, st, &p));
      break;
    }
    case StatementKind::kSimilar:
    case StatementKind::kNearest: {
      TIDAL_RETURN_IF_ERROR(compile_vector(s, st, &p));
      if (!s.text.empty()) TIDAL_RETURN_IF_ERROR(compile_search(s, st, &p));
      const char* dflt = s.text.empty() ? "similarity" : "hybrid";
      sort =
          s.rank_by ? *s.rank_by : Expr{.kind = ExprKind::kIdentifier, .pos = s.pos, .text = dflt};
      break;
    }
    case StatementKind::kFeed: return not_supported(s, "FEED (personalized feeds)");
    case StatementKind::kCreateCohort: return not_supported(s, "CREATE COHORT (cohorts)");
    case StatementKind::kCreateProfile:
      return Status::Internal(Subsystem::kQuery, "CREATE PROFILE is not a read query");
  }
  if (s.order != SortOrder::kDefault) ascending = s.order == SortOrder::kAsc;

  const ProfileLookup profiles = [&](std::string_view name) -> const Expr* {
    const StoredProfile* sp = st.profiles ? st.profiles->find(name) : nullptr;
    return sp ? &sp->expr : nullptr;
  };
  const bool vector_query = p.vector_slot != nullptr;
  const bool bare = sort.kind == ExprKind::kIdentifier;
  const bool relevance = p.text && bare && sort.text == "relevance";
  const bool similarity = bare && sort.text == "similarity";
  const bool hybrid = bare && sort.text == "hybrid";
  if ((similarity || hybrid) && !vector_query) {
    return Status::Invalid(Subsystem::kQuery, "sort", sort.text,
                           "ranks by a query vector, which only SIMILAR and NEAREST have");
  }
  const bool names_mode = (sort.kind == ExprKind::kIdentifier || sort.kind == ExprKind::kCall) &&
                          is_sort_mode(sort.text) && !relevance && !similarity && !hybrid;
  Expr scored;
  if (relevance) {
    p.sort_text = "relevance";
    scored = Expr{.kind = ExprKind::kIdentifier, .pos = sort.pos, .text = "bm25"};
  } else if (similarity) {
    p.sort_text = "similarity";
    scored = Expr{.kind = ExprKind::kCall, .pos = sort.pos, .text = "similarity"};
    scored.args.push_back(
        Expr{.kind = ExprKind::kIdentifier, .pos = sort.pos, .text = p.vector_slot->def().name});
  } else if (hybrid) {
    p.sort_text = "hybrid";
    scored = sort;
  } else if (names_mode) {
    if (p.target != EntityKind::kItem) {
      return Status::Invalid(Subsystem::kQuery, "sort", sort.text,
                             "sort modes rank items; rank users and creators by an attribute "
                             "or an expression over their attributes");
    }
    TIDAL_ASSIGN_OR_RETURN(ResolvedMode m, resolve_mode(sort, schema, p.seed));
    p.sort_text = s.kind == StatementKind::kTrending ? "trending window count " + m.call : m.call;
    scored = std::move(m.expr);
    if (!ascending) ascending = m.ascending;
  } else {
    if (sort.kind == ExprKind::kIdentifier && !profiles(sort.text)) {
      // RANK BY <attribute>: the schema must declare it sortable.
      const AttributeDefinition* a = st.entities->catalog(p.target).find(sort.text);
      if (a != nullptr && !a->sortable) {
        return Status::Invalid(Subsystem::kQuery, "sort", sort.text,
                               "attribute is not sortable; declare it with sortable = true");
      }
      if (a != nullptr && a->type == AttributeType::kKeyword) {
        return Status::NotSupported(
            Subsystem::kQuery, "not supported yet: sorting by keyword attribute \"" + sort.text +
                                   "\" (numbers, bools and timestamps sort)");
      }
    }
    TIDAL_ASSIGN_OR_RETURN(scored, expand_names(sort, schema, profiles, p.seed));
    p.sort_text = to_tql(sort);
  }
  p.ascending = ascending.value_or(false);
  p.score_text = to_tql(scored);
  Result<ranking::Program> program =
      ranking::compile(scored, {.schema = &schema, .kind = p.target});
  if (!program.ok()) {
    const Status& e = program.status();
    return Status::Invalid(Subsystem::kQuery, "sort", p.sort_text,
                           "does not compile: " + e.message());
  }
  p.program = std::move(*program);
  const bool uses_bm25 = std::any_of(
      p.program.features().begin(), p.program.features().end(),
      [](const ranking::FeatureRef& f) { return f.kind == ranking::FeatureKind::kBm25; });
  if (uses_bm25 && !p.text) {
    return Status::Invalid(Subsystem::kQuery, "sort", p.sort_text,
                           "reads bm25 (text relevance), which only a query with a QUERY text "
                           "(SEARCH, or SIMILAR / NEAREST ... QUERY '...') has");
  }
  for (const ranking::FeatureRef& f : p.program.features()) {
    if (f.kind == ranking::FeatureKind::kSimilarity) {
      if (!vector_query) {
        return Status::Invalid(Subsystem::kQuery, "sort", p.sort_text,
                               "reads similarity(), which needs a query vector: only SIMILAR and "
                               "NEAREST have one");
      }
      if (f.attribute != p.vector_slot->def().id) {
        const AttributeDefinition* a = st.entities->catalog(p.target).at_slot(f.attribute);
        return Status::Invalid(Subsystem::kQuery, "sort", p.sort_text,
                               "reads similarity(" + (a ? a->name : std::string("?")) +
                                   "), but the query vector is for " + p.vector_slot->def().name +
                                   " (USING " + p.vector_slot->def().name + ")");
      }
    }
    if (f.kind == ranking::FeatureKind::kHybrid && (!vector_query || !p.text)) {
      return Status::Invalid(Subsystem::kQuery, "sort", p.sort_text,
                             "reads hybrid, the fusion of a text and a vector ranking: write "
                             "NEAREST or SIMILAR ... USING slot QUERY 'text'");
    }
  }
  p.similarity_only = vector_query && !p.text && !p.ascending && p.program.is_bare_feature() &&
                      p.program.features()[0].kind == ranking::FeatureKind::kSimilarity;
  p.relevance_only =
      s.kind == StatementKind::kSearch && !p.ascending && p.program.is_bare_feature() && uses_bm25;

  // A trending index serves a descending sort by exactly one of its scores
  // (unless the vector index is the source).
  if (p.target == EntityKind::kItem && !vector_query && !p.ascending &&
      p.program.is_bare_feature()) {
    const ranking::FeatureRef& f = p.program.features()[0];
    p.index_signal = f.signal;
    p.index_window = f.window;
    if (f.kind == ranking::FeatureKind::kDecay) p.index = SortIndex::kHot;
    if (f.kind == ranking::FeatureKind::kCount) p.index = SortIndex::kCount;
    if (f.kind == ranking::FeatureKind::kVelocity) p.index = SortIndex::kRising;
  }

  // WHERE: explicit keys, then the attribute filter.
  if (s.where) {
    std::optional<Expr> rest;
    TIDAL_RETURN_IF_ERROR(split_keys(*s.where, schema, p.target, &p.keys, &rest));
    if (rest) {
      TIDAL_ASSIGN_OR_RETURN(Filter f, to_filter(*rest));
      TIDAL_RETURN_IF_ERROR(st.entities->check(p.target, f));
      p.filter = std::move(f);
      p.filter_text = to_tql(*rest);
    }
  }

  if (s.diversify) {
    p.diversify = s.diversify;
    const entities::AttributeCatalog& catalog = st.entities->catalog(p.target);
    p.diversify_attr = catalog.find(s.diversify->attribute);
    if (p.diversify_attr == nullptr) {
      return Status::Invalid(Subsystem::kQuery, "diversify", s.diversify->attribute,
                             "is not an attribute of " + std::string(target_name(p.target)));
    }
    const AttributeType t = p.diversify_attr->type;
    if (t != AttributeType::kKeyword && t != AttributeType::kInt && t != AttributeType::kBool) {
      return Status::Invalid(Subsystem::kQuery, "diversify", s.diversify->attribute,
                             "is of type " + std::string(attribute_type_name(t)) +
                                 "; DIVERSIFY BY takes a keyword, int or bool attribute");
    }
  }
  return p;
}

// ---------------------------------------------------------------------------
// Features

// What the features of a vector query read: the slot and query vector
// (similarity) and the fused ranks (hybrid, ascending by entity).
struct VectorFeatures {
  const vectors::VectorSlot* slot = nullptr;
  const float* query = nullptr;
  const std::vector<text::ScoredDoc>* hybrid = nullptr;
};

// The score of entity `id` in `docs` (ascending by doc), 0 when absent.
double score_in(const std::vector<text::ScoredDoc>* docs, uint32_t id) {
  if (docs == nullptr) return 0;
  auto it = std::lower_bound(docs->begin(), docs->end(), id,
                             [](const text::ScoredDoc& d, uint32_t v) { return d.doc < v; });
  return it != docs->end() && it->doc == id ? it->score : 0;
}

// Fetches the columns of a program's features for batches of candidates.
class FeatureFetcher {
 public:
  // `columns`: read windowed features from the ledger's dense window
  // columns (worth it when many candidates are scored; the first use of a
  // column builds it).
  // `relevance`: SEARCH's matches with their BM25 scores, ascending by
  // document (the bm25 feature reads them; 0 for any other document).
  FeatureFetcher(const ranking::Program& program, const QueryState& st, EntityKind kind,
                 bool columns, const std::vector<text::ScoredDoc>* relevance = nullptr,
                 VectorFeatures vector = {})
      : st_(st),
        kind_(kind),
        now_us_(st.now_us),
        columns_(columns),
        relevance_(relevance),
        vector_(vector) {
    for (const ranking::FeatureRef& f : program.features()) sources_.push_back(source_of(f));
  }

  size_t size() const { return sources_.size(); }

  // out[i] = feature f of candidate ids[i], 0 <= i < n.
  void fetch(size_t f, const uint32_t* ids, size_t n, double* out) const {
    const Source& src = sources_[f];
    const signals::SignalLedger* l = src.ledger;
    const uint8_t w = src.ref.window;
    // Without columns, read each item's warm state, prefetching a few
    // candidates ahead (the states are scattered heap blocks).
    constexpr size_t kAhead = 8;
    auto each = [&](auto&& value_of) {
      for (size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) l->prefetch(ids[i + kAhead]);
        out[i] = value_of(ids[i]);
      }
    };
    switch (src.ref.kind) {
      case ranking::FeatureKind::kDecay:
        for (size_t i = 0; i < n; ++i) out[i] = l->hot(ids[i], now_us_);
        return;
      case ranking::FeatureKind::kCount:
        if (src.column) {
          for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]);
        } else {
          each([&](uint32_t id) { return static_cast<double>(l->count(id, w, now_us_)); });
        }
        return;
      case ranking::FeatureKind::kSum:
        if (src.column) {
          for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]);
        } else {
          each([&](uint32_t id) { return l->sum(id, w, now_us_); });
        }
        return;
      case ranking::FeatureKind::kPrevCount:
        if (src.column) {
          for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]);
        } else {
          each([&](uint32_t id) { return static_cast<double>(l->prev_count(id, w, now_us_)); });
        }
        return;
      case ranking::FeatureKind::kVelocity:
        if (src.column) {
          for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]) - src.prev->at(ids[i]);
        } else {
          each([&](uint32_t id) { return l->velocity(id, w, now_us_); });
        }
        return;
      case ranking::FeatureKind::kGaussian:
        for (size_t i = 0; i < n; ++i) out[i] = ranking::gaussian_draw(src.ref.seed, ids[i]);
        return;
      case ranking::FeatureKind::kBm25:
        for (size_t i = 0; i < n; ++i) out[i] = score_in(relevance_, ids[i]);
        return;
      case ranking::FeatureKind::kSimilarity:
        for (size_t i = 0; i < n; ++i) {
          out[i] = vector_.slot ? vector_.slot->similarity(vector_.query, ids[i]) : 0;
        }
        return;
      case ranking::FeatureKind::kHybrid:
        for (size_t i = 0; i < n; ++i) out[i] = score_in(vector_.hybrid, ids[i]);
        return;
      case ranking::FeatureKind::kAttribute:
      case ranking::FeatureKind::kCreatedAt:
        for (size_t i = 0; i < n; ++i) out[i] = attribute(src, ids[i]);
        return;
    }
  }

 private:
  struct Source {
    ranking::FeatureRef ref;
    const signals::SignalLedger* ledger = nullptr;
    // Windowed features: the ledger's dense columns (velocity: count − prev).
    std::shared_ptr<const signals::SignalLedger::WindowColumn> column;
    std::shared_ptr<const signals::SignalLedger::WindowColumn> prev;
    // Attributes: read from the filter index when there is one.
    uint16_t slot = 0;
    AttributeType type = AttributeType::kInt;
    const entities::NumericIndex<int64_t>* ints = nullptr;
    const entities::NumericIndex<double>* floats = nullptr;
    const entities::ValueBitmapIndex* bools = nullptr;
  };

  Source source_of(const ranking::FeatureRef& f) const {
    Source s;
    s.ref = f;
    switch (f.kind) {
      case ranking::FeatureKind::kDecay:
      case ranking::FeatureKind::kCount:
      case ranking::FeatureKind::kSum:
      case ranking::FeatureKind::kVelocity:
      case ranking::FeatureKind::kPrevCount: {
        using Kind = signals::SignalLedger::ColumnKind;
        signals::SignalLedger& l = st_.ledger->ledger(f.signal);
        s.ledger = &l;
        if (!columns_ || f.kind == ranking::FeatureKind::kDecay) break;
        if (f.kind == ranking::FeatureKind::kCount || f.kind == ranking::FeatureKind::kVelocity) {
          s.column = l.column(f.window, Kind::kCount, now_us_);
        }
        if (f.kind == ranking::FeatureKind::kSum)
          s.column = l.column(f.window, Kind::kSum, now_us_);
        if (f.kind == ranking::FeatureKind::kPrevCount) {
          s.column = l.column(f.window, Kind::kPrevCount, now_us_);
        }
        if (f.kind == ranking::FeatureKind::kVelocity) {
          s.prev = l.column(f.window, Kind::kPrevCount, now_us_);
        }
        break;
      }
      case ranking::FeatureKind::kGaussian:
      case ranking::FeatureKind::kBm25:
      case ranking::FeatureKind::kSimilarity:
      case ranking::FeatureKind::kHybrid: break;
      case ranking::FeatureKind::kAttribute:
      case ranking::FeatureKind::kCreatedAt: {
        s.slot =
            f.kind == ranking::FeatureKind::kCreatedAt ? entities::kCreatedAtSlot : f.attribute;
        const AttributeDefinition* def = st_.entities->catalog(kind_).at_slot(s.slot);
        s.type = def ? def->type : AttributeType::kInt;
        const entities::AttributeIndex* index = st_.entities->index(kind_, s.slot);
        if (index != nullptr) {
          s.ints = dynamic_cast<const entities::NumericIndex<int64_t>*>(index);
          s.floats = dynamic_cast<const entities::NumericIndex<double>*>(index);
          s.bools = dynamic_cast<const entities::ValueBitmapIndex*>(index);
        }
        break;
      }
    }
    return s;
  }

  double attribute(const Source& s, uint32_t id) const {
    const double scale = s.type == AttributeType::kTimestamp ? 1e-6 : 1.0;
    if (s.ints != nullptr) {
      return s.ints->present().contains(id) ? static_cast<double>(s.ints->value(id)) * scale : 0;
    }
    if (s.floats != nullptr) return s.floats->present().contains(id) ? s.floats->value(id) : 0;
    if (s.bools != nullptr) {
      const Bitmap* yes = s.bools->find("true");
      return yes != nullptr && yes->contains(id) ? 1 : 0;
    }
    // Not filterable: decode the stored list.
    entities::AttributeReader r(st_.entities->catalog(kind_), st_.entities->attributes(kind_, id));
    uint16_t slot;
    entities::ValueView v;
    while (r.next(&slot, &v)) {
      if (slot != s.slot) continue;
      switch (v.type) {
        case AttributeType::kInt: return static_cast<double>(v.i);
        case AttributeType::kTimestamp: return static_cast<double>(v.i) * 1e-6;
        case AttributeType::kFloat: return v.f;
        case AttributeType::kBool: return v.b ? 1 : 0;
        default: return 0;
      }
    }
    return 0;
  }

  const QueryState& st_;
  EntityKind kind_;
  int64_t now_us_;
  bool columns_;
  const std::vector<text::ScoredDoc>* relevance_;
  VectorFeatures vector_;
  std::vector<Source> sources_;
};

// ---------------------------------------------------------------------------
// Execution

class Execution {
 public:
  Execution(const Plan& plan, const QueryState& st, const QueryOptions& options)
      : plan_(plan),
        st_(st),
        start_(SteadyClock::now()),
        deadline_(start_ + options.time_budget),
        budget_(options.time_budget),
        evaluator_(plan.program),
        columns_(plan.program.features().size(), std::vector<double>(kBatch)),
        column_ptrs_(plan.program.features().size()) {
    for (size_t f = 0; f < columns_.size(); ++f) column_ptrs_[f] = columns_[f].data();
  }

  Result<QueryResult> run() {
    TIDAL_RETURN_IF_ERROR(build_candidates());
    bool done = false;
    if (plan_.vector_slot) {
      TIDAL_ASSIGN_OR_RETURN(done, run_vector_source());
    } else if (plan_.text) {
      TIDAL_ASSIGN_OR_RETURN(done, run_text_source());
    }
    if (!done && plan_.index != SortIndex::kNone) {
      TIDAL_ASSIGN_OR_RETURN(done, run_index_source());
    }
    if (!done) TIDAL_RETURN_IF_ERROR(run_scan());
    TIDAL_RETURN_IF_ERROR(diversify_and_page());
    result_.total_micros = micros_since(start_);
    return std::move(result_);
  }

 private:
  // How many accepted rows prove whether another page follows.
  size_t wanted() const { return plan_.limit + 1; }

  Status check_deadline(std::string_view stage, uint64_t done, uint64_t of) const {
    if (SteadyClock::now() <= deadline_) return Status::Ok();
    return Status::Aborted(
        Subsystem::kQuery,
        "query stopped at its time budget of " +
            format_duration(std::chrono::duration_cast<Duration>(budget_)) + " in stage " +
            std::string(stage) + " after " + with_commas(done) + " of " + with_commas(of) +
            " candidates; narrow it with WHERE or raise QueryOptions::time_budget");
  }

  void stage(std::string name, std::string detail, uint64_t in, uint64_t out,
             SteadyClock::time_point since) {
    result_.plan.push_back(PlanStage{.name = std::move(name),
                                     .detail = std::move(detail),
                                     .rows_in = in,
                                     .rows_out = out,
                                     .micros = micros_since(since)});
  }

  const Bitmap& universe() const {
    return plan_.target == EntityKind::kItem ? *st_.known_items
                                             : st_.entities->live_set(plan_.target);
  }

  // The candidate set of the source and filter stages: `candidates_` points
  // at the universe itself or at owned_.
  Status build_candidates() {
    SteadyClock::time_point t = SteadyClock::now();
    const Bitmap& all = universe();
    candidates_ = &all;
    if (plan_.keys) {
      const KeyMap& keys = *st_.keys[static_cast<size_t>(plan_.target)];
      for (const std::string& k : *plan_.keys) {
        std::optional<uint32_t> id = keys.find(k);
        if (id && all.contains(*id)) owned_.add(*id);
      }
      candidates_ = &owned_;
      stage("source",
            "explicit keys: " + with_commas(plan_.keys->size()) + " given, " +
                with_commas(owned_.cardinality()) + " found",
            plan_.keys->size(), owned_.cardinality(), t);
    } else if (plan_.index == SortIndex::kNone && !plan_.text && !plan_.vector_slot) {
      stage("source", "all " + std::string(target_name(plan_.target)), all.cardinality(),
            all.cardinality(), t);
    }
    if (plan_.filter) {
      t = SteadyClock::now();
      const uint64_t in = candidates_->cardinality();
      TIDAL_ASSIGN_OR_RETURN(Bitmap f, st_.entities->evaluate(plan_.target, *plan_.filter));
      if (plan_.keys) {
        owned_ &= f;
      } else {
        owned_ = std::move(f);
      }
      candidates_ = &owned_;
      stage("filter", "attribute indexes: " + plan_.filter_text, in, owned_.cardinality(), t);
    }
    return check_deadline("filter", 0, candidates_->cardinality());
  }

  bool after_cursor(const Ranked& r) const { return !plan_.after || before(*plan_.after, r); }

  // SEARCH: the text index as the source. When the sort is relevance
  // alone (and nothing diversifies), its top-k search is the answer;
  // otherwise every match is scored for the sort, with bm25 as a feature.
  // Returns whether the text index answered.
  Result<bool> run_text_source() {
    SteadyClock::time_point t = SteadyClock::now();
    const Bitmap* within = plan_.filter || plan_.keys ? candidates_ : nullptr;
    text::SearchStats stats;
    const std::string what = plan_.text->describe();
    if (plan_.relevance_only && !plan_.diversify) {
      std::vector<text::ScoredDoc> top = plan_.text->top(
          wanted(), within,
          [&](uint32_t doc, double score) {
            return after_cursor(Ranked{score, doc});
          },
          &stats);
      ranked_.clear();
      for (const text::ScoredDoc& d : top) ranked_.push_back(Ranked{d.score, d.doc});
      stage("source", what + "; " + stats.strategy + ", top " + with_commas(wanted()),
            stats.postings, stats.matched, t);
      result_.plan.back().detail += ", " + with_commas(stats.evaluated) + " documents scored";
      stage("score", "relevance = bm25", stats.evaluated, ranked_.size(), t);
      result_.plan.back().micros = 0;
      TIDAL_RETURN_IF_ERROR(check_deadline("source", stats.evaluated, stats.postings));
      return true;
    }
    relevance_ = plan_.text->all(within, &stats);
    Bitmap matched;
    for (const text::ScoredDoc& d : relevance_) matched.add(d.doc);
    owned_ = std::move(matched);
    candidates_ = &owned_;
    stage("source", what + "; " + stats.strategy + ", every match", stats.postings,
          relevance_.size(), t);
    TIDAL_RETURN_IF_ERROR(check_deadline("source", stats.evaluated, stats.postings));
    return false;
  }

  VectorFeatures vector_features() const {
    return {.slot = plan_.vector_slot, .query = plan_.query_vector.data(), .hybrid = &hybrid_};
  }

  // SIMILAR / NEAREST: the vector index as the source. When the sort is
  // similarity alone (no QUERY, nothing diversifies), the nearest are the
  // answer: fetched k at a time, widened while the cursor skips them.
  // Otherwise a pool of the nearest — at least 200, EF, or the page — is
  // scored by the sort; with a QUERY text, the pool joins the best text
  // matches, and `hybrid` is their reciprocal-rank fusion,
  //   Σ over the two lists of 1 / (60 + rank)   (rank from 1; 0 when absent).
  // Returns whether the vector index answered.
  Result<bool> run_vector_source() {
    SteadyClock::time_point t = SteadyClock::now();
    const vectors::VectorSlot& slot = *plan_.vector_slot;
    const Bitmap* within = plan_.filter || plan_.keys ? candidates_ : nullptr;
    const float* q = plan_.query_vector.data();
    const std::string what = "nearest by similarity(" + slot.def().name + ") [" +
                             std::string(vector_metric_name(slot.metric())) + "]";
    vectors::SearchStats stats;
    if (plan_.similarity_only && !plan_.diversify) {
      size_t k = wanted();
      while (true) {
        stats = {};
        std::vector<vectors::Neighbor> found =
            slot.nearest(q, k, within, std::max(plan_.ef, k), plan_.exclude, &stats);
        ranked_.clear();
        for (const vectors::Neighbor& n : found) {
          Ranked r{n.similarity, n.id};
          if (after_cursor(r)) ranked_.push_back(r);
        }
        if (ranked_.size() >= wanted() || found.size() < k || k >= vectors::kMaxEf) break;
        k = std::min<size_t>(vectors::kMaxEf, k * 4);
        TIDAL_RETURN_IF_ERROR(check_deadline("source", 0, k));
      }
      if (ranked_.size() > wanted()) ranked_.resize(wanted());
      stage("source", what + ": " + stats.strategy + ", top " + with_commas(k), stats.candidates,
            ranked_.size(), t);
      stage("score", "similarity = " + plan_.score_text, ranked_.size(), ranked_.size(), t);
      result_.plan.back().micros = 0;
      TIDAL_RETURN_IF_ERROR(check_deadline("source", stats.examined, stats.candidates));
      return true;
    }
    const size_t pool = std::max({kVectorPool, plan_.ef, wanted()});
    std::vector<vectors::Neighbor> found =
        slot.nearest(q, pool, within, plan_.ef, plan_.exclude, &stats);
    Bitmap pooled;
    for (const vectors::Neighbor& n : found) pooled.add(n.id);
    std::string detail = what + ": " + stats.strategy + ", top " + with_commas(pool);
    if (plan_.text) {
      text::SearchStats ts;
      std::vector<text::ScoredDoc> matches = plan_.text->top(
          pool, within,
          [&](uint32_t doc, double) { return !plan_.exclude || *plan_.exclude != doc; }, &ts);
      std::unordered_map<uint32_t, double> fused;
      for (size_t r = 0; r < found.size(); ++r) fused[found[r].id] += 1.0 / (kRrfK + r + 1);
      for (size_t r = 0; r < matches.size(); ++r) {
        fused[matches[r].doc] += 1.0 / (kRrfK + r + 1);
        pooled.add(matches[r].doc);
      }
      hybrid_.clear();
      for (const auto& [doc, score] : fused) hybrid_.push_back({doc, score});
      auto by_doc = [](const text::ScoredDoc& a, const text::ScoredDoc& b) {
        return a.doc < b.doc;
      };
      std::sort(hybrid_.begin(), hybrid_.end(), by_doc);
      std::sort(matches.begin(), matches.end(), by_doc);
      relevance_ = std::move(matches);
      detail += "; " + plan_.text->describe() + ": " + ts.strategy + ", top " + with_commas(pool) +
                "; " + with_commas(pooled.cardinality()) +
                " candidates fused by reciprocal rank (k = " + std::to_string(kRrfK) + ")";
    }
    owned_ = std::move(pooled);
    candidates_ = &owned_;
    stage("source", detail, stats.candidates, owned_.cardinality(), t);
    TIDAL_RETURN_IF_ERROR(check_deadline("source", stats.examined, stats.candidates));
    return false;
  }

  // Scores ids[0..n) into scores_out.
  void score(const FeatureFetcher& fetcher, const uint32_t* ids, size_t n, double* scores_out) {
    for (size_t f = 0; f < columns_.size(); ++f) fetcher.fetch(f, ids, n, columns_[f].data());
    evaluator_.evaluate({.columns = column_ptrs_}, n, static_cast<double>(st_.now_us) * 1e-6,
                        scores_out);
  }

  // The trending index as the source. Its entries with a positive score are
  // exactly the best items by that score (ties by first seen): an item
  // outside the index ranks below every entry (TopKSet's invariant), and one
  // with a score <= 0 below every positive one. So the positive entries that
  // pass the filter and follow the cursor are, in order, the first rows of
  // the answer. If they run out before `wanted()` rows are accepted — the
  // filter is very selective, or the rest of the answer has scores <= 0 —
  // the executor falls back to scoring every candidate. Returns whether the
  // index answered.
  Result<bool> run_index_source() {
    SteadyClock::time_point t = SteadyClock::now();
    signals::SignalLedger& ledger = st_.ledger->ledger(plan_.index_signal);
    const double universe_size = std::max<double>(1, static_cast<double>(universe().cardinality()));
    const double selectivity =
        std::max(1e-6, static_cast<double>(candidates_->cardinality()) / universe_size);
    const size_t per_page = plan_.diversify ? wanted() * 4 : wanted();
    const size_t capacity = std::max<size_t>(st_.trending_capacity, 1);
    size_t k = std::clamp<size_t>(
        static_cast<size_t>(std::ceil(static_cast<double>(per_page) / selectivity * 1.5)) + 16,
        std::min<size_t>(64, capacity), capacity);
    const std::string index_name = plan_.index == SortIndex::kHot     ? "hot"
                                   : plan_.index == SortIndex::kCount ? "window count"
                                                                      : "rising";
    while (true) {
      std::vector<signals::ScoredItem> top;
      const int64_t now = st_.now_us;
      switch (plan_.index) {
        case SortIndex::kHot: top = ledger.top_hot(k, now); break;
        case SortIndex::kCount: top = ledger.top_count(plan_.index_window, k, now); break;
        case SortIndex::kRising: top = ledger.top_rising(plan_.index_window, k, now); break;
        case SortIndex::kNone: return false;
      }
      std::vector<uint32_t> ids;
      bool positive_end = false;
      for (const signals::ScoredItem& e : top) {
        if (!(e.score > 0)) {
          positive_end = true;
          break;
        }
        if (candidates_->contains(e.item)) ids.push_back(e.item);
      }
      // Rescore the accepted entries exactly as a scan would.
      const FeatureFetcher fetcher(plan_.program, st_, plan_.target, false, &relevance_,
                                   vector_features());
      std::vector<double> scores(ids.size());
      for (size_t i = 0; i < ids.size(); i += kBatch) {
        score(fetcher, ids.data() + i, std::min(kBatch, ids.size() - i), scores.data() + i);
      }
      ranked_.clear();
      for (size_t i = 0; i < ids.size(); ++i) {
        Ranked r{order_key(scores[i], plan_.ascending), ids[i]};
        if (after_cursor(r) && r.key > 0) ranked_.push_back(r);
      }
      std::sort(ranked_.begin(), ranked_.end(), before);
      const bool exhausted = positive_end || top.size() < k;
      stage("source",
            "trending index " + index_name + " of " +
                st_.ledger->ledger(plan_.index_signal).definition().name + ": top " +
                with_commas(k) + (exhausted ? " (every item with a positive score)" : ""),
            top.size(), top.size(), t);
      if (plan_.filter || plan_.keys) {
        result_.plan.back().detail += ", kept if in the filtered set";
      }
      result_.plan.back().rows_out = ranked_.size();
      if (enough_rows()) {
        stage("score", plan_.sort_text + " = " + plan_.score_text, ids.size(), ranked_.size(), t);
        result_.plan.back().micros = 0;
        return true;
      }
      if (exhausted || k >= capacity) {
        result_.plan.back().detail += "; too few rows, scoring every candidate instead";
        return false;
      }
      k = std::min(capacity, k * 4);
      TIDAL_RETURN_IF_ERROR(check_deadline("source", 0, k));
    }
  }

  // Whether ranked_ (in order) yields a full page after diversification.
  bool enough_rows() const {
    if (!plan_.diversify) return ranked_.size() >= wanted();
    size_t accepted = 0;
    std::unordered_map<std::string, int64_t> seen;
    for (const Ranked& r : ranked_) {
      if (diversify_accepts(r.id, seen) && ++accepted >= wanted()) return true;
    }
    return false;
  }

  // Scores every candidate and keeps the best (all of them when
  // diversifying, which may skip many).
  // One thread's share of a scan: the candidates with ids in [lo, hi).
  struct ScanPart {
    uint64_t lo = 0, hi = 0;
    std::vector<Ranked> ranked;  // a heap of the best (all, when diversifying)
    uint64_t scored = 0, after = 0;
    Status status;
  };

  // Scores the candidates of `part` with its own evaluator and buffers.
  void scan_part(const FeatureFetcher& fetcher, uint64_t total, ScanPart* part) const {
    const size_t keep = wanted();
    auto worse = [](const Ranked& a, const Ranked& b) { return before(a, b); };  // max-heap
    ranking::Evaluator evaluator(plan_.program);
    std::vector<std::vector<double>> columns(fetcher.size(), std::vector<double>(kBatch));
    std::vector<const double*> column_ptrs(fetcher.size());
    for (size_t f = 0; f < columns.size(); ++f) column_ptrs[f] = columns[f].data();
    std::vector<uint32_t> ids(kBatch);
    std::vector<double> scores(kBatch);
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&candidates_->roaring, &it);
    if (part->lo > 0)
      roaring_move_uint32_iterator_equalorlarger(&it, static_cast<uint32_t>(part->lo));
    const double now_seconds = static_cast<double>(st_.now_us) * 1e-6;
    while (uint32_t n = roaring_read_uint32_iterator(&it, ids.data(), kBatch)) {
      bool last = false;
      if (ids[n - 1] >= part->hi) {  // the batch runs past this part
        n = static_cast<uint32_t>(std::lower_bound(ids.begin(), ids.begin() + n, part->hi) -
                                  ids.begin());
        last = true;
      }
      for (size_t f = 0; f < columns.size(); ++f)
        fetcher.fetch(f, ids.data(), n, columns[f].data());
      evaluator.evaluate({.columns = column_ptrs}, n, now_seconds, scores.data());
      part->scored += n;
      for (uint32_t i = 0; i < n; ++i) {
        Ranked r{order_key(scores[i], plan_.ascending), ids[i]};
        if (!after_cursor(r)) continue;
        ++part->after;
        std::vector<Ranked>& heap = part->ranked;
        if (plan_.diversify) {
          heap.push_back(r);
        } else if (heap.size() < keep) {
          heap.push_back(r);
          std::push_heap(heap.begin(), heap.end(), worse);
        } else if (before(r, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), worse);
          heap.back() = r;
          std::push_heap(heap.begin(), heap.end(), worse);
        }
      }
      part->status = check_deadline("score", part->scored, total);
      if (!part->status.ok() || last) return;
    }
  }

  // Scores every candidate and keeps the best (all of them when
  // diversifying, which may skip many). A large scan is split by id range
  // over DatabaseOptions::query_scan_threads threads.
  Status run_scan() {
    SteadyClock::time_point t = SteadyClock::now();
    const uint64_t total = candidates_->cardinality();
    if (!plan_.keys && plan_.index != SortIndex::kNone) {  // after the index gave up
      stage("source", "all " + std::string(target_name(plan_.target)), universe().cardinality(),
            universe().cardinality(), t);
    }
    // Dense window columns pay off from a few thousand candidates on.
    const FeatureFetcher fetcher(plan_.program, st_, plan_.target, total > st_.column_threshold,
                                 &relevance_, vector_features());
    const size_t threads =
        total >= st_.parallel_scan_threshold ? std::max<size_t>(1, st_.scan_threads) : 1;
    std::vector<ScanPart> parts(threads);
    for (size_t k = 0; k < threads; ++k) {
      // Part k starts at the candidate of rank k·total/threads.
      uint32_t first = 0;
      if (k > 0) candidates_->select(static_cast<uint32_t>(k * total / threads), &first);
      parts[k].lo = k == 0 ? 0 : first;
      if (k > 0) parts[k - 1].hi = first;
    }
    parts.back().hi = uint64_t{UINT32_MAX} + 1;
    std::vector<std::thread> workers;
    for (size_t k = 1; k < threads; ++k) {
      workers.emplace_back([&, k] { scan_part(fetcher, total, &parts[k]); });
    }
    scan_part(fetcher, total, &parts[0]);
    for (std::thread& w : workers) w.join();
    ranked_.clear();
    uint64_t after = 0;
    for (ScanPart& part : parts) {
      TIDAL_RETURN_IF_ERROR(part.status);
      after += part.after;
      ranked_.insert(ranked_.end(), part.ranked.begin(), part.ranked.end());
    }
    const size_t keep = wanted();
    if (!plan_.diversify && ranked_.size() > keep) {
      std::nth_element(ranked_.begin(), ranked_.begin() + static_cast<ptrdiff_t>(keep) - 1,
                       ranked_.end(), before);
      ranked_.resize(keep);
    }
    stage("score",
          plan_.sort_text + (plan_.ascending ? " ascending" : " descending") + " = " +
              plan_.score_text + " (" + std::to_string(plan_.program.features().size()) +
              " features, " + std::to_string(plan_.program.instruction_count()) + " instructions" +
              (threads > 1 ? ", " + std::to_string(threads) + " threads" : "") + ")",
          total, after, t);
    t = SteadyClock::now();
    const uint64_t in = ranked_.size();
    if (plan_.diversify) {
      // Sort lazily: the best 8 pages first, everything if that is not enough.
      const size_t head = std::min(ranked_.size(), wanted() * 8);
      std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<ptrdiff_t>(head),
                        ranked_.end(), before);
      if (!enough_rows_in(head)) std::sort(ranked_.begin(), ranked_.end(), before);
    } else {
      std::sort(ranked_.begin(), ranked_.end(), before);
    }
    stage("select", "best " + with_commas(std::min<uint64_t>(in, keep)) + " by score", in,
          std::min<uint64_t>(in, keep), t);
    return Status::Ok();
  }

  bool enough_rows_in(size_t head) const {
    size_t accepted = 0;
    std::unordered_map<std::string, int64_t> seen;
    for (size_t i = 0; i < head; ++i) {
      if (diversify_accepts(ranked_[i].id, seen) && ++accepted >= wanted()) return true;
    }
    return false;
  }

  // The diversify value of an entity ("" when it has none: never capped).
  std::string diversify_value(uint32_t id) const {
    entities::AttributeReader r(st_.entities->catalog(plan_.target),
                                st_.entities->attributes(plan_.target, id));
    uint16_t slot;
    entities::ValueView v;
    const uint16_t want = entities::AttributeCatalog::slot_of(*plan_.diversify_attr);
    while (r.next(&slot, &v)) {
      if (slot != want) continue;
      switch (v.type) {
        case AttributeType::kKeyword: return "k" + std::string(v.str);
        case AttributeType::kInt: return "i" + std::to_string(v.i);
        case AttributeType::kBool: return v.b ? "b1" : "b0";
        default: return {};
      }
    }
    return {};
  }

  bool diversify_accepts(uint32_t id, std::unordered_map<std::string, int64_t>& seen) const {
    if (!plan_.diversify) return true;
    std::string v = diversify_value(id);
    if (v.empty()) return true;
    return ++seen[v] <= plan_.diversify->max_per_value;
  }

  Status diversify_and_page() {
    SteadyClock::time_point t = SteadyClock::now();
    std::vector<Ranked> page;
    std::unordered_map<std::string, int64_t> seen;
    uint64_t examined = 0;
    for (const Ranked& r : ranked_) {
      if (page.size() >= wanted()) break;
      ++examined;
      if (diversify_accepts(r.id, seen)) page.push_back(r);
    }
    if (plan_.diversify) {
      stage("diversify",
            "at most " + std::to_string(plan_.diversify->max_per_value) + " per " +
                plan_.diversify->attribute,
            examined, page.size(), t);
      t = SteadyClock::now();
    }
    const bool more = page.size() > plan_.limit;
    if (more) page.resize(plan_.limit);
    const KeyMap& keys = *st_.keys[static_cast<size_t>(plan_.target)];
    for (const Ranked& r : page) {
      const double score = plan_.ascending ? -r.key : r.key;
      result_.rows.push_back(QueryRow{.key = keys.key_of(r.id), .score = score});
    }
    if (more) {
      result_.cursor = encode_cursor(
          Cursor{.fingerprint = plan_.fingerprint, .last = page.back(), .seed = plan_.seed});
    }
    stage("page",
          "limit " + std::to_string(plan_.limit) +
              (more ? ", cursor to the next page" : ", last page") +
              (plan_.after ? ", after the cursor" : ""),
          page.size() + (more ? 1 : 0), result_.rows.size(), t);
    return Status::Ok();
  }

  const Plan& plan_;
  const QueryState& st_;
  SteadyClock::time_point start_;
  SteadyClock::time_point deadline_;
  Duration budget_;
  ranking::Evaluator evaluator_;
  std::vector<std::vector<double>> columns_;
  std::vector<const double*> column_ptrs_;

  const Bitmap* candidates_ = nullptr;
  Bitmap owned_;
  std::vector<text::ScoredDoc> relevance_;  // SEARCH matches, ascending by document
  std::vector<text::ScoredDoc> hybrid_;     // fused ranks (NEAREST/SIMILAR with QUERY), by document
  std::vector<Ranked> ranked_;
  QueryResult result_;
};

}  // namespace

Status check_query_options(const QueryOptions& options) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  if (options.time_budget < milliseconds(1) || options.time_budget > minutes(10)) {
    return Status::Invalid(Subsystem::kQuery, "time_budget", format_duration(options.time_budget),
                           "must be between 1ms and 10m");
  }
  return Status::Ok();
}

Result<QueryResult> run_read(const Statement& s, const QueryState& state,
                             const QueryOptions& options) {
  TIDAL_RETURN_IF_ERROR(check_query_options(options));
  SteadyClock::time_point t = SteadyClock::now();
  TIDAL_ASSIGN_OR_RETURN(Plan plan, make_plan(s, state, options));
  const double plan_micros = micros_since(t);
  Execution exec(plan, state, options);
  TIDAL_ASSIGN_OR_RETURN(QueryResult result, exec.run());
  result.plan.insert(result.plan.begin(), PlanStage{.name = "plan",
                                                    .detail = "parse, resolve and compile the sort",
                                                    .micros = plan_micros});
  result.total_micros += plan_micros;
  result.explain = s.explain;
  // An explore without a seed argument drew one for this query (kept in
  // the cursor); a given seed shows in the score's formula.
  if (plan.score_text.find("gaussian(" + std::to_string(plan.seed) + ")") != std::string::npos) {
    result.plan.front().detail += "; explore seed " + std::to_string(plan.seed);
  }
  return result;
}

Status check_profile_definition(const Statement& s, const QueryState& st) {
  const Schema& schema = *st.schema;
  const std::string& name = s.name;
  auto taken = [&](std::string_view what) {
    return Status::Invalid(Subsystem::kQuery, "profile", name,
                           "is the name of " + std::string(what) + "; choose another name");
  };
  if (is_sort_mode(name)) return taken("a sort mode");
  if (schema.find_signal(name) != nullptr) return taken("a signal type");
  if (schema.find_attribute(EntityKind::kItem, name) != nullptr) return taken("an item attribute");
  if (name == "age" || name == "created_at" || name == "creator" || name == "key" ||
      name == "bm25") {
    return taken("a built-in");
  }
  // A profile may not refer to itself, directly or through others: expand
  // with this definition in place of any stored one.
  const ProfileLookup profiles = [&](std::string_view n) -> const Expr* {
    if (n == name) return &*s.definition;
    const StoredProfile* sp = st.profiles ? st.profiles->find(n) : nullptr;
    return sp ? &sp->expr : nullptr;
  };
  Expr self{.kind = ExprKind::kIdentifier, .pos = s.definition->pos, .text = name};
  TIDAL_ASSIGN_OR_RETURN(Expr expanded, expand_names(self, schema, profiles, 0));
  Result<ranking::Program> program = ranking::compile(expanded, {.schema = &schema});
  if (!program.ok()) {
    return Status::Invalid(Subsystem::kQuery, "profile", name,
                           "does not compile: " + program.status().message());
  }
  return Status::Ok();
}

}  // namespace tidal::query
