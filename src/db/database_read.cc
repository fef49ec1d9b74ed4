// Database::Impl: reads under the shared state lock (entities, signals,
// relationships, health and stats, TQL queries).
#include <filesystem>

#include "core/duration.h"
#include "core/time_text.h"
#include "db/database_impl.h"
#include "query/engine.h"

namespace tidal {

namespace {

constexpr size_t kMaxTrendingLimit = 10000;

}  // namespace

Result<ItemSignals> Database::Impl::item_signals(std::string_view item,
                                                 std::string_view cohort) const {
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> idx = items().find(item);
  if (!idx)
    return Status::NotFound(Subsystem::kEntities, "no item \"" + std::string(item) + "\"", "item");
  signals::LedgerSet* ledgers = &ledger_->ledgers();
  if (!cohort.empty()) {
    const cohorts::Cohort* c = cohorts_->find(cohort);
    if (c == nullptr) return cohorts_->unknown(cohort, "cohort");
    ledgers = c->ledgers.get();
  }
  int64_t now = now_us();
  ItemSignals out;
  out.item = std::string(item);
  out.registered = items().registered(*idx);
  for (size_t s = 0; s < ledger_->signal_count(); ++s) {
    const signals::SignalLedger& l = ledgers->ledger(static_cast<uint16_t>(s));
    SignalSnapshot snap;
    snap.signal = l.definition().name;
    snap.decayed = l.hot(*idx, now);
    for (size_t w = 0; w < l.plan().windows.size(); ++w) {
      WindowSignal ws;
      ws.window = l.plan().windows[w].window;
      ws.count = l.count(*idx, w, now);
      ws.sum = l.sum(*idx, w, now);
      ws.previous_count = l.prev_count(*idx, w, now);
      ws.velocity = l.velocity(*idx, w, now);
      snap.windows.push_back(ws);
    }
    out.signals.push_back(std::move(snap));
  }
  return out;
}

Result<std::vector<TrendingEntry>> Database::Impl::trending(const TrendingQuery& q) const {
  ReaderLock lk(state_mu_);
  const SignalTypeDefinition* def = schema_.find_signal(q.signal);
  if (def == nullptr) {
    return Status::Invalid(Subsystem::kQuery, "signal", q.signal,
                           "is not a signal type of the schema");
  }
  if (q.limit == 0 || q.limit > kMaxTrendingLimit) {
    return Status::Invalid(Subsystem::kQuery, "limit", std::to_string(q.limit),
                           "must be between 1 and " + std::to_string(kMaxTrendingLimit));
  }
  size_t window = 0;
  if (q.kind != TrendingKind::kHot) {
    auto it = std::find(def->windows.begin(), def->windows.end(), q.window);
    if (it == def->windows.end()) {
      std::string known;
      for (Duration w : def->windows) known += (known.empty() ? "" : ", ") + format_duration(w);
      return Status::Invalid(Subsystem::kQuery, "window", format_duration(q.window),
                             "is not a window of signal \"" + def->name +
                                 "\" (its windows: " + (known.empty() ? "none" : known) + ")");
    }
    window = static_cast<size_t>(it - def->windows.begin());
    if (q.kind == TrendingKind::kRising && !def->velocity) {
      return Status::Invalid(Subsystem::kQuery, "signal", def->name,
                             "does not track velocity, so it cannot rank by rising");
    }
  }
  int64_t now = now_us();
  signals::SignalLedger& l = ledger_->ledger(def->id);
  std::vector<signals::ScoredItem> top;
  switch (q.kind) {
    case TrendingKind::kHot: top = l.top_hot(q.limit, now); break;
    case TrendingKind::kTop: top = l.top_count(window, q.limit, now); break;
    case TrendingKind::kRising: top = l.top_rising(window, q.limit, now); break;
  }
  std::vector<TrendingEntry> out;
  out.reserve(top.size());
  for (const signals::ScoredItem& s : top) out.push_back({items().key_of(s.item), s.score});
  return out;
}

std::vector<std::string> Database::Impl::keys_of(EntityKind kind, const entities::Bitmap& ids,
                                                 size_t limit) const {
  std::vector<std::string> out;
  const KeyMap& keys = key_map(kind);
  for (uint32_t id : ids) {
    if (out.size() >= limit) break;
    out.push_back(keys.key_of(id));
  }
  return out;
}

Result<Entity> Database::Impl::get(EntityKind kind, std::string_view key) const {
  TIDAL_RETURN_IF_ERROR(entities::check_entity_kind(kind));
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(uint32_t idx, live_index(kind, key));
  const entities::AttributeCatalog& c = entities_->catalog(kind);
  Entity e;
  e.kind = kind;
  e.key = std::string(key);
  // Stored by slot; returned in catalog order (built-ins first).
  std::vector<std::pair<size_t, Attribute>> found;
  entities::AttributeReader r(c, entities_->attributes(kind, idx));
  uint16_t slot;
  entities::ValueView v;
  while (r.next(&slot, &v)) {
    const AttributeDefinition* def = c.at_slot(slot);
    size_t pos =
        static_cast<size_t>(std::find(c.all().begin(), c.all().end(), def) - c.all().begin());
    found.emplace_back(pos, Attribute(def->name, entities::to_value(v)));
  }
  if (!r.ok()) return Status::Corruption(Subsystem::kStorage, "attributes of \"" + e.key + "\"");
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [pos, a] : found) e.attributes.push_back(std::move(a));
  return e;
}

