// SEARCH against a brute-force BM25 oracle.
//
// Random documents over a small vocabulary (so posting lists run to
// hundreds of entries and blocks split and merge), written with upserts,
// patches and deletes in random order (documents land in the middle of
// posting lists, not only at their ends), sometimes across a reopen (the
// index rebuilt from stored entities); then random searches — any words,
// MATCH ALL, +required, -excluded, phrases, one or two attributes with
// boosts, a WHERE filter, a LIMIT — must return exactly the oracle's rows:
// the matching documents by BM25 computed from the definition, best first,
// ties by first registration, scores equal to 1e-9 relative.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

const std::vector<std::string> kWords = {"alpha", "beta", "gamma", "delta", "omega", "kappa"};

Schema prop_schema(double k1_title, double b_body) {
  SchemaBuilder b;
  b.add_attribute(
      EntityKind::kItem,
      {.name = "title", .type = AttributeType::kText, .text = {.boost = 2, .k1 = k1_title}});
  b.add_attribute(EntityKind::kItem,
                  {.name = "body", .type = AttributeType::kText, .text = {.b = b_body}});
  b.add_attribute(EntityKind::kItem,
                  {.name = "even", .type = AttributeType::kBool, .filterable = true});
  return b.build().value();
}

struct Doc {
  std::optional<std::vector<std::string>> title, body;
  bool even = false;
};

struct FieldModel {
  std::string name;
  double k1, b, boost;
};

std::vector<std::string> words_of(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(*rc::gen::elementOf(kWords));
  return out;
}

