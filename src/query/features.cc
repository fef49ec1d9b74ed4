#include "query/features.h"

#include "entities/attribute_catalog.h"
#include "entities/entity_codec.h"
#include "entities/filter_index.h"

namespace tidal::query {

using entities::Bitmap;

double score_in(const std::vector<text::ScoredDoc>* docs, uint32_t id) {
  if (docs == nullptr) return 0;
  auto it = std::lower_bound(docs->begin(), docs->end(), id,
                             [](const text::ScoredDoc& d, uint32_t v) { return d.doc < v; });
  return it != docs->end() && it->doc == id ? it->score : 0;
}

void FeatureFetcher::fetch(size_t f, const uint32_t* ids, size_t n, double* out) const {
  const Source& src = sources_[f];
  const signals::SignalLedger* l = src.ledger;
  const uint8_t w = src.ref.window;
  if (l == nullptr && src.ref.kind <= ranking::FeatureKind::kPrevCount) {
    // A scope the planner did not resolve (it checks every one): no state.
    std::fill(out, out + n, 0.0);
    return;
  }
  // Without columns, read each item's warm state, prefetching a few
  // candidates ahead (the states are scattered heap blocks).
  constexpr size_t kAhead = 8;
  auto each = [&](auto&& value_of) {
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) l->prefetch(ids[i + kAhead]);
      out[i] = value_of(ids[i]);
    }
  };
  switch (src.ref.kind) {
    case ranking::FeatureKind::kDecay:
      for (size_t i = 0; i < n; ++i) out[i] = l->hot(ids[i], now_us_);
      return;
    case ranking::FeatureKind::kCount:
      if (src.column) {
        for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]);
      } else {
        each([&](uint32_t id) { return static_cast<double>(l->count(id, w, now_us_)); });
      }
      return;
    case ranking::FeatureKind::kSum:
      if (src.column) {
        for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]);
      } else {
        each([&](uint32_t id) { return l->sum(id, w, now_us_); });
      }
      return;
    case ranking::FeatureKind::kPrevCount:
      if (src.column) {
        for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]);
      } else {
        each([&](uint32_t id) { return static_cast<double>(l->prev_count(id, w, now_us_)); });
      }
      return;
    case ranking::FeatureKind::kVelocity:
      if (src.column) {
        for (size_t i = 0; i < n; ++i) out[i] = src.column->at(ids[i]) - src.prev->at(ids[i]);
      } else {
        each([&](uint32_t id) { return l->velocity(id, w, now_us_); });
      }
      return;
    case ranking::FeatureKind::kGaussian:
      for (size_t i = 0; i < n; ++i) out[i] = ranking::gaussian_draw(src.ref.seed, ids[i]);
      return;
    case ranking::FeatureKind::kBm25:
      for (size_t i = 0; i < n; ++i) out[i] = score_in(relevance_, ids[i]);
      return;
    case ranking::FeatureKind::kSimilarity:
      for (size_t i = 0; i < n; ++i) {
        out[i] = vector_.slot ? vector_.slot->similarity(vector_.query, ids[i]) : 0;
      }
      return;
    case ranking::FeatureKind::kHybrid:
      for (size_t i = 0; i < n; ++i) out[i] = score_in(vector_.hybrid, ids[i]);
      return;
    case ranking::FeatureKind::kAttribute:
    case ranking::FeatureKind::kCreatedAt:
      for (size_t i = 0; i < n; ++i) out[i] = attribute(src, ids[i]);
      return;
    case ranking::FeatureKind::kCoEngagement:
    case ranking::FeatureKind::kPreference:
    case ranking::FeatureKind::kAffinity:
    case ranking::FeatureKind::kFollowed:
    case ranking::FeatureKind::kSeen:
    case ranking::FeatureKind::kServed: fetch_user(src, ids, n, out); return;
  }
}

void FeatureFetcher::fetch_user(const Source& src, const uint32_t* ids, size_t n,
                                double* out) const {
  if (user_ == nullptr || user_->user == UserFeatures::kUnknown) {
    std::fill(out, out + n, 0.0);
    return;
  }
  const uint32_t u = user_->user;
  const entities::Relationships* rel = st_.relationships;
  switch (src.ref.kind) {
    case ranking::FeatureKind::kCoEngagement: {
      const std::vector<users::ItemScore>& co = user_->co;
      for (size_t i = 0; i < n; ++i) {
        auto it =
            std::lower_bound(co.begin(), co.end(), ids[i],
                             [](const users::ItemScore& s, uint32_t v) { return s.item < v; });
        out[i] = it != co.end() && it->item == ids[i] ? it->score : 0;
      }
      return;
    }
    case ranking::FeatureKind::kPreference:
      for (size_t i = 0; i < n; ++i) {
        out[i] = src.preference != nullptr && src.vector_slot != nullptr
                     ? src.vector_slot->similarity(src.preference->data(), ids[i])
                     : 0;
      }
      return;
    case ranking::FeatureKind::kAffinity:
      for (size_t i = 0; i < n; ++i) {
        const uint32_t c = st_.entities->creator_of(ids[i]);
        out[i] = c != entities::kNoCreator && rel != nullptr ? rel->affinity(u, c, now_us_) : 0;
      }
      return;
    case ranking::FeatureKind::kFollowed:
      for (size_t i = 0; i < n; ++i) {
        const uint32_t c = st_.entities->creator_of(ids[i]);
        out[i] = c != entities::kNoCreator && rel != nullptr &&
                         rel->has(u, Relation::kFollow, EntityKind::kCreator, c)
                     ? 1
                     : 0;
      }
      return;
    case ranking::FeatureKind::kSeen:
      for (size_t i = 0; i < n; ++i) {
        out[i] = user_->seen != nullptr && user_->seen->contains(ids[i]) ? 1 : 0;
      }
      return;
    case ranking::FeatureKind::kServed: {
      const std::span<const users::ServedItem> served = user_->served;
      for (size_t i = 0; i < n; ++i) {
        auto it =
            std::lower_bound(served.begin(), served.end(), ids[i],
                             [](const users::ServedItem& s, uint32_t v) { return s.item < v; });
        out[i] = it != served.end() && it->item == ids[i] ? it->count : 0;
      }
      return;
    }
    default: std::fill(out, out + n, 0.0); return;
  }
}

