#include "query/planner.h"

#include <algorithm>
#include <atomic>
#include <random>

#include "query/operator.h"
#include "query/printer.h"
#include "query/sort_modes.h"

namespace tidal::query {

namespace {

constexpr double kMaxSeed = 9007199254740992.0;  // 2^53

Status not_supported(const Statement& s, std::string_view what) {
  return Status::NotSupported(Subsystem::kQuery, "line " + std::to_string(s.pos.line) +
                                                     ", column " + std::to_string(s.pos.column) +
                                                     ": not supported yet: " + std::string(what));
}

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
// source) and `IN COHORT c` ones (`cohorts`, their names) from the rest of a
// WHERE predicate.
Status split_keys(const Expr& where, const Schema& schema, EntityKind kind,
                  std::optional<std::vector<std::string>>* keys, std::vector<std::string>* cohorts,
                  std::optional<Expr>* rest) {
  std::vector<const Expr*> conjuncts;
  flatten_and(where, &conjuncts);
  for (const Expr* c : conjuncts) {
    if (c->kind == ExprKind::kCall && c->text == kInCohortCall && c->args.size() == 1 &&
        c->args[0].kind == ExprKind::kString) {
      cohorts->push_back(c->args[0].text);
      continue;
    }
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

// FEED FOR USER 'u': what the user features read. A user the database has
// never seen (or has no state for) gets the cold-start feed: every user
// feature is 0, so the profile's popularity terms rank (docs/feeds.md).
Status resolve_user(const Statement& s, const QueryState& st, Plan* p) {
  if (st.users == nullptr || st.relationships == nullptr) {
    return Status::Internal(Subsystem::kQuery, "no user state");
  }
  UserFeatures u;
  u.key = s.user;
  std::optional<uint32_t> index = st.keys[static_cast<size_t>(EntityKind::kUser)]->find(s.user);
  if (index) {
    u.user = *index;
    u.co = st.users->co_engagement(*index, st.now_us);
    u.seen = st.users->seen(*index);
    u.served = st.users->served(*index);
    if (st.vectors != nullptr) {
      for (const auto& slot : st.vectors->slots(EntityKind::kItem)) {
        std::vector<float> v = st.users->preference(*index, slot->def().id);
        if (!v.empty()) u.preferences.emplace_back(slot->def().id, std::move(v));
      }
    }
  }
  p->user = std::move(u);
  // The trending sources: the first positive count signal type, by its
  // longest window (by its decayed score when it has no window).
  for (const SignalTypeDefinition& d : st.schema->signals()) {
    if (d.polarity == Polarity::kPositive && d.value_kind == ValueKind::kCount) {
      p->trending_signal = d.id;
      if (!d.windows.empty()) p->trending_window = static_cast<uint8_t>(d.windows.size() - 1);
      break;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Plan> make_plan(const Statement& s, const QueryState& st, const QueryOptions& options) {
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
      sort = Expr{.kind = ExprKind::kCall, .pos = s.pos, .text = "top"};
      if (!s.signal.empty()) {
        sort.args.push_back(Expr{.kind = ExprKind::kIdentifier, .pos = s.pos, .text = s.signal});
      }
      sort.args.push_back(Expr{.kind = ExprKind::kDuration, .pos = s.pos, .duration = *s.window});
      p.positive_only = true;
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
    case StatementKind::kFeed: {
      // PROFILE p: a sort mode or a stored profile; for_you by default.
      const std::string name = s.profile.empty() ? "for_you" : s.profile;
      if (!is_sort_mode(name) && (st.profiles == nullptr || !st.profiles->find(name))) {
        std::string stored;
        if (st.profiles != nullptr) {
          for (const auto& [n, sp] : st.profiles->all()) stored += (stored.empty() ? "" : ", ") + n;
        }
        return Status::NotFound(Subsystem::kQuery,
                                "PROFILE " + name +
                                    ": no such profile; a feed is ranked by a sort mode (for_you, "
                                    "following, affinity, hot, ...) or a stored profile (" +
                                    (stored.empty() ? "none stored" : "stored: " + stored) +
                                    "; CREATE PROFILE name AS <expression>)",
                                "profile");
      }
      sort = Expr{.kind = ExprKind::kIdentifier, .pos = s.pos, .text = name};
      p.feed = true;
      p.include_seen = options.include_seen;
      TIDAL_RETURN_IF_ERROR(resolve_user(s, st, &p));
      break;
    }
    case StatementKind::kCount:
      // Nothing is scored: the candidates after WHERE are counted.
      sort = Expr{.kind = ExprKind::kNumber, .pos = s.pos, .number = 0};
      p.count_only = true;
      break;
    case StatementKind::kCreateCohort:
    case StatementKind::kDropCohort:
    case StatementKind::kCreateCohorts:
    case StatementKind::kCreateProfile:
      return Status::Internal(Subsystem::kQuery,
                              std::string(statement_kind_name(s.kind)) + " is not a read query");
  }
  if (s.order != SortOrder::kDefault) ascending = s.order == SortOrder::kAsc;
  // RANK / SEARCH ... FOR USER 'u': the user's features (nothing is filtered).
  if (!p.user && !s.user.empty()) TIDAL_RETURN_IF_ERROR(resolve_user(s, st, &p));

  const ProfileLookup profiles = [&](std::string_view name) -> const Expr* {
    const StoredProfile* sp = st.profiles ? st.profiles->find(name) : nullptr;
    return sp ? &sp->expr : nullptr;
  };
  const ModeContext mode_context{
      .seed = p.seed, .for_cohort = !s.cohort.empty(), .for_user = p.user.has_value()};
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
    TIDAL_ASSIGN_OR_RETURN(ResolvedMode m, resolve_mode(sort, schema, mode_context));
    p.sort_text = s.kind == StatementKind::kTrending ? "trending window count " + m.call : m.call;
    scored = std::move(m.expr);
    if (!ascending) ascending = m.ascending;
    if (m.bound != SortIndex::kNone && !*ascending) {
      p.index = m.bound;
      p.index_signal = m.bound_signal;
      p.index_window = m.bound_window;
      p.index_bounds = true;
    }
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
    TIDAL_ASSIGN_OR_RETURN(scored, expand_names(sort, schema, profiles, mode_context));
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
  // Features naming a cohort (count(like, 24h, cohort = young)) need it to exist.
  for (const ranking::FeatureRef& f : p.program.features()) {
    TIDAL_RETURN_IF_ERROR(scope_ledgers(st, f.scope, "sort").status());
  }
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
    if (ranking::is_user_feature(f.kind) && !p.user) {
      return Status::Invalid(Subsystem::kQuery, "sort", p.sort_text,
                             "reads " + std::string(ranking::feature_kind_name(f.kind)) +
                                 ", a feature of one user: name one with FEED FOR USER 'u', "
                                 "or FOR USER 'u' on RANK and SEARCH");
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
  if (p.index_bounds && (vector_query || p.ascending)) p.index = SortIndex::kNone;
  if (p.target == EntityKind::kItem && !vector_query && !p.ascending &&
      p.program.is_bare_feature()) {
    const ranking::FeatureRef& f = p.program.features()[0];
    TIDAL_ASSIGN_OR_RETURN(p.index_ledgers, scope_ledgers(st, f.scope, "sort"));
    p.index_signal = f.signal;
    p.index_window = f.window;
    if (f.kind == ranking::FeatureKind::kDecay) p.index = SortIndex::kHot;
    if (f.kind == ranking::FeatureKind::kCount) p.index = SortIndex::kCount;
    if (f.kind == ranking::FeatureKind::kVelocity) p.index = SortIndex::kRising;
  }

  // WHERE: explicit keys, then the attribute filter.
  if (s.where) {
    std::optional<Expr> rest;
    std::vector<std::string> cohorts;
    TIDAL_RETURN_IF_ERROR(split_keys(*s.where, schema, p.target, &p.keys, &cohorts, &rest));
    if (rest) {
      TIDAL_ASSIGN_OR_RETURN(Filter f, to_filter(*rest));
      TIDAL_RETURN_IF_ERROR(st.entities->resolve_literals(p.target, &f));
      TIDAL_RETURN_IF_ERROR(st.entities->check(p.target, f));
      p.filter = std::move(f);
      p.filter_text = to_tql(*rest);
    }
    // IN COHORT c: the registered users (the filter) who are c's members.
    for (const std::string& name : cohorts) {
      if (p.target != EntityKind::kUser) {
        return Status::Invalid(Subsystem::kQuery, "where", "IN COHORT " + name,
                               "a cohort is a set of users: IN COHORT filters RANK users");
      }
      const cohorts::Cohort* c = st.cohorts != nullptr ? st.cohorts->find(name) : nullptr;
      if (c == nullptr) {
        return st.cohorts != nullptr
                   ? st.cohorts->unknown(name, "where")
                   : Status::NotFound(Subsystem::kQuery, "no cohort " + name, "where");
      }
      p.members.push_back(&c->members);
      if (!p.filter) p.filter = Filter::all();
      p.filter_text = (p.filter_text.empty() ? "" : p.filter_text + " AND ") + "IN COHORT " +
                      cohort_tql(name) + " (" + with_commas(c->members.cardinality()) + " members)";
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
  // The operators, in the order they run (query/operator.h).
  if (p.feed) {
    // Sources, WHERE, what the user has seen, blocked and muted; then the
    // scan scores the rest (no trending index: the feed's candidates are few).
    p.index = SortIndex::kNone;
    p.operators.push_back(make_feed_source());
    if (p.filter) p.operators.push_back(make_filter_operator());
    p.operators.push_back(make_user_filter());
    p.operators.push_back(make_scan());
    return p;
  }
  if (p.keys) {
    p.operators.push_back(make_keys_source());
  } else if (p.index == SortIndex::kNone && !p.text && !p.vector_slot) {
    p.operators.push_back(make_all_source());
  }
  if (p.filter) p.operators.push_back(make_filter_operator());
  if (p.vector_slot) {
    p.operators.push_back(make_vector_source());
  } else if (p.text) {
    p.operators.push_back(make_text_source());
  }
  if (p.count_only) {
    p.operators.push_back(make_count());
    return p;
  }
  if (p.index != SortIndex::kNone) p.operators.push_back(make_trending_source());
  p.operators.push_back(make_scan());
  return p;
}

}  // namespace tidal::query
