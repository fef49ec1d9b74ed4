// CohortStore: the materializer that keeps every cohort — its definition,
// its members and its signal ledgers (docs/cohorts.md).
//
// Definitions. CREATE COHORT and DROP COHORT are kCohortDefinition WAL
// records applied here, in WAL order like every write; a cohort's predicate
// is stored as TQL text and compiled again on restore and replay.
//
// Membership. A roaring bitmap of users per cohort, exact after every user
// write: an upsert, patch or delete of a user re-evaluates each cohort's
// predicate for that user (EntityStore::matches, the same evaluator as a
// WHERE over users), so the store must be registered after the entity store.
// Each user also lists the cohorts it is in, which is what an event reads.
//
// Ledgers. Each cohort has a sparse LedgerSet — the global ledger's code,
// keyed by (cohort, item). A signal event of a user counts toward the
// cohorts the user is in when the event is applied (one ledger update per
// such cohort); later changes of the user's attributes do not move past
// events. Anonymous events and events of users never written count toward
// none.
//
// Backfill. A cohort defined after events were applied is filled from the
// cold tier: every stored event with a sequence below the definition's, of a
// user who was a member when the cohort was defined. The store keeps, per
// cohort, that snapshot of members and a cursor (events below it are
// counted); the database's backfill thread reads the cold tier without the
// state lock and hands batches to apply_backfill() under it. Live events
// after the definition count through apply(), so each event counts once.
//
// Checkpoint: each cohort's definition and backfill state in `meta`
// (cohorts/<id>), its ledger state in `signals` under kStatePrefix.
// Membership is not stored: restore() evaluates it from the restored users.
// Layout: docs/formats/storage.md#cohorts
//
// apply() runs under the database's exclusive state lock, reads under the
// shared one.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apply/materializer.h"
#include "core/dirty_list.h"
#include "entities/entity_codec.h"
#include "entities/entity_store.h"
#include "signals/ledger_set.h"
#include "storage/key_encoding.h"
#include "tidal/entity.h"
#include "tidal/schema.h"

namespace tidal::cohorts {

// Keys of cohort ledger state in the `signals` keyspace start with this byte
// (the global ledger's keys start with the item kind's byte, 0).
inline constexpr char kStatePrefix = kCohortStatePrefix;

// The record payload of a kCohortDefinition.
struct CohortRecord {
  enum class Op : uint8_t { kCreate = 1, kDrop = 2, kCreateFamily = 3 };
  Op op = Op::kCreate;
  std::string_view name;
  std::string_view predicate;      // kCreate: the WHERE predicate as TQL
  std::string_view attribute;      // kCreateFamily: the user attribute
  std::vector<int64_t> buckets{};  // kCreateFamily: bounds, for an int attribute
};
std::string encode_cohort_record(const CohortRecord& r);
bool decode_cohort_record(std::string_view payload, CohortRecord* out);

// A cohort's backfill from the cold tier.
struct Backfill {
  bool done = true;
  uint64_t until = 0;           // events with a sequence below this are the backfill's
  uint64_t cursor = 0;          // ... and those below this one are counted
  uint64_t events_read = 0;     // cold-tier events read so far
  uint64_t events_counted = 0;  // ... of which by members (counted)
};

// A family (CREATE COHORTS name BY attribute): one cohort per value of a
// keyword attribute, or per bucket of an int attribute, named family:value
// and defined by the predicate `attribute = 'value'` (or the bucket's range).
// A value's cohort is made when a user first has it.
struct Family {
  std::string name;
  std::string attribute;
  uint16_t slot = 0;
  AttributeType type = AttributeType::kKeyword;
  std::vector<int64_t> buckets;  // int attributes: increasing bounds
  uint64_t defined_at = 0;
  // The cohort name and predicate of a value (nullopt: the user has none).
  std::optional<std::pair<std::string, std::string>> member(const entities::ValueView& v) const;
};

struct Cohort {
  uint32_t id = 0;  // stable: storage keys; never reused
  std::string name;
  std::string family;     // the family it belongs to ("": none)
  std::string predicate;  // TQL
  Filter filter;
  uint64_t defined_at = 0;  // the definition's WAL sequence
  entities::Bitmap members;
  std::unique_ptr<signals::LedgerSet> ledgers;
  DirtyList dirty;  // items whose state changed since the last checkpoint
  // (item, signal) pairs whose state may be gone since the last checkpoint
  // (a sweep freed it, the item was deleted, a rebase rescaled it to zero):
  // only these may need their stored key deleted. In flight: the pairs the
  // checkpoint in progress handles.
  std::vector<std::pair<uint32_t, uint16_t>> maybe_gone, maybe_gone_in_flight;
  Backfill backfill;
  entities::Bitmap backfill_members;  // members at definition, while backfilling
};

// One cold-tier event for a backfill batch.
struct BackfillEvent {
  uint64_t sequence;
  uint32_t item;
  uint16_t signal;
  uint32_t user;  // dense index
  int64_t time_us;
  double value;
};

class CohortStore final : public apply::Materializer {
 public:
  // `compile`: turns a stored predicate (TQL text) into a filter over users
  // (the query layer's parser; the store sits below it).
  using Compile = std::function<Result<Filter>(std::string_view predicate)>;