FeatureFetcher::Source FeatureFetcher::source_of(const ranking::FeatureRef& f) const {
  Source s;
  s.ref = f;
  switch (f.kind) {
    case ranking::FeatureKind::kDecay:
    case ranking::FeatureKind::kCount:
    case ranking::FeatureKind::kSum:
    case ranking::FeatureKind::kVelocity:
    case ranking::FeatureKind::kPrevCount: {
      using Kind = signals::SignalLedger::ColumnKind;
      Result<signals::LedgerSet*> set = scope_ledgers(st_, f.scope, "sort");
      if (!set.ok() || *set == nullptr) break;
      signals::SignalLedger& l = (*set)->ledger(f.signal);
      s.ledger = &l;
      if (!columns_ || f.kind == ranking::FeatureKind::kDecay) break;
      if (f.kind == ranking::FeatureKind::kCount || f.kind == ranking::FeatureKind::kVelocity) {
        s.column = l.column(f.window, Kind::kCount, now_us_);
      }
      if (f.kind == ranking::FeatureKind::kSum) s.column = l.column(f.window, Kind::kSum, now_us_);
      if (f.kind == ranking::FeatureKind::kPrevCount) {
        s.column = l.column(f.window, Kind::kPrevCount, now_us_);
      }
      if (f.kind == ranking::FeatureKind::kVelocity) {
        s.prev = l.column(f.window, Kind::kPrevCount, now_us_);
      }
      break;
    }
    case ranking::FeatureKind::kGaussian:
    case ranking::FeatureKind::kBm25:
    case ranking::FeatureKind::kSimilarity:
    case ranking::FeatureKind::kHybrid:
    case ranking::FeatureKind::kCoEngagement:
    case ranking::FeatureKind::kAffinity:
    case ranking::FeatureKind::kFollowed:
    case ranking::FeatureKind::kSeen:
    case ranking::FeatureKind::kServed: break;
    case ranking::FeatureKind::kPreference: {
      if (st_.vectors == nullptr) break;
      for (const auto& slot : st_.vectors->slots(EntityKind::kItem)) {
        if (slot->def().id == f.attribute) s.vector_slot = slot.get();
      }
      if (user_ != nullptr) s.preference = user_->preference(f.attribute);
      break;
    }
    case ranking::FeatureKind::kAttribute:
    case ranking::FeatureKind::kCreatedAt: {
      s.slot = f.kind == ranking::FeatureKind::kCreatedAt ? entities::kCreatedAtSlot : f.attribute;
      const AttributeDefinition* def = st_.entities->catalog(kind_).at_slot(s.slot);
      s.type = def ? def->type : AttributeType::kInt;
      const entities::AttributeIndex* index = st_.entities->index(kind_, s.slot);
      if (index != nullptr) {
        s.ints = dynamic_cast<const entities::NumericIndex<int64_t>*>(index);
        s.floats = dynamic_cast<const entities::NumericIndex<double>*>(index);
        s.bools = dynamic_cast<const entities::ValueBitmapIndex*>(index);
      }
      break;
    }
  }
  return s;
}

double FeatureFetcher::attribute(const Source& s, uint32_t id) const {
  const double scale = s.type == AttributeType::kTimestamp ? 1e-6 : 1.0;
  if (s.ints != nullptr) {
    return s.ints->present().contains(id) ? static_cast<double>(s.ints->value(id)) * scale : 0;
  }
  if (s.floats != nullptr) return s.floats->present().contains(id) ? s.floats->value(id) : 0;
  if (s.bools != nullptr) {
    const Bitmap* yes = s.bools->find("true");
    return yes != nullptr && yes->contains(id) ? 1 : 0;
  }
  // Not filterable: decode the stored list.
  entities::AttributeReader r(st_.entities->catalog(kind_), st_.entities->attributes(kind_, id));
  uint16_t slot;
  entities::ValueView v;
  while (r.next(&slot, &v)) {
    if (slot != s.slot) continue;
    switch (v.type) {
      case AttributeType::kInt: return static_cast<double>(v.i);
      case AttributeType::kTimestamp: return static_cast<double>(v.i) * 1e-6;
      case AttributeType::kFloat: return v.f;
      case AttributeType::kBool: return v.b ? 1 : 0;
      default: return 0;
    }
  }
  return 0;
}

}  // namespace tidal::query
