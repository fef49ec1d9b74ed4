// tidal::Database: the public API, each call handed to Database::Impl
// (db/database_impl.h), whose parts live in database_open.cc, database_apply.cc,
// database_write.cc, database_read.cc, database_checkpoint.cc,
// database_present.cc and database_prepared.cc.
#include <filesystem>

#include "db/database_impl.h"
#include "query/json.h"
#include "query/parser.h"
#include "schema/schema_catalog.h"

namespace tidal {

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const Schema& schema,
                                                 const DatabaseOptions& options) {
  if (options.trending_capacity == 0) {
    return Status::Invalid(Subsystem::kCore, "trending_capacity", "0", "must be at least 1");
  }
  auto impl = std::make_unique<Impl>(options, schema);
  Status st = impl->open(path, schema);
  if (!st.ok()) return st;
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Result<Schema> Database::stored_schema(const std::string& path) {
  // Without its marker a folder holds no database; DataFolder::open would
  // initialize an empty one, which a read must not do.
  std::error_code ec;
  if (!std::filesystem::exists(path + "/TIDAL", ec)) {
    return Status::NotFound(Subsystem::kStorage, "no tidalDB database at " + path);
  }
  DataFolderOptions fo;
  fo.create_if_missing = false;
  fo.read_only = true;  // writes nothing: works on a full disk
  TIDAL_ASSIGN_OR_RETURN(std::unique_ptr<DataFolder> folder, DataFolder::open(path, fo));
  RocksDbOptions ro;
  ro.create_if_missing = false;
  ro.block_cache_bytes = size_t{8} << 20;  // one small read
  // Declared after `folder`, so destroyed before it releases the lock.
  TIDAL_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbEngine> storage, folder->open_storage(ro));
  TIDAL_ASSIGN_OR_RETURN(std::optional<Schema> schema, load_schema(*storage));
  if (!schema) {
    return Status::NotFound(Subsystem::kStorage,
                            "no tidalDB database at " + path + ": it has no stored schema");
  }
  return *std::move(schema);
}

Result<IngestResult> Database::ingest(const SignalEvent& event) {
  BatchIngestResult r =
      impl_->ingest(std::span<const SignalEvent>(&event, 1), BatchMode::kApplyValid);
  if (!r.errors[0].ok()) return r.errors[0];
  return r.results[0];
}

BatchIngestResult Database::ingest(std::span<const SignalEvent> events, BatchMode mode) {
  return impl_->ingest(events, mode);
}

namespace {
// The answer to a one-write batch: its error, or its sequence number.
Result<uint64_t> single_sequence(const BatchIngestResult& r) {
  if (!r.errors[0].ok()) return r.errors[0];
  return r.results[0].sequence;
}
}  // namespace

Result<uint64_t> Database::upsert(const EntityWrite& write) {
  return single_sequence(
      impl_->upsert(std::span<const EntityWrite>(&write, 1), BatchMode::kApplyValid));
}
BatchIngestResult Database::upsert(std::span<const EntityWrite> writes, BatchMode mode) {
  return impl_->upsert(writes, mode);
}
Result<uint64_t> Database::patch(const EntityWrite& write) {
  return impl_->patch(write);
}
Result<uint64_t> Database::remove(EntityKind kind, std::string_view key) {
  return impl_->remove(kind, key);
}
Result<Entity> Database::get(EntityKind kind, std::string_view key) const {
  return impl_->get(kind, key);
}
Result<uint64_t> Database::count(EntityKind kind, const Filter& filter) const {
  return impl_->count(kind, filter);
}
Result<std::vector<std::string>> Database::keys(EntityKind kind, const Filter& filter,
                                                size_t limit) const {
  return impl_->keys(kind, filter, limit);
}
Result<uint64_t> Database::relate(const RelationshipWrite& write) {
  return single_sequence(
      impl_->relate(std::span<const RelationshipWrite>(&write, 1), BatchMode::kApplyValid));
}
BatchIngestResult Database::relate(std::span<const RelationshipWrite> writes, BatchMode mode) {
  return impl_->relate(writes, mode);
}
Result<std::vector<std::string>> Database::followers(EntityKind target_kind,
                                                     std::string_view target, size_t limit) const {
  return impl_->followers(target_kind, target, limit);
}
Result<std::vector<std::string>> Database::related(std::string_view user, Relation relation,
                                                   EntityKind target_kind, size_t limit) const {
  return impl_->related(user, relation, target_kind, limit);
}
Result<bool> Database::is_blocked(std::string_view user, EntityKind target_kind,
                                  std::string_view target) const {
  return impl_->is_blocked(user, target_kind, target);
}
Result<std::vector<AffinityEntry>> Database::top_affinities(std::string_view user,
                                                            size_t limit) const {
  return impl_->top_affinities(user, limit);
}
Result<ItemSignals> Database::item_signals(std::string_view item, std::string_view cohort) const {
  return impl_->item_signals(item, cohort);
}
Result<std::vector<TrendingEntry>> Database::trending(const TrendingQuery& query) const {
  return impl_->trending(query);
}
Result<QueryResult> Database::query(std::string_view tql, const QueryOptions& options) {
  TIDAL_ASSIGN_OR_RETURN(query::Statement s, query::parse(tql));
  return impl_->query(s, options);
}
Result<QueryResult> Database::query_json(std::string_view json, const QueryOptions& options) {
  TIDAL_ASSIGN_OR_RETURN(query::Statement s, query::parse_json(json));
  return impl_->query(s, options);
}