  CohortStore(const Schema& schema, const entities::EntityStore* entities, Compile compile,
              size_t trending_capacity, int64_t future_slack_us);

  std::string_view name() const override { return "cohorts"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kCohort; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch* batch) override;
  void end_checkpoint(bool durable) override;
  Status restore(StorageEngine& engine) override;

  bool empty() const { return by_name_.empty(); }
  // nullptr when no cohort has this name.
  const Cohort* find(std::string_view name) const;
  Cohort* find(std::string_view name);
  // Every cohort, by name.
  std::vector<const Cohort*> all() const;
  // The NotFound error for a name no cohort has (listing the cohorts),
  // reported against `field`.
  Status unknown(std::string_view name, std::string_view field) const;
  const Family* find_family(std::string_view name) const;
  std::vector<const Family*> families() const;
  // The names of the cohorts user `user` is in, sorted.
  std::vector<std::string> cohorts_of(uint32_t user) const;

  // See SignalLedger::set_bulk_load (exclusive lock held); cohorts defined
  // while it is on start with it on.
  void set_bulk_load(bool on);

  // Frees quiet cohort state (exclusive lock held).
  void sweep(int64_t now_us);

  // The cohorts still backfilling, oldest first. Shared lock held.
  std::vector<const Cohort*> pending_backfills() const;
  // Counts `events` (read from the cold tier in sequence order, all below the
  // cohort's `until`) toward cohort `id` if their user was a member at
  // definition, and moves its cursor to `cursor`; `read` cold-tier events
  // were read for them. A cohort dropped meanwhile ignores them. `done`: the
  // cold tier has nothing more below `until`. Exclusive lock held.
  void apply_backfill(uint32_t id, std::span<const BackfillEvent> events, uint64_t cursor,
                      uint64_t read, bool done);

  // Figures for stats and describe.
  uint64_t active_states() const;
  uint64_t memory_bytes() const;
  // Ledger updates made by events (one per cohort of the event's user).
  uint64_t updates() const { return updates_; }

 private:
  // `backfill`: count the members' earlier events (a family's cohort made
  // for a value a user has just taken has no earlier events of members).
  Status create(uint64_t sequence, std::string_view name, std::string_view predicate,
                std::string_view family = {}, bool backfill = true);
  Status create_family(uint64_t sequence, const CohortRecord& r);
  void drop(std::string_view name);
  // The cohort of user `user`'s value in each family, made if missing.
  Status add_family_cohorts(uint64_t sequence, uint32_t user);
  Status update_membership(uint64_t sequence, uint32_t user);
  void count_event(Cohort& c, uint32_t item, uint16_t signal, int64_t t_us, double value);
  std::unique_ptr<signals::LedgerSet> new_ledgers() const;

  Schema schema_;  // for the signal types of new cohorts' ledgers
  const entities::EntityStore* entities_;
  Compile compile_;
  size_t trending_capacity_;
  int64_t future_slack_us_;

  uint32_t next_id_ = 1;
  std::map<std::string, std::unique_ptr<Cohort>, std::less<>> by_name_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::string> dropped_families_;
  std::vector<std::vector<Cohort*>> of_user_;  // by user index: the cohorts it is in
  uint64_t updates_ = 0;
  bool bulk_load_ = false;

  // Dropped cohorts whose stored state the next checkpoint deletes (and
  // those the checkpoint in progress deletes).
  std::vector<uint32_t> dropped_;
  std::vector<uint32_t> dropping_;
};

}  // namespace tidal::cohorts