Result<uint64_t> Database::Impl::count(EntityKind kind, const Filter& filter) const {
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(entities::Bitmap ids, entities_->evaluate(kind, filter));
  return ids.cardinality();
}

Result<std::vector<std::string>> Database::Impl::keys(EntityKind kind, const Filter& filter,
                                                      size_t limit) const {
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(entities::Bitmap ids, entities_->evaluate(kind, filter));
  return keys_of(kind, ids, limit);
}

Result<std::vector<std::string>> Database::Impl::followers(EntityKind target_kind,
                                                           std::string_view target,
                                                           size_t limit) const {
  if (target_kind != EntityKind::kCreator && target_kind != EntityKind::kUser) {
    return Status::Invalid(Subsystem::kEntities, "target_kind", entity_kind_name(target_kind),
                           "only creators and users have followers");
  }
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> idx = key_map(target_kind).find(target);
  if (!idx) return std::vector<std::string>{};
  return keys_of(EntityKind::kUser, relationships_->followers(target_kind, *idx), limit);
}

Result<std::vector<std::string>> Database::Impl::related(std::string_view user, Relation relation,
                                                         EntityKind target_kind,
                                                         size_t limit) const {
  TIDAL_RETURN_IF_ERROR(entities::check_relationship_target(relation, target_kind));
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> idx = key_map(EntityKind::kUser).find(user);
  if (!idx) return std::vector<std::string>{};
  return keys_of(target_kind, relationships_->related(*idx, relation, target_kind), limit);
}

Result<bool> Database::Impl::is_blocked(std::string_view user, EntityKind target_kind,
                                        std::string_view target) const {
  TIDAL_RETURN_IF_ERROR(entities::check_relationship_target(Relation::kBlock, target_kind));
  ReaderLock lk(state_mu_);
  std::optional<uint32_t> u = key_map(EntityKind::kUser).find(user);
  std::optional<uint32_t> t = key_map(target_kind).find(target);
  if (!u || !t) return false;
  return entities::blocks(*relationships_, *entities_, *u, target_kind, *t);
}

Result<std::vector<AffinityEntry>> Database::Impl::top_affinities(std::string_view user,
                                                                  size_t limit) const {
  if (limit == 0 || limit > kMaxTrendingLimit) {
    return Status::Invalid(Subsystem::kQuery, "limit", std::to_string(limit),
                           "must be between 1 and " + std::to_string(kMaxTrendingLimit));
  }
  ReaderLock lk(state_mu_);
  std::vector<AffinityEntry> out;
  std::optional<uint32_t> u = key_map(EntityKind::kUser).find(user);
  if (!u) return out;
  for (const auto& w : relationships_->top_affinities(*u, limit, now_us())) {
    out.push_back({key_map(EntityKind::kCreator).key_of(w.creator), w.weight});
  }
  return out;
}

DatabaseHealth Database::Impl::health() const {
  DatabaseHealth h;
  if (wal_) {
    wal::WalHealth w = wal_->health();
    if (!w.failed.ok()) {
      h.writable = false;
      h.write_failure = w.failed.with_context(
          "the WAL stopped; writes are refused until the database is reopened");
    } else {
      h.write_failure = w.write_failure;
    }
  } else {
    h.writable = false;
    h.write_failure = Status::Unavailable(Subsystem::kStorage, "the database is not open");
  }
  {
    MutexLock order(order_mu_);
    if (!apply_failed_.ok()) {
      h.writable = false;
      h.write_failure = apply_failed_;
    }
  }
  MutexLock lk(health_mu_);
  h.checkpoint_failure = checkpoint_failure_;
  return h;
}

DatabaseProgress Database::Impl::progress() const {
  return {.last_sequence = wal_ ? wal_->last_sequence() : 0,
          .checkpoint_sequence = checkpoint_seq_.load()};
}

std::vector<ProfileDefinition> Database::Impl::profiles() const {
  ReaderLock lk(state_mu_);
  std::vector<ProfileDefinition> out;
  if (profiles_ == nullptr) return out;
  for (const auto& [name, p] : profiles_->all()) out.push_back({name, p.text});
  return out;
}

