// Basic value types shared by the public API: entity ids, timestamps, durations.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>

namespace tidal {

// Time is kept in microseconds since the Unix epoch (UTC).
using Duration = std::chrono::microseconds;
using Timestamp = std::chrono::time_point<std::chrono::system_clock, Duration>;

inline int64_t to_micros(Timestamp t) {
  return t.time_since_epoch().count();
}
inline Timestamp from_micros(int64_t us) {
  return Timestamp(Duration(us));
}

// The internal identity of an entity (item, user or creator). Applications use
// their own string keys; tidalDB maps each key to an EntityId once and keeps
// the mapping. In storage keys an EntityId is written big-endian so that byte
// order equals numeric order.
struct EntityId {
  uint64_t value = 0;

  constexpr EntityId() = default;
  constexpr explicit EntityId(uint64_t v) : value(v) {}
  constexpr auto operator<=>(const EntityId&) const = default;
};

// The kinds of entity tidalDB stores.
enum class EntityKind : uint8_t { kItem = 0, kUser = 1, kCreator = 2 };

}  // namespace tidal

template <>
struct std::hash<tidal::EntityId> {
  size_t operator()(tidal::EntityId id) const noexcept { return std::hash<uint64_t>()(id.value); }
};
