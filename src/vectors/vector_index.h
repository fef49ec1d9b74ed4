// VectorIndex: the materializer that keeps one nearest-neighbour index per
// vector attribute ("embedding slot") of every entity kind, in step with
// entity writes (docs/vectors.md).
//
// Each slot is an HNSW graph from hnswlib (Debian's libhnswlib-dev), labelled
// by the entity's dense index. An upsert, patch or delete changes the graph
// in the same apply as it changes the entity store, so the next query sees
// it: a new vector is inserted, a changed one is updated in place (hnswlib
// repairs its neighbourhood), a removed one stays in the graph as a dead
// element (it still routes searches but is never returned; a later vector
// for the same entity reuses it). A slot whose dead elements outnumber its
// live ones (and are at least 1,024) is rebuilt from the live ones. A write
// that leaves the vector as it was costs nothing.
//
// Under the cosine metric vectors are stored normalized and compared by inner
// product; dot compares raw inner products; l2 squared Euclidean distance.
//
// Persistence: during each checkpoint (after_checkpoint()), each slot whose
// graph changed since its last save is written to <data folder>/vectors/.
// Layout: docs/formats/vectors.md
// open() loads a slot's graph when its header fits the schema and its
// checksum matches, then reconciles it with the restored entity store — a
// vector that differs is updated, one that is gone becomes dead, a
// missing one is added — so a graph saved a little before or after the
// checkpoint is still exact. A missing or unreadable file is rebuilt from the
// entities, inserting on every core. A database without a data folder always
// rebuilds.
//
// Searching (nearest()) picks between two strategies by cost, and says which
// in SearchStats (EXPLAIN shows it):
//   - exact: the distance to every candidate, when the candidates (the
//     filter's bitmap ∩ the vectors present) are fewer than the distance
//     computations an HNSW search would make;
//   - hnsw: a beam search of breadth ef; with a filter, over-fetched to
//     ef / selectivity so that enough of the beam passes the filter, widened
//     and retried if it still comes back short. (hnswlib 0.6 has no filter
//     callback, so the filter applies to the beam's results.)
//
// apply() and open() run under the database's exclusive state lock; searches
// hold the shared one. The save after a checkpoint runs outside that lock and
// holds this index's own lock shared, which apply() takes exclusively: a
// vector write waits for a save in progress, and queries do not.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apply/materializer.h"
#include "entities/entity_store.h"

namespace tidal::vectors {

using entities::Bitmap;

// One search result: an entity's dense index and its similarity to the
// query (higher is more similar): cosine similarity, the inner product, or
// 1 / (1 + Euclidean distance) for l2.
struct Neighbor {
  uint32_t id = 0;
  double similarity = 0;
};

struct SearchStats {
  std::string strategy;     // what nearest() did, for EXPLAIN
  uint64_t candidates = 0;  // vectors the search could return (after the filter)
  uint64_t examined = 0;    // exact: distances computed; hnsw: results read from the beam
};

// HNSW parameters. The graph's shape (M, ef_construction) is fixed when a
// slot's graph is built; ef is per query.
inline constexpr size_t kHnswM = 16;
inline constexpr size_t kHnswEfConstruction = 200;
inline constexpr size_t kDefaultEf = 64;
inline constexpr size_t kMaxEf = 10000;

class VectorSlot;

class VectorIndex final : public apply::Materializer {
 public:
  // `entities` must outlive the index. `dir` is where graphs are saved
  // ("" for a database without a data folder: nothing is saved).
  VectorIndex(const Schema& schema, const entities::EntityStore* entities, std::string dir);
  ~VectorIndex() override;

  std::string_view name() const override { return "vectors"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kGlobal; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch*) override { return Status::Ok(); }
  Status after_checkpoint() override;
  Status restore(StorageEngine&) override { return Status::Ok(); }

  // After the entity store is restored: loads each slot's saved graph and
  // reconciles it with the entities, or rebuilds it.
  Status open();

