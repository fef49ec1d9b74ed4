// Database::Impl: opening a data folder and recovering its state (the last
// checkpoint, then the WAL after it).

#include "core/coding.h"
#include "db/database_impl.h"
#include "query/filter.h"
#include "query/parser.h"
#include "schema/schema_catalog.h"
#include "storage/meta_keys.h"

namespace tidal {

namespace {

wal::Durability wal_durability(Durability d) {
  switch (d) {
    case Durability::kFsync: return wal::Durability::kFsync;
    case Durability::kBatch: return wal::Durability::kBatch;
    case Durability::kNone: return wal::Durability::kNone;
  }
  return wal::Durability::kFsync;
}

}  // namespace

Database::Impl::Impl(const DatabaseOptions& options, Schema schema)
    : options_(options),
      clock_(options.clock ? options.clock : SystemClock::instance()),
      schema_(std::move(schema)) {}

Database::Impl::~Impl() {
  (void)close();
}

Status Database::Impl::open(const std::string& path, const Schema& given) {
  DataFolderOptions fo;
  fo.create_if_missing = options_.create_if_missing;
  TIDAL_ASSIGN_OR_RETURN(folder_, DataFolder::open(path, fo));
  TIDAL_ASSIGN_OR_RETURN(storage_, folder_->open_storage());
  TIDAL_ASSIGN_OR_RETURN(schema_, open_schema(*storage_, given, options_.allow_schema_additions));

  // Events may lie max_future_skew ahead of the present (a live or a pinned
  // one); the rings keep room for them whatever the present is now, since it
  // can change while the database is open.
  auto ledger = std::make_unique<signals::GlobalLedger>(schema_, options_.trending_capacity,
                                                        options_.max_future_skew.count());
  ledger_ = ledger.get();
  registry_.add(std::move(ledger));
  auto events = std::make_unique<signals::EventStore>(storage_.get());
  events_ = events.get();
  registry_.add(std::move(events));
  auto entity_store = std::make_unique<entities::EntityStore>(schema_);
  entities_ = entity_store.get();
  registry_.add(std::move(entity_store));
  // The indexes read an entity's previous state from the applied record
  // (AppliedRecord::previous, was_live), not from the store: the order of
  // registration does not matter.
  auto text = std::make_unique<text::TextIndex>(schema_, entities_);
  text_ = text.get();
  registry_.add(std::move(text));
  auto vectors =
      std::make_unique<vectors::VectorIndex>(schema_, entities_, folder_->path() + "/vectors");
  vectors_ = vectors.get();
  registry_.add(std::move(vectors));
  auto relationships = std::make_unique<entities::Relationships>(schema_);
  relationships_ = relationships.get();
  registry_.add(std::move(relationships));
  // Reads the items' embeddings, which no signal changes: registered after
  // the vector index only for readability.
  auto user_state = std::make_unique<users::UserStateStore>(schema_, vectors_);
  user_state_ = user_state.get();
  registry_.add(std::move(user_state));
  auto profiles = std::make_unique<query::ProfileCatalog>();
  profiles_ = profiles.get();
  registry_.add(std::move(profiles));
  // After the entity store: membership is evaluated over the users as a
  // user write leaves them.
  auto cohorts = std::make_unique<cohorts::CohortStore>(
      schema_, entities_,
      [entities = entities_](std::string_view predicate) -> Result<Filter> {
        TIDAL_ASSIGN_OR_RETURN(query::Expr e, query::parse_expression(predicate));
        TIDAL_ASSIGN_OR_RETURN(Filter f, query::to_filter(e));
        TIDAL_RETURN_IF_ERROR(entities->resolve_literals(EntityKind::kUser, &f));
        return f;
      },
      options_.trending_capacity, options_.max_future_skew.count());
  cohorts_ = cohorts.get();
  registry_.add(std::move(cohorts));

  // The last checkpoint...
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> cp,
                         storage_->get(Keyspace::kMeta, meta_keys::kCheckpointSequence));
  if (cp) {
    if (cp->size() != 8) return Status::Corruption(Subsystem::kStorage, "checkpoint sequence");
    checkpoint_seq_.store(decode_fixed64_le(cp->data()));
  }
  // Replay adds the events after the checkpoint to what it counted.
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> applied,
                         storage_->get(Keyspace::kMeta, meta_keys::kCheckpointEventsApplied));
  if (applied) {
    if (applied->size() != 8) {
      return Status::Corruption(Subsystem::kStorage, "checkpoint events_applied");
    }
    events_applied_.store(decode_fixed64_le(applied->data()));
  }
  TIDAL_ASSIGN_OR_RETURN(db::StoredPresent stored_present, db::load_present(*storage_));
  set_present_state(stored_present);
  for (KeyMap& keys : keys_) TIDAL_RETURN_IF_ERROR(keys.restore(*storage_));
  TIDAL_RETURN_IF_ERROR(registry_.restore(*storage_));
  // (Lambdas of open() run before the database is shared, as open() does.)
  entities_->resolve_creators([&](std::string_view creator) TIDAL_NO_THREAD_SAFETY_ANALYSIS {
    std::optional<uint32_t> idx = key_map(EntityKind::kCreator).find(creator);
    return idx ? *idx : entities::kNoCreator;
  });
  rebuild_known_items();
  TIDAL_RETURN_IF_ERROR(text_->rebuild());
  TIDAL_RETURN_IF_ERROR(vectors_->open());

  // ...then the WAL after it.
  wal::WalOptions wo;
  wo.dir = folder_->wal_dir();
  wo.database_id = folder_->database_id();
  wo.durability = wal_durability(options_.durability);
  wo.segment_bytes = options_.wal_segment_bytes;
  wo.max_batch_records = options_.wal_max_batch_records;
  TIDAL_ASSIGN_OR_RETURN(wal_, wal::Wal::open(wo));
  applied_seq_ = checkpoint_seq_.load();
  {
    WriterLock lk(state_mu_);
    ledger_->set_bulk_load(true);
    cohorts_->set_bulk_load(true);
    TIDAL_RETURN_IF_ERROR(wal_->replay(
        applied_seq_ + 1, [&](const wal::FrameView& f) TIDAL_NO_THREAD_SAFETY_ANALYSIS {
          applied_seq_ = f.sequence;
          return apply_record(f.type, f.sequence, f.payload);
        }));
    ledger_->set_bulk_load(false);
    cohorts_->set_bulk_load(false);
  }
  applied_seq_ = std::max(applied_seq_, wal_->last_sequence());
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  last_checkpoint_ = std::chrono::steady_clock::now();
  if (options_.historical_import && present_mode_.load() != PresentMode::kHistorical) {
    TIDAL_RETURN_IF_ERROR(set_present(PresentMode::kHistorical, std::nullopt).status());
  }
  background_ = std::thread([this] { background_loop(); });
  backfill_thread_ = std::thread([this] { backfill_loop(); });
  return Status::Ok();
}

void Database::Impl::rebuild_known_items() {
  known_items_ = entities::Bitmap();
  const uint32_t n = static_cast<uint32_t>(items().size());
  for (uint32_t i = 0; i < n; ++i) {
    bool known = items().registered(i);
    for (size_t s = 0; !known && s < ledger_->signal_count(); ++s) {
      known = ledger_->ledger(static_cast<uint16_t>(s)).has_state(i);
    }
    if (known) known_items_.add(i);
  }
}

}  // namespace tidal