DatabaseStats Database::Impl::stats() const {
  ReaderLock lk(state_mu_);
  DatabaseStats s;
  s.events_applied = events_applied_.load();
  s.duplicates = duplicates_.load();
  s.items = items().size();
  if (entities_) {
    s.live_items = entities_->live_count(EntityKind::kItem);
    s.live_users = entities_->live_count(EntityKind::kUser);
    s.live_creators = entities_->live_count(EntityKind::kCreator);
    s.entity_bytes = entities_->memory_bytes();
  }
  if (text_) s.text_bytes = text_->memory_bytes();
  if (vectors_) s.vector_bytes = vectors_->memory_bytes();
  s.last_sequence = wal_ ? wal_->last_sequence() : 0;
  s.checkpoint_sequence = checkpoint_seq_.load();
  if (wal_) {
    uint64_t written = wal_->stats().bytes_written;
    uint64_t at_checkpoint = wal_bytes_at_checkpoint_.load();
    s.wal_bytes_since_checkpoint = written - std::min(written, at_checkpoint);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder_->wal_dir(), ec)) {
      if (entry.is_regular_file(ec)) s.wal_bytes += entry.file_size(ec);
    }
  }
  s.active_states = ledger_ ? ledger_->active_states() : 0;
  s.warm_bytes = ledger_ ? ledger_->warm_bytes() : 0;
  s.hot_bytes = ledger_ ? ledger_->hot_bytes() : 0;
  if (user_state_) {
    s.users_with_state = user_state_->users_with_state();
    s.user_state_bytes = user_state_->memory_bytes();
  }
  if (cohorts_) {
    s.cohorts = cohorts_->all().size();
    s.cohort_active_states = cohorts_->active_states();
    s.cohort_bytes = cohorts_->memory_bytes();
    s.cohort_updates = cohorts_->updates();
  }
  return s;
}

Result<QueryResult> Database::Impl::query(const query::Statement& statement,
                                          const QueryOptions& options) {
  if (options.record_served && statement.kind == query::StatementKind::kFeed &&
      !statement.explain) {
    // The feed, then one WAL record of what it served (state lock released).
    QueryOptions read = options;
    read.record_served = false;
    TIDAL_ASSIGN_OR_RETURN(QueryResult result, query(statement, read));
    if (result.rows.empty()) return result;
    std::vector<std::string> keys;
    for (const QueryRow& row : result.rows) {
      if (keys.size() == users::kServed) break;  // the first kServed rows are remembered
      keys.push_back(row.key);
    }
    std::string payload;
    users::encode_served_record(statement.user, now_us(), keys, &payload);
    TIDAL_RETURN_IF_ERROR(commit_one(wal::RecordType::kFeedServed, payload).status());
    return result;
  }
  if (statement.kind == query::StatementKind::kCreateProfile) return create_profile(statement);
  if (statement.kind == query::StatementKind::kCreateCohort ||
      statement.kind == query::StatementKind::kCreateCohorts ||
      statement.kind == query::StatementKind::kDropCohort) {
    QueryResult out;
    TIDAL_RETURN_IF_ERROR(define_cohort(statement, &out.message).status());
    return out;
  }
  {
    MutexLock order(order_mu_);
    TIDAL_RETURN_IF_ERROR(apply_failed_);
  }
  ReaderLock lk(state_mu_);
  query::QueryState st{.schema = &schema_,
                       .entities = entities_,
                       .ledger = &ledger_->ledgers(),
                       .everyone = &ledger_->ledgers(),
                       .cohorts = cohorts_,
                       .keys = {&keys_[0], &keys_[1], &keys_[2]},
                       .known_items = &known_items_,
                       .profiles = profiles_,
                       .text = text_,
                       .vectors = vectors_,
                       .users = user_state_,
                       .relationships = relationships_,
                       .trending_capacity = options_.trending_capacity,
                       .column_threshold = options_.query_column_threshold,
                       .parallel_scan_threshold = options_.query_parallel_scan,
                       .scan_threads = options_.query_scan_threads,
                       .now_us = now_us(),
                       .served_suppress_us = options_.feed_served_suppress.count()};
  if (statement.as_of_us) {
    const int64_t floor = floor_us();
    if (floor != INT64_MIN && *statement.as_of_us < floor) {
      return Status::Invalid(
          Subsystem::kQuery, "as_of", format_timestamp(*statement.as_of_us),
          "must not be before " + format_timestamp(floor) +
              ": the database keeps its state as of its newest event, so it cannot answer "
              "for an earlier time (docs/time.md)");
    }
    st.now_us = *statement.as_of_us;
  }
  if (statement.cohort.empty()) return query::run_read(statement, st, options);
  // FOR COHORT: every signal feature reads the cohort's ledgers.
  const cohorts::Cohort* c = cohorts_->find(statement.cohort);
  if (c == nullptr) return cohorts_->unknown(statement.cohort, "cohort");
  st.ledger = c->ledgers.get();
  TIDAL_ASSIGN_OR_RETURN(QueryResult result, query::run_read(statement, st, options));
  PlanStage stage;
  stage.name = "cohort";
  stage.detail = c->name + " (" + std::to_string(c->members.cardinality()) +
                 " members; its ledgers count their events";
  if (!c->backfill.done) {
    stage.detail +=
        "; still backfilling: " +
        std::to_string(c->backfill.until == 0 ? 100
                                              : c->backfill.cursor * 100 / c->backfill.until) +
        "% of the earlier events read, so counts from before its definition are "
        "partial";
  }
  stage.detail += ")";
  stage.rows_in = stage.rows_out = c->members.cardinality();
  result.plan.insert(result.plan.begin(), std::move(stage));
  return result;
}

}  // namespace tidal
