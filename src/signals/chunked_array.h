// ChunkedArray: an array indexed by dense item index that grows without ever
// moving its elements, so a reader holding a reference (or reading an atomic
// element) is never invalidated by growth. Growth (ensure) must be serialized
// by the caller; reads of existing elements may run concurrently with it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tidal::signals {

template <typename T, size_t kChunkBits = 16>
class ChunkedArray {
 public:
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;
  static constexpr size_t kMaxChunks = (size_t{1} << 32) / kChunkSize;

  ChunkedArray() = default;
  ~ChunkedArray() {
    for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
  }
  ChunkedArray(const ChunkedArray&) = delete;
  ChunkedArray& operator=(const ChunkedArray&) = delete;

  // Makes every index up to `i` valid (value-initialized if new): the chunks
  // below i's are allocated too, so any index under size() can be read.
  // Callers serialize.
  void ensure(uint32_t i) {
    const uint32_t size = size_.load(std::memory_order_relaxed);
    if (i < size) return;
    for (size_t c = size >> kChunkBits; c <= (i >> kChunkBits); ++c) {
      if (chunks_[c].load(std::memory_order_acquire) == nullptr) {
        chunks_[c].store(new T[kChunkSize](), std::memory_order_release);
      }
    }
    size_.store(i + 1, std::memory_order_release);
  }

  // Valid for i < size().
  T& operator[](uint32_t i) {
    return chunks_[i >> kChunkBits].load(std::memory_order_acquire)[i & (kChunkSize - 1)];
  }
  const T& operator[](uint32_t i) const {
    return chunks_[i >> kChunkBits].load(std::memory_order_acquire)[i & (kChunkSize - 1)];
  }

  // One past the highest index made valid.
  uint32_t size() const { return size_.load(std::memory_order_acquire); }

  size_t allocated_bytes() const {
    size_t n = 0;
    for (const auto& c : chunks_) n += c.load(std::memory_order_relaxed) ? kChunkSize : 0;
    return n * sizeof(T);
  }

 private:
  std::array<std::atomic<T*>, kMaxChunks> chunks_{};
  std::atomic<uint32_t> size_{0};
};

}  // namespace tidal::signals