  // The vector attributes of `kind`, in schema order.
  const std::vector<std::unique_ptr<VectorSlot>>& slots(EntityKind kind) const {
    return slots_[static_cast<size_t>(kind)];
  }
  // nullptr when `kind` has no vector attribute of that name.
  const VectorSlot* slot(EntityKind kind, std::string_view name) const;
  size_t memory_bytes() const;
  // How the last open() got each slot (for logs and tests): "loaded",
  // "rebuilt" or "empty", with counts.
  const std::string& open_report() const { return open_report_; }

 private:
  const entities::EntityStore* entities_;
  std::string dir_;
  std::array<std::vector<std::unique_ptr<VectorSlot>>, 3> slots_;
  mutable std::shared_mutex save_mu_;  // apply: exclusive; saving: shared
  std::string open_report_;

  // Adds an empty slot for each vector attribute of `schema` it lacks.
  void add_slots(const Schema& schema);
};

// One vector attribute of one kind and its graph.
class VectorSlot {
 public:
  VectorSlot(const AttributeDefinition& def, uint16_t slot);
  ~VectorSlot();

  const AttributeDefinition& def() const { return def_; }
  uint16_t attribute_slot() const { return slot_; }
  uint32_t dim() const { return def_.vector_dim; }
  VectorMetric metric() const { return def_.metric; }

  // Checks a query vector against the slot (dimension, finite components,
  // not zero under cosine; errors name `field` and the attribute) and
  // returns it as stored vectors are (normalized under cosine).
  Result<std::vector<float>> prepare_query(std::span<const float> v, std::string_view field) const;

  // Whether entity `id` has a vector in this slot, and that vector as
  // stored (dim() floats; normalized under cosine), or nullptr.
  bool has(uint32_t id) const;
  const float* stored(uint32_t id) const;
  const Bitmap& present() const { return present_; }
  uint64_t size() const { return present_.cardinality(); }

  // The similarity of a prepared query to entity `id`'s vector; 0 when it
  // has none.
  double similarity(const float* query, uint32_t id) const;

  // The `k` entities nearest to the prepared `query`, most similar first
  // (ties by id), restricted to `within` when given, never `exclude`.
  // `ef` is the HNSW beam breadth (raised to k).
  std::vector<Neighbor> nearest(const float* query, size_t k, const Bitmap* within, size_t ef,
                                std::optional<uint32_t> exclude, SearchStats* stats) const;

  // The same by computing every distance (the oracle of tests, and the
  // planner's exact strategy).
  std::vector<Neighbor> exact(const float* query, size_t k, const Bitmap* within,
                              std::optional<uint32_t> exclude, SearchStats* stats) const;

  size_t memory_bytes() const;

 private:
  friend class VectorIndex;
  struct Graph;

  // The stored form of a written value (little-endian f32s): normalized
  // under cosine.
  void to_stored(std::string_view raw, std::vector<float>* out) const;
  Status put(uint32_t id, const std::vector<float>& v);
  Status remove(uint32_t id);
  // Rebuilds the graph from the live vectors once dead elements dominate it.
  Status compact_if_mostly_dead();
  // Graph elements, dead ones included.
  uint64_t elements() const;
  Status rebuild(const std::vector<std::pair<uint32_t, std::vector<float>>>& vectors);
  Status save(const std::string& dir, EntityKind kind);
  // Loads the saved graph; false (with `why`) when there is none or it does
  // not fit.
  bool load(const std::string& dir, EntityKind kind, std::string* why);
  std::string file_stem(const std::string& dir, EntityKind kind) const;
  double similarity_of(float distance) const;

  AttributeDefinition def_;
  uint16_t slot_;
  std::unique_ptr<Graph> graph_;
  Bitmap present_;
  std::vector<uint32_t> internal_of_;  // entity → graph element (kNoElement when none)
  uint64_t changes_ = 0;               // writes since the last save
};

}  // namespace tidal::vectors
