// Per-entity state kept by dense index: a vector of owned pointers that grows
// on demand, with nullptr for the indexes that have no state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace tidal {

// The state at `index`, made (default-constructed) when missing; the table
// grows geometrically so that a run of new indexes costs amortized O(1).
template <class T>
T& dense_at(std::vector<std::unique_ptr<T>>& table, uint32_t index) {
  if (index >= table.size()) table.resize(std::max<size_t>(index + 1, table.size() * 2));
  if (!table[index]) table[index] = std::make_unique<T>();
  return *table[index];
}

// The state at `index`, or nullptr.
template <class T>
const T* dense_find(const std::vector<std::unique_ptr<T>>& table, uint32_t index) {
  return index < table.size() ? table[index].get() : nullptr;
}

}  // namespace tidal
