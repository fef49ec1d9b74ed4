// SIMILAR / NEAREST against a brute-force oracle.
//
// Random vectors (small integer components, so that ties and duplicates
// happen) under a random metric and dimension, written with upserts,
// patches that set, change or remove the vector, and deletes, in random
// order, sometimes across a reopen — after a checkpoint (the saved graph is
// loaded and reconciled), without one (replayed from the WAL), or with the
// saved graphs deleted (rebuilt). Then random queries, with and without a
// WHERE filter:
//   - when the planner scans exactly (few candidates, or EF at least the
//     slot's size), the rows are the oracle's: the same similarities, best
//     first, every one at least the oracle's k-th best;
//   - always (HNSW included): every row is a live entity with a vector that
//     passes the filter and is not the SIMILAR key, its score is its exact
//     similarity, rows are best first without repeats, and there are
//     min(LIMIT, candidates) of them — the search widens rather than return
//     a short page.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

Schema prop_schema(uint32_t dim, VectorMetric metric) {
  SchemaBuilder b;
  b.add_attribute(
      EntityKind::kItem,
      {.name = "emb", .type = AttributeType::kVector, .vector_dim = dim, .metric = metric});
  b.add_attribute(EntityKind::kItem,
                  {.name = "n", .type = AttributeType::kInt, .filterable = true});
  return b.build().value();
}

struct Item {
  std::optional<std::vector<float>> v;
  int64_t n = 0;
};

std::vector<float> random_vector(uint32_t dim, VectorMetric metric) {
  while (true) {
    std::vector<float> v;
    for (uint32_t i = 0; i < dim; ++i) v.push_back(static_cast<float>(*rc::gen::inRange(-4, 5)));
    bool zero = std::all_of(v.begin(), v.end(), [](float x) { return x == 0; });
    if (!zero || metric != VectorMetric::kCosine) return v;
  }
}

double similarity(const std::vector<float>& a, const std::vector<float>& b, VectorMetric m) {
  double dot = 0, na = 0, nb = 0, l2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
    l2 += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  }
  switch (m) {
    case VectorMetric::kCosine: return dot / std::sqrt(na * nb);
    case VectorMetric::kDot: return dot;
    case VectorMetric::kL2: return 1 / (1 + std::sqrt(l2));
  }
  return 0;
}

std::string vector_text(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(int(v[i]));
  return s + "]";
}

bool close(double a, double b) {
  return std::abs(a - b) <= 1e-4 * std::max(1.0, std::abs(b));
}

RC_GTEST_PROP(VectorSearchProp, MatchesABruteForceOracle, ()) {
  const uint32_t dim = *rc::gen::element<uint32_t>(2, 3, 8, 16);
  const VectorMetric metric =
      *rc::gen::element(VectorMetric::kCosine, VectorMetric::kDot, VectorMetric::kL2);
  testing::TempDir dir;
  DatabaseOptions o;
  o.background_checkpoints = false;
  o.durability = Durability::kBatch;  // the WAL's sync is not what is tested here
  auto db = Database::open(dir.str(), prop_schema(dim, metric), o).value();
  std::map<std::string, Item> items;
  const int n_keys = *rc::gen::inRange(1, 400);
  const int writes = n_keys + *rc::gen::inRange(0, 300);
  for (int w = 0; w < writes; ++w) {
    const std::string key = "k" + std::to_string(*rc::gen::inRange(0, n_keys));
    const int op = *rc::gen::inRange(0, 10);
    auto it = items.find(key);
    if (op == 0 && it != items.end()) {
      RC_ASSERT(db->remove(EntityKind::kItem, key).ok());
      items.erase(it);
      continue;
    }
    if (op <= 2 && it != items.end()) {  // patch: set, change or remove the vector
      std::optional<std::vector<float>> v;
      if (*rc::gen::inRange(0, 4) > 0) v = random_vector(dim, metric);
      EntityWrite p{EntityKind::kItem, key, {}};
      p.attributes.push_back({"emb", v ? AttributeValue(*v) : AttributeValue()});
      RC_ASSERT(db->patch(p).ok());
      it->second.v = v;
      continue;
    }
    Item item;
    if (*rc::gen::inRange(0, 6) > 0) item.v = random_vector(dim, metric);
    item.n = *rc::gen::inRange(0, 10);
    EntityWrite up{EntityKind::kItem, key, {{"n", item.n}}};
    if (item.v) up.attributes.push_back({"emb", *item.v});
    RC_ASSERT(db->upsert(up).ok());
    items[key] = item;
  }
  const int reopen = *rc::gen::inRange(0, 4);  // 0 none, 1 WAL replay, 2 saved graph, 3 rebuild
  if (reopen > 0) {
    if (reopen >= 2) RC_ASSERT(db->checkpoint().ok());
    db.reset();
    if (reopen == 3) std::filesystem::remove_all(dir.path() / "vectors");
    db = Database::open(dir.str(), prop_schema(dim, metric), o).value();
  }

  for (int q = 0; q < 10; ++q) {
    std::vector<float> query;
    std::string tql;
    std::optional<std::string> self;
    std::vector<std::string> with_vectors;
    for (const auto& [key, item] : items) {
      if (item.v) with_vectors.push_back(key);
    }
    if (!with_vectors.empty() && *rc::gen::arbitrary<bool>()) {
      self = *rc::gen::elementOf(with_vectors);
      query = *items[*self].v;
      tql = "SIMILAR items TO '" + *self + "' USING emb";
    } else {
      query = random_vector(dim, metric);
      tql = "NEAREST items TO VECTOR " + vector_text(query) + " USING emb";
    }
    const size_t ef = *rc::gen::element<size_t>(0, 1, 4, 16, 10000);  // 0: no EF clause
    if (ef > 0) tql += " EF " + std::to_string(ef);
    std::optional<int64_t> below;
    if (*rc::gen::arbitrary<bool>()) below = *rc::gen::inRange<int64_t>(1, 10);
    if (below) tql += " WHERE n < " + std::to_string(*below);
    const size_t limit = *rc::gen::element<size_t>(1, 3, 10, 50);
    tql += " LIMIT " + std::to_string(limit);

    std::map<std::string, double> expected;  // every candidate's similarity
    for (const auto& [key, item] : items) {
      if (!item.v || (self && key == *self) || (below && item.n >= *below)) continue;
      expected[key] = similarity(query, *item.v, metric);
    }
    std::vector<double> best;
    for (const auto& [key, s] : expected) best.push_back(s);
    std::sort(best.rbegin(), best.rend());

    auto r = db->query("EXPLAIN " + tql);
    RC_ASSERT(r.ok());
    RC_ASSERT(r->rows.size() == std::min(limit, expected.size()));
    std::set<std::string> seen;
    for (size_t i = 0; i < r->rows.size(); ++i) {
      const QueryRow& row = r->rows[i];
      RC_ASSERT(seen.insert(row.key).second);
      auto e = expected.find(row.key);
      RC_ASSERT(e != expected.end());
      RC_ASSERT(close(row.score, e->second));
      if (i > 0) RC_ASSERT(row.score <= r->rows[i - 1].score + 1e-9);
    }
    const bool exact = r->explain_text().find("exact scan") != std::string::npos;
    if (exact) {
      for (size_t i = 0; i < r->rows.size(); ++i) RC_ASSERT(close(r->rows[i].score, best[i]));
    }
  }
}

}  // namespace
}  // namespace tidal
