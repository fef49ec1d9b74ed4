#include "text/stem_cache.h"

#include <libstemmer.h>

#include <algorithm>

namespace tidal::text {
namespace {

constexpr size_t kInitialSlots = 1024;

// Both hold kKeyBytes readable bytes.
inline bool same_key(const char* a, const char* b) {
  uint64_t x[3];
  uint64_t y[3];
  std::memcpy(x, a, sizeof(x));
  std::memcpy(y, b, sizeof(y));
  return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

}  // namespace

StemCache::StemCache(sb_stemmer* stemmer) : stemmer_(stemmer) {}

StemCache::~StemCache() {
  if (stemmer_ != nullptr) sb_stemmer_delete(stemmer_);
}

StemCache::Slot* StemCache::find_empty(uint32_t hash) {
  size_t i = hash & mask_;
  while (slots_[i].word_size != 0) i = (i + 1) & mask_;
  return &slots_[i];
}

// Moves every entry into a table of `slots` slots.
void StemCache::resize(size_t slots) {
  std::vector<Slot> old(slots, Slot{});
  old.swap(slots_);
  mask_ = slots - 1;
  for (const Slot& s : old) {
    if (s.word_size != 0) *find_empty(s.hash) = s;
  }
}

std::string_view StemCache::stem(std::string_view word) {
  if (word.size() > kKeyBytes) return stem_padded(word, 0);
  char padded[kKeyBytes] = {};
  std::memcpy(padded, word.data(), word.size());
  return stem_padded(std::string_view(padded, word.size()),
                     hash_padded(padded, word.size()));  // a cached stem does not point here
}

std::string_view StemCache::stem_padded(std::string_view word, uint32_t hash) {
  if (stemmer_ == nullptr) return word;
  const bool cacheable = !word.empty() && word.size() <= kKeyBytes;
  if (cacheable && mask_ != 0) {
    for (size_t i = hash & mask_; slots_[i].word_size != 0; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == hash && s.word_size == word.size() && same_key(s.word, word.data())) {
        return std::string_view(s.stem, s.stem_size);
      }
    }
  }
  const sb_symbol* out = sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(word.data()),
                                         static_cast<int>(word.size()));
  if (out == nullptr) return word;  // out of memory inside libstemmer: leave the word as it is
  // libstemmer's buffer, valid until its next call.
  std::string_view stemmed(reinterpret_cast<const char*>(out),
                           static_cast<size_t>(sb_stemmer_length(stemmer_)));
  if (!cacheable || stemmed.size() > sizeof(Slot::stem)) return stemmed;

  if ((used_ + 1) * 4 > slots_.size() * 3) {
    if (slots_.size() >= kMaxSlots) {
      std::fill(slots_.begin(), slots_.end(), Slot{});
      used_ = 0;
    } else {
      resize(slots_.empty() ? kInitialSlots : slots_.size() * 2);
    }
  }
  Slot* s = find_empty(hash);
  *s = Slot{};
  s->hash = hash;
  s->word_size = static_cast<uint8_t>(word.size());
  s->stem_size = static_cast<uint8_t>(stemmed.size());
  std::memcpy(s->word, word.data(), word.size());
  std::memcpy(s->stem, stemmed.data(), stemmed.size());
  ++used_;
  return std::string_view(s->stem, s->stem_size);
}

}  // namespace tidal::text
