#include "support/synthetic_text.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <unordered_map>

namespace tidal::bench {
namespace {

// SplitMix64: a small generator whose output does not depend on the C++
// library, so the corpus is the same everywhere.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((__uint128_t{next()} * n) >> 64); }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

// Calls `word(w)` for every maximal run of ASCII letters and digits of
// `text`, lowercased.
template <typename Word>
void simple_words(const std::string& text, Word word) {
  std::string current;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      current += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!current.empty()) {
      word(current);
      current.clear();
    }
  }
  if (!current.empty()) word(current);
}

}  // namespace

SyntheticCorpus::SyntheticCorpus(const std::vector<BeirDocument>& real, uint64_t seed)
    : seed_(seed) {
  std::unordered_map<std::string, uint64_t> counts;
  for (const BeirDocument& doc : real) {
    uint32_t length = 0;
    simple_words(flat_contents(doc), [&](const std::string& w) {
      ++counts[w];
      ++length;
    });
    if (length > 0) lengths_.push_back(length);
  }
  // Words in a fixed order (count descending, then the word), so the alias
  // table does not depend on the hash map's iteration order.
  std::vector<std::pair<std::string, uint64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  const size_t n = sorted.size();
  uint64_t total = 0;
  for (const auto& [w, c] : sorted) total += c;
  words_.reserve(n);
  std::vector<double> scaled(n);
  for (size_t i = 0; i < n; ++i) {
    words_.push_back(sorted[i].first);
    scaled[i] =
        static_cast<double>(sorted[i].second) * static_cast<double>(n) / static_cast<double>(total);
  }
  // Vose's alias method.
  prob_.assign(n, 1.0);
  alias_.resize(n);
  std::iota(alias_.begin(), alias_.end(), 0u);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i)
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left has probability 1 up to rounding.
}

void SyntheticCorpus::document(size_t i, BeirDocument* out) const {
  SplitMix64 rng{seed_ * 0x2545f4914f6cdd1dull + i};
  rng.next();
  out->id = "syn" + std::to_string(i);
  out->title.clear();
  out->text.clear();
  uint32_t length = lengths_[rng.below(lengths_.size())];
  for (uint32_t k = 0; k < length; ++k) {
    uint64_t column = rng.below(words_.size());
    uint32_t w = rng.unit() < prob_[column] ? static_cast<uint32_t>(column) : alias_[column];
    if (k > 0) out->text += ' ';
    out->text += words_[w];
  }
}

double SyntheticCorpus::mean_length() const {
  if (lengths_.empty()) return 0;
  double sum = std::accumulate(lengths_.begin(), lengths_.end(), 0.0);
  return sum / static_cast<double>(lengths_.size());
}

}  // namespace tidal::bench