std::string join(const std::vector<std::string>& w) {
  std::string s;
  for (const std::string& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

bool has_phrase(const std::vector<std::string>& text, const std::vector<std::string>& phrase) {
  if (phrase.empty() || text.size() < phrase.size()) return false;
  for (size_t i = 0; i + phrase.size() <= text.size(); ++i) {
    if (std::equal(phrase.begin(), phrase.end(), text.begin() + static_cast<ptrdiff_t>(i))) {
      return true;
    }
  }
  return false;
}

RC_GTEST_PROP(TextSearchProp, MatchesABruteForceOracle, ()) {
  const double k1_title = *rc::gen::element(0.0, 0.9, 1.2, 3.0);
  const double b_body = *rc::gen::element(0.0, 0.4, 0.75, 1.0);
  const std::vector<FieldModel> fields = {{"title", k1_title, 0.4, 2}, {"body", 0.9, b_body, 1}};
  testing::TempDir dir;
  DatabaseOptions o;
  o.background_checkpoints = false;
  o.durability = Durability::kBatch;  // the WAL's sync is not what is tested here
  auto db = Database::open(dir.str(), prop_schema(k1_title, b_body), o).value();
  std::map<std::string, Doc> docs;
  const int n_docs = *rc::gen::inRange(1, 700);
  const int writes = n_docs + *rc::gen::inRange(0, 200);
  for (int w = 0; w < writes; ++w) {
    const std::string key = "d" + std::to_string(*rc::gen::inRange(0, n_docs));
    const int op = *rc::gen::inRange(0, 10);
    auto it = docs.find(key);
    if (op == 0 && it != docs.end()) {
      RC_ASSERT(db->remove(EntityKind::kItem, key).ok());
      docs.erase(it);  // a re-created key keeps its dense index and first order
      continue;
    }
    if (op == 1 && it != docs.end()) {  // patch one text attribute (maybe remove it)
      const bool title = *rc::gen::arbitrary<bool>();
      std::optional<std::vector<std::string>> v;
      if (*rc::gen::inRange(0, 4) > 0) v = words_of(*rc::gen::inRange<size_t>(0, 12));
      EntityWrite p{EntityKind::kItem, key, {}};
      p.attributes.push_back(
          {title ? "title" : "body", v ? AttributeValue(join(*v)) : AttributeValue()});
      RC_ASSERT(db->patch(p).ok());
      (title ? it->second.title : it->second.body) = v;
      continue;
    }
    Doc d;
    if (*rc::gen::inRange(0, 5) > 0) d.title = words_of(*rc::gen::inRange<size_t>(0, 6));
    if (*rc::gen::inRange(0, 5) > 0) d.body = words_of(*rc::gen::inRange<size_t>(0, 30));
    d.even = *rc::gen::arbitrary<bool>();
    EntityWrite up{EntityKind::kItem, key, {{"even", d.even}}};
    if (d.title) up.attributes.push_back({"title", join(*d.title)});
    if (d.body) up.attributes.push_back({"body", join(*d.body)});
    RC_ASSERT(db->upsert(up).ok());
    docs[key] = d;
  }
  if (*rc::gen::arbitrary<bool>()) {
    db.reset();
    db = Database::open(dir.str(), prop_schema(k1_title, b_body), o).value();
  }

  // Per-field collection statistics over live documents with the field.
  struct Stats {
    double n = 0, total = 0;
    std::map<std::string, double> df;
  };
  std::vector<Stats> stats(2);
  for (const auto& [key, d] : docs) {
    for (size_t f = 0; f < 2; ++f) {
      const auto& text = f == 0 ? d.title : d.body;
      if (!text) continue;
      stats[f].n += 1;
      stats[f].total += static_cast<double>(text->size());
      std::set<std::string> seen(text->begin(), text->end());
      for (const std::string& t : seen) stats[f].df[t] += 1;
    }
  }

  for (int q = 0; q < 12; ++q) {
    // The search.
    std::vector<std::string> should, must, must_not;
    std::vector<std::vector<std::string>> phrases;
    const size_t n_words = *rc::gen::inRange<size_t>(1, 4);
    for (size_t i = 0; i < n_words; ++i) {
      const int kind = *rc::gen::inRange(0, 8);
      const std::string w = *rc::gen::elementOf(kWords);
      if (kind == 0) {
        must.push_back(w);
      } else if (kind == 1) {
        must_not.push_back(w);
      } else if (kind == 2) {
        phrases.push_back({w, *rc::gen::elementOf(kWords)});
      } else {
        should.push_back(w);
      }
    }
    const bool match_all = *rc::gen::inRange(0, 4) == 0;
    const int field_pick = *rc::gen::inRange(0, 3);  // 0 both, 1 title, 2 body
    const double in_boost = *rc::gen::element(1.0, 0.5, 3.0);
    const bool filter = *rc::gen::inRange(0, 3) == 0;
    const size_t limit = *rc::gen::element<size_t>(1, 3, 10, 1000);

    std::string text;
    for (const auto& w : should) text += w + " ";
    for (const auto& w : must) text += "+" + w + " ";
    for (const auto& w : must_not) text += "-" + w + " ";
    for (const auto& p : phrases) text += "\"" + join(p) + "\" ";
    std::string tql = "SEARCH items QUERY '" + text + "'";
    std::vector<size_t> searched;
    std::vector<double> boosts(2, 1.0);
    if (field_pick == 0) {
      searched = {0, 1};
      if (in_boost != 1.0) {
        tql += " IN (title^" + std::to_string(in_boost) + ", body)";
        boosts[0] = in_boost;
      }
    } else {
      searched = {static_cast<size_t>(field_pick - 1)};
      tql += field_pick == 1 ? " IN (title)" : " IN (body)";
    }
    if (match_all) tql += " MATCH ALL";
    if (filter) tql += " WHERE even = TRUE";
    tql += " LIMIT " + std::to_string(limit);

    // The oracle.
    if (match_all) {
      must.insert(must.end(), should.begin(), should.end());
    }
    std::vector<std::string> scoring = should;
    if (match_all) scoring.clear();
    scoring.insert(scoring.end(), must.begin(), must.end());
    for (const auto& p : phrases) scoring.insert(scoring.end(), p.begin(), p.end());
    struct Row {
      std::string key;
      double score;
    };
    std::vector<Row> expect;
    for (const auto& [key, d] : docs) {
      if (filter && !d.even) continue;
      auto has = [&](const std::string& w) {
        for (size_t f : searched) {
          const auto& t = f == 0 ? d.title : d.body;
          if (t && std::find(t->begin(), t->end(), w) != t->end()) return true;
        }
        return false;
      };
      bool ok = true;
      for (const auto& w : must) ok = ok && has(w);
      for (const auto& w : must_not) ok = ok && !has(w);
      for (const auto& p : phrases) {
        bool any = false;
        for (size_t f : searched) {
          const auto& t = f == 0 ? d.title : d.body;
          any = any || (t && has_phrase(*t, p));
        }
        ok = ok && any;
      }
      if (!ok) continue;
      double score = 0;
      bool matched = !must.empty() || !phrases.empty();
      std::map<std::pair<size_t, std::string>, double> qtf;
      for (const auto& w : scoring) {
        for (size_t f : searched) qtf[{f, w}] += 1;
      }
      for (const auto& [fw, count] : qtf) {
        const auto& [f, w] = fw;
        const auto& t = f == 0 ? d.title : d.body;
        if (!t) continue;
        const double tf = static_cast<double>(std::count(t->begin(), t->end(), w));
        if (tf == 0) continue;
        matched = true;
        const FieldModel& m = fields[f];
        const double df = stats[f].df[w], n = stats[f].n;
        const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
        const double avgdl = stats[f].total / n;
        const double dl = static_cast<double>(t->size());
        score += m.boost * boosts[f] * count * idf * (m.k1 + 1) * tf /
                 (tf + m.k1 * (1 - m.b + m.b * dl / std::max(avgdl, 1e-9)));
      }
      if (matched) expect.push_back({key, score});
    }

    auto r = db->query(tql);
    RC_ASSERT(r.ok());
    // Compare as multisets of (key, score) within the limit: the database
    // breaks ties by dense index, which the oracle does not track, so rows
    // with equal scores may come in another order.
    std::sort(expect.begin(), expect.end(),
              [](const Row& a, const Row& b) { return a.score > b.score; });
    const size_t n = std::min(limit, expect.size());
    RC_ASSERT(r->rows.size() == n);
    for (size_t i = 0; i < n; ++i) {
      const double want = expect[i].score;
      RC_ASSERT(std::fabs(r->rows[i].score - want) <= 1e-9 * std::max(1.0, std::fabs(want)));
      // The row's key is one of the oracle's documents with this score.
      auto it = std::find_if(expect.begin(), expect.end(),
                             [&](const Row& e) { return e.key == r->rows[i].key; });
      RC_ASSERT(it != expect.end());
      RC_ASSERT(std::fabs(it->score - want) <= 1e-9 * std::max(1.0, std::fabs(want)));
    }
  }
}

}  // namespace
}  // namespace tidal