Result<EntityPage> Database::list(EntityKind kind, std::string_view where, size_t limit,
                                  std::string_view cursor) {
  // RANK <kind> BY 0 WHERE ...: every score ties, so rows come in dense id
  // order (first seen first), and the query's cursor pages them.
  query::Statement s{.kind = query::StatementKind::kRank, .target = kind};
  s.rank_by = query::Expr{.kind = query::ExprKind::kNumber, .number = 0};
  if (!where.empty()) {
    Result<query::Expr> e = query::parse_expression(where);
    if (!e.ok()) {
      return Status::Invalid(Subsystem::kQuery, "where", std::string(where),
                             "is not a TQL predicate: " + e.status().message());
    }
    s.where = std::move(*e);
  }
  s.limit = static_cast<int64_t>(std::min<size_t>(limit, size_t{1} << 40));
  if (!cursor.empty()) s.cursor = std::string(cursor);
  TIDAL_RETURN_IF_ERROR(query::validate(s));
  TIDAL_ASSIGN_OR_RETURN(QueryResult r, impl_->query(s, {}));
  EntityPage page;
  page.cursor = std::move(r.cursor);
  page.entities.reserve(r.rows.size());
  for (const QueryRow& row : r.rows) {
    Result<Entity> e = get(kind, row.key);
    if (e.ok()) {
      page.entities.push_back(std::move(*e));
    } else if (e.status().code() == StatusCode::kNotFound) {
      page.entities.push_back(Entity{.kind = kind, .key = row.key, .attributes = {}});  // known from signals
    } else {
      return e.status();
    }
  }
  return page;
}

Status Database::checkpoint() {
  return impl_->checkpoint();
}
Status Database::close() {
  return impl_->close();
}
Timestamp Database::now() const {
  return impl_->now();
}
Present Database::present() const {
  return impl_->present();
}
Result<uint64_t> Database::set_present(PresentMode mode, std::optional<Timestamp> pinned) {
  return impl_->set_present(mode, pinned);
}
Result<Schema> Database::add_signal_type(const SignalTypeSpec& spec) {
  return impl_->change_schema([&](SchemaBuilder& b) { b.add_signal(spec); });
}

Result<Schema> Database::add_attribute(EntityKind kind, const AttributeSpec& spec) {
  return impl_->change_schema([&](SchemaBuilder& b) { b.add_attribute(kind, spec); });
}

Schema Database::schema() const {
  return impl_->schema();
}
DatabaseStats Database::stats() const {
  return impl_->stats();
}

std::vector<ProfileDefinition> Database::profiles() const {
  return impl_->profiles();
}

Result<uint64_t> Database::create_cohort(std::string_view name, std::string_view predicate) {
  TIDAL_ASSIGN_OR_RETURN(query::Expr where, query::parse_expression(predicate));
  query::Statement s{.kind = query::StatementKind::kCreateCohort};
  s.name = std::string(name);
  s.where = std::move(where);
  std::string message;
  return impl_->define_cohort(s, &message);
}

Result<uint64_t> Database::drop_cohort(std::string_view name) {
  query::Statement s{.kind = query::StatementKind::kDropCohort};
  s.name = std::string(name);
  std::string message;
  return impl_->define_cohort(s, &message);
}

std::vector<CohortInfo> Database::cohorts() const {
  return impl_->cohorts();
}

Result<CohortInfo> Database::cohort(std::string_view name) const {
  return impl_->cohort(name);
}

Result<std::vector<std::string>> Database::user_cohorts(std::string_view user) const {
  return impl_->user_cohorts(user);
}

Status Database::wait_for_backfills(
    std::chrono::milliseconds timeout,
    const std::function<void(const std::vector<CohortInfo>&)>& progress) {
  return impl_->wait_for_backfills(timeout, progress);
}

DatabaseProgress Database::progress() const {
  return impl_->progress();
}

DatabaseHealth Database::health() const {
  return impl_->health();
}

}  // namespace tidal
