// Features of a read query's sort, fetched column by column for batches of
// candidates: signal features from the ledger (or its dense window columns),
// attributes from the entity store's filter indexes (or the stored lists),
// bm25 from SEARCH's matches, similarity and hybrid from a vector query.
// Internal to src/query/.
#pragma once

#include <memory>
#include <vector>

#include "query/engine.h"
#include "ranking/profile.h"
#include "text/text_search.h"
#include "vectors/vector_index.h"

namespace tidal::query {

// What the features of a vector query read: the slot and query vector
// (similarity) and the fused ranks (hybrid, ascending by entity).
struct VectorFeatures {
  const vectors::VectorSlot* slot = nullptr;
  const float* query = nullptr;
  const std::vector<text::ScoredDoc>* hybrid = nullptr;
};

// What the user features of a query naming a user read (FEED FOR USER;
// docs/feeds.md). A user the database has never seen has no index: every
// user feature is then 0.
struct UserFeatures {
  static constexpr uint32_t kUnknown = UINT32_MAX;
  std::string key;
  uint32_t user = kUnknown;
  // co_engagement of every item it is not 0 for, ascending by item.
  std::vector<users::ItemScore> co;
  // By item vector attribute id: the user's normalized preference vector
  // (absent: none yet).
  std::vector<std::pair<uint16_t, std::vector<float>>> preferences;
  const entities::Bitmap* seen = nullptr;       // nullptr: nothing seen
  std::span<const users::ServedItem> served{};  // ascending by item

  const std::vector<float>* preference(uint16_t attribute) const {
    for (const auto& [id, v] : preferences) {
      if (id == attribute) return &v;
    }
    return nullptr;
  }
};

// The score of entity `id` in `docs` (ascending by doc), 0 when absent.
double score_in(const std::vector<text::ScoredDoc>* docs, uint32_t id);

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
                 VectorFeatures vector = {}, const UserFeatures* user = nullptr)
      : st_(st),
        kind_(kind),
        now_us_(st.now_us),
        columns_(columns),
        relevance_(relevance),
        vector_(vector),
        user_(user) {
    for (const ranking::FeatureRef& f : program.features()) sources_.push_back(source_of(f));
  }

  size_t size() const { return sources_.size(); }

  // out[i] = feature f of candidate ids[i], 0 <= i < n.
  void fetch(size_t f, const uint32_t* ids, size_t n, double* out) const;

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
    // kPreference: the slot and the user's vector (nullptr: none).
    const vectors::VectorSlot* vector_slot = nullptr;
    const std::vector<float>* preference = nullptr;
  };
  // The user features' values for ids[0..n).
  void fetch_user(const Source& src, const uint32_t* ids, size_t n, double* out) const;

  Source source_of(const ranking::FeatureRef& f) const;
  double attribute(const Source& s, uint32_t id) const;

  const QueryState& st_;
  EntityKind kind_;
  int64_t now_us_;
  bool columns_;
  const std::vector<text::ScoredDoc>* relevance_;
  VectorFeatures vector_;
  const UserFeatures* user_;
  std::vector<Source> sources_;
};

}  // namespace tidal::query
