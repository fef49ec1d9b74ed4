// UserStateStore: the materializer of what each user did and what the feed
// learns from it (docs/feeds.md). Every signal event with a user updates it
// in the same apply that updates the item's counters.
//
// Per user (dense index):
// - seen: the items the user has any signal for (a roaring bitmap of item
//   indexes), kept for as long as the user exists;
// - recent: the last kRecent distinct items the user engaged with
//   positively (a signal type of positive polarity with a learning rate),
//   each with its engagement weight w (the learning rates of the user's
//   events on it, summed, at most 1) and the time of its newest event;
// - a preference accumulator per item vector attribute:
//     a ← 2^(−Δt / preference_half_life) · a + η · σ · v̂
//   for an event on an item with vector v (v̂ = v / |v|), η the signal
//   type's learning rate, σ = +1 for positive polarity and −1 for negative,
//   Δt the time since the accumulator last moved. The preference vector is
//   a / |a|: recent interests outweigh old ones by the half-life.
//
// Per item, learned from the stream alone (no embeddings needed):
// - norm²: Σ over users of w_ui², the squared length of the item's
//   engagement vector (decayed by co_half_life);
// - links: up to kLinks co-engaged items j with weight
//     co(i, j) = Σ over users u with both i and j in u's recent items of
//                w_ui · w_uj   (each term added when the later event came,
//                              decayed by co_half_life)
//   When a positive event raises w_ui by Δ, co(i, r) and co(r, i) grow by
//   Δ · w_ur for every other r in the user's recent list. A full list keeps
//   its heaviest links by the space-saving rule: a new link replaces the
//   lightest one and starts at the lightest's weight plus its own.
// - sim(i, j) = co(i, j) / sqrt(norm²(i) · norm²(j)): a cosine between the
//   two items' engagement vectors, over recently co-engaged pairs.
//
// The user's co-engagement score of an item j (co_engagement()): the
// weighted mean of its similarity to the user's recent items,
//   Σ_r ρ_r · sim(r, j) / Σ_r ρ_r,   ρ_r = 2^(−position(r) / 8) · w_ur,
// r over recent(u), position 0 the newest; between 0 and 1. Every update is a function of the WAL's
// records in order (no randomness, no wall clock: event times only), so
// replay rebuilds exactly the state a live run had.
//
// Costs: per positive event O(kRecent · kLinks); memory per user: the seen
// bitmap plus kRecent × 16 bytes plus 4 · dim bytes per preference vector;
// per item with links: 8 bytes per link (at most kLinks).
//
// Checkpoint: one value per dirty user and per dirty item (layout:
// docs/formats/storage.md#user-state). Guarded by the database's state lock.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "apply/materializer.h"
#include "core/dirty_list.h"
#include "entities/filter_index.h"
#include "vectors/vector_index.h"

namespace tidal::users {

using entities::Bitmap;

// How many distinct recent items a user keeps, and links an item keeps.
inline constexpr size_t kRecent = 32;
// A positive event links its item with the user's newest this many other
// recent items (its session, roughly).
inline constexpr size_t kPairWindow = 8;
inline constexpr size_t kLinks = 64;
// The half-lives of co-engagement and of preference vectors.
inline constexpr int64_t kCoHalfLifeUs = int64_t{30} * 24 * 3600 * 1'000'000;
inline constexpr int64_t kPreferenceHalfLifeUs = int64_t{30} * 24 * 3600 * 1'000'000;
// The recency weight of a user's recent items halves every this many items.
inline constexpr double kRecencyHalfItems = 8;

struct RecentItem {
  uint32_t item = 0;
  float weight = 0;  // w_ui
  int64_t t_us = 0;  // the newest positive event on it
};

struct ItemScore {
  uint32_t item = 0;
  double score = 0;
};

// The payload of a kFeedServed WAL record:
//   u8 format (1) | bytes user key | varsint time (us) | varint n | n × bytes item key
struct ServedRecord {
  std::string_view user;
  int64_t time_us = 0;
  std::vector<std::string_view> items;
};
void encode_served_record(std::string_view user, int64_t time_us,
                          const std::vector<std::string>& items, std::string* out);
bool decode_served_record(std::string_view payload, ServedRecord* out);

// What a feed served a user is kept this long (and at most kServed items).
inline constexpr int64_t kServedRetentionUs = int64_t{7} * 24 * 3600 * 1'000'000;
inline constexpr size_t kServed = 512;

struct ServedItem {
  uint32_t item = 0;
  uint32_t count = 0;  // servings since the user last engaged with it
  int64_t last_us = 0;
};

class UserStateStore final : public apply::Materializer {
 public:
  UserStateStore(const Schema& schema, const vectors::VectorIndex* vectors);
  ~UserStateStore() override;

  std::string_view name() const override { return "user_state"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kUser; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch* batch) override;
  void end_checkpoint(bool durable) override;
  Status restore(StorageEngine& engine) override;

  // The items the user has signals for (nullptr: none).
  const Bitmap* seen(uint32_t user) const;
  // What feeds served the user (record_served), kept kServedRetentionUs
  // after the last serving and forgotten when the user engages with the
  // item; ascending by item.
  std::span<const ServedItem> served(uint32_t user) const;
  // The user's recent positive items, oldest first.
  std::span<const RecentItem> recent(uint32_t user) const;
  // The user's preference vector for item vector attribute `slot` (its
  // attribute slot), normalized; empty when the user has none.
  std::vector<float> preference(uint32_t user, uint16_t slot) const;
  // co_engagement() of every item linked to the user's recent items (the
  // only items whose score is not 0), ascending by item.
  std::vector<ItemScore> co_engagement(uint32_t user, int64_t now_us) const;
  // Item `item`'s links as sim(item, j), strongest first.
  std::vector<ItemScore> neighbours(uint32_t item, int64_t now_us) const;

  uint64_t users_with_state() const;
  size_t memory_bytes() const;

 private:
  struct User;
  struct Links;
  void add_signals(const Schema& schema);
  User& user_state(uint32_t user);
  const User* find_user(uint32_t user) const;
  Links& links(uint32_t item);
  const Links* find_links(uint32_t item) const;
  void apply_signal(const apply::AppliedRecord& r);
  void apply_served(const apply::AppliedRecord& r);
  void link(uint32_t from, uint32_t to, double amount, int64_t t_us);
  double norm2_at(const Links& l, int64_t now_us) const;

  const vectors::VectorIndex* vectors_;  // the items' embeddings (read only)
  // By signal id: the learning rate and polarity sign (0: no learning).
  std::vector<double> rate_;
  std::vector<int> sign_;
  std::vector<std::unique_ptr<User>> users_;
  std::vector<std::unique_ptr<Links>> items_;
  DirtyList dirty_users_;
  DirtyList dirty_items_;
};

}  // namespace tidal::users
