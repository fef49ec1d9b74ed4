// StemCache: a bounded memo of one Snowball stemmer's answers.
//
// Stemming is the analyzer's costliest step (a few hundred ns a word), and
// the words of a corpus follow a Zipf law, so most words repeat. The cache is
// an open-addressing hash table whose 64-byte slots (one cache line) hold a
// word of up to kKeyBytes and its stem inline, compared eight bytes at a
// time. It grows as words arrive up to kMaxSlots (4 MiB); when that is three
// quarters full it is emptied and fills again with the words that come next,
// the frequent ones first. Memory therefore stays bounded whatever the text.
// Longer words are stemmed every time (they are rare).
//
// Not thread-safe: the analyzer keeps one per thread and algorithm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

struct sb_stemmer;

namespace tidal::text {

class StemCache {
 public:
  static constexpr size_t kKeyBytes = 24;
  static constexpr size_t kMaxSlots = size_t{1} << 16;

  // Takes ownership of `stemmer` (may be null: then stem() returns the word).
  explicit StemCache(sb_stemmer* stemmer);
  ~StemCache();
  StemCache(const StemCache&) = delete;
  StemCache& operator=(const StemCache&) = delete;

  // The hash of a word whose bytes are at `padded`: kKeyBytes readable
  // bytes, zero after the word's `size` when size <= kKeyBytes.
  static uint32_t hash_padded(const char* padded, size_t size) {
    constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
    uint64_t w[3];
    std::memcpy(w, padded, sizeof(w));
    uint64_t h = (size * kMul) ^ w[0];
    h = (h * kMul) ^ (h >> 29) ^ w[1];
    h = (h * kMul) ^ (h >> 29) ^ w[2];
    h *= kMul;
    return static_cast<uint32_t>(h >> 32);
  }

  // A hint that a word with this hash is stemmed soon: starts loading its
  // slot.
  void prefetch(uint32_t hash) const {
    if (mask_ != 0) __builtin_prefetch(slots_.data() + (hash & mask_));
  }

  // The stem of `word`, whose bytes are padded as hash_padded() requires
  // and whose hash_padded() is `hash`. Valid until the next call.
  std::string_view stem_padded(std::string_view word, uint32_t hash);

  // The stem of any `word`. Valid until the next call.
  std::string_view stem(std::string_view word);

 private:
  struct alignas(64) Slot {
    uint32_t hash;
    uint8_t word_size;  // 0: empty
    uint8_t stem_size;
    char word[kKeyBytes];  // zero-padded
    char stem[32];
  };
  static_assert(sizeof(Slot) == 64);

  void resize(size_t slots);
  Slot* find_empty(uint32_t hash);

  sb_stemmer* stemmer_;
  std::vector<Slot> slots_;  // a power of two, at most three quarters full
  size_t mask_ = 0;          // slots_.size() - 1, or 0 before the first word
  size_t used_ = 0;
};

}  // namespace tidal::text
