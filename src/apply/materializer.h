// Materializers: the derived stores fed from the WAL's record stream.
//
// Every mutation is a WAL record; every derived store (the global signal
// ledger, the cold event store, and later cohort ledgers, user state, text and
// vector indexes) is a Materializer that applies records in WAL order, writes
// its state into a checkpoint batch, and restores from storage. The registry
// applies each record to every materializer before the write becomes visible,
// and checkpoints them together. Adding a derived store means registering one
// more materializer.
//
// Records reach apply() already validated and with their keys resolved to
// dense indexes. apply() runs under the database's exclusive state lock, in
// WAL order, the same way live and during replay, so replay rebuilds exactly
// the state a live run had.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "apply/entity_record.h"
#include "apply/signal_record.h"
#include "storage/storage_engine.h"
#include "tidal/schema.h"
#include "wal/wal_format.h"

namespace tidal::apply {

// What a materializer's state is keyed by.
enum class MaterializerScope : uint8_t { kGlobal, kUser, kCohort, kRelationship };

// A record ready to apply, its keys resolved to dense indexes.
struct AppliedRecord {
  wal::RecordType type;
  uint64_t sequence = 0;
  std::string_view payload{};            // the record's payload as logged
  const SignalRecord* signal = nullptr;  // kSignalEvent
  uint32_t item = 0;                     // the item's dense index (signal events, item writes)
  EntityId item_id{};
  // Signal events whose item has a creator: the user's and creator's dense
  // indexes (for user→creator affinity); kNone otherwise.
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t user = kNone;
  uint32_t creator = kNone;
  // Signal events, while any cohort is defined: the acting user's dense
  // index when the user key is known (kNone: anonymous or never seen).
  uint32_t actor = kNone;

  // kEntityUpsert, kEntityPatch, kEntityDelete.
  const EntityRecord* entity = nullptr;
  uint32_t entity_index = 0;  // the entity's dense index within its kind
  // The entity as it was before this record: whether it was live, and its
  // stored attribute list ("" when it had none). A materializer reads these
  // rather than the entity store, so the order in which materializers are
  // registered does not matter.
  bool was_live = false;
  std::string_view previous{};
  // Item upserts and patches: whether the write sets (or removes) the
  // creator, and the creator's dense index (kNone: no creator).
  bool creator_given = false;

  // kRelationship: `user` and the target's dense index.
  const RelationshipRecord* relationship = nullptr;
  uint32_t target = kNone;

  // kFeedServed: the feed's time and the items it served (`user` the user).
  int64_t served_us = 0;
  std::span<const uint32_t> served{};

  // kSchemaChange: the schema after the change. A change only adds signal
  // types and attributes (after the existing ones, with the next ids), which
  // no stored state refers to yet: a materializer makes room for them.
  const Schema* schema = nullptr;
};

class Materializer {
 public:
  virtual ~Materializer() = default;
  virtual std::string_view name() const = 0;
  virtual MaterializerScope scope() const = 0;
  // Applies one record. A failure stops the database (state may be partial).
  virtual Status apply(const AppliedRecord& record) = 0;
  // Adds the state changed since the last checkpoint to `batch`. Called with
  // the state lock held exclusively; the batch is written atomically with
  // the checkpoint's sequence number.
  virtual Status checkpoint(WriteBatch* batch) = 0;
  // Called after checkpoint() filled the batch, before the batch is written
  // (lock not held): a materializer with asynchronous writes of its own
  // hands them to storage here, so the checkpoint's flush makes them durable.
  virtual Status after_checkpoint() { return Status::Ok(); }
  // Called once the checkpoint has ended (state lock held exclusively).
  // `durable` is false when its batch, or anything after checkpoint(), failed:
  // the state checkpoint() wrote must then be written again by the next
  // checkpoint (see DirtyList).
  virtual void end_checkpoint(bool durable) { (void)durable; }
  // Loads the state a checkpoint stored.
  virtual Status restore(StorageEngine& engine) = 0;
};

class MaterializerRegistry {
 public:
  void add(std::unique_ptr<Materializer> m) { materializers_.push_back(std::move(m)); }

  Status apply(const AppliedRecord& record);
  Status checkpoint(WriteBatch* batch);
  Status after_checkpoint();
  void end_checkpoint(bool durable);
  Status restore(StorageEngine& engine);

  const std::vector<std::unique_ptr<Materializer>>& all() const { return materializers_; }

 private:
  std::vector<std::unique_ptr<Materializer>> materializers_;
};

}  // namespace tidal::apply
