// Relationships: the materializer of follows, blocks, mutes and the weighted
// user→creator affinity (docs/entities.md).
//
// Per user (dense index): bitmaps of the creators and users followed, and of
// the creators and items blocked and muted; followers per creator and per
// user are the reverse bitmaps, rebuilt at restore. Affinity: per user, the
// creators the user has signals for, each with one decayed weight per signal
// type that has an affinity delta — an event adds the delta to its signal
// type's weight, and each weight halves every half-life of its signal type,
// so the affinity at time t is Σ_s w_s · 2^(−(t − t_last)/half_life_s).
//
// Deletes: a deleted user loses every relationship, both ways; a deleted
// creator or item leaves every user's follows, blocks, mutes and affinities.
//
// Checkpoint: one value per user with any state; followers are not stored
// but rebuilt at restore. Layout: docs/formats/storage.md#relationships
//
// Guarded by the database's state lock.
#pragma once

#include <memory>
#include <vector>

#include "apply/materializer.h"
#include "core/dirty_list.h"
#include "entities/entity_store.h"
#include "entities/filter_index.h"

namespace tidal::entities {

class Relationships final : public apply::Materializer {
 public:
  explicit Relationships(const Schema& schema);
  ~Relationships() override;

  std::string_view name() const override { return "relationships"; }
  apply::MaterializerScope scope() const override {
    return apply::MaterializerScope::kRelationship;
  }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch* batch) override;
  void end_checkpoint(bool durable) override { dirty_.end_checkpoint(durable); }
  Status restore(StorageEngine& engine) override;

  // Whether signal events need the user's and creator's indexes resolved.
  bool tracks_affinity() const { return !affinity_signals_.empty(); }

  // Users following a creator or a user.
  Bitmap followers(EntityKind target_kind, uint32_t target) const;
  // What `user` follows (kCreator or kUser), blocks or mutes (kCreator or kItem).
  Bitmap related(uint32_t user, Relation relation, EntityKind target_kind) const;
  bool has(uint32_t user, Relation relation, EntityKind target_kind, uint32_t target) const;

  struct Weighted {
    uint32_t creator;
    double weight;
  };
  // The user's affinities at now_us, strongest first, at most `limit`.
  std::vector<Weighted> top_affinities(uint32_t user, size_t limit, int64_t now_us) const;
  double affinity(uint32_t user, uint32_t creator, int64_t now_us) const;

  uint64_t users_with_state() const;

 private:
  struct UserState;
  // Extends the per-signal tables with the signal types of `schema` beyond
  // those known (and widens every user's affinity cells for new ones).
  void add_signals(const Schema& schema);
  UserState& user_state(uint32_t user);
  const UserState* find_user(uint32_t user) const;
  void apply_signal(const apply::AppliedRecord& r);
  void apply_relationship(const apply::AppliedRecord& r);
  void apply_delete(EntityKind kind, uint32_t index);
  double weight_at(const UserState& u, size_t cell, int64_t now_us) const;

  // The signal types with an affinity delta: their ids, deltas and
  // half-lives (us); a weight's position in a cell is its position here.
  std::vector<uint16_t> affinity_signals_;
  std::vector<int> slot_of_signal_;  // by signal id: position, or -1
  std::vector<double> delta_;
  std::vector<double> half_life_us_;

  std::vector<std::unique_ptr<UserState>> users_;
  std::vector<Bitmap> creator_followers_;
  std::vector<Bitmap> user_followers_;
  DirtyList dirty_;
};

// Whether `user` blocks `target` (an entity of `kind`): directly, or, for an
// item, by blocking the item's creator.
bool blocks(const Relationships& relationships, const EntityStore& store, uint32_t user,
            EntityKind kind, uint32_t target);

}  // namespace tidal::entities
