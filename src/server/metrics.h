// The server's own counters and latency histograms, rendered with the
// database's statistics in the Prometheus text format (GET /metrics).
// Every update is a relaxed atomic add: recording costs a few nanoseconds
// and never blocks a request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "tidal/database.h"

namespace tidal::server {

// What a request was, for counting; one label value each.
enum class RouteClass : uint8_t {
  kHealth,
  kMetrics,
  kEvents,
  kEntities,
  kRelationships,
  kQuery,
  kSchema,
  kProfiles,
  kCheckpoint,
  kPresent,
  kCohorts,
  kOther,
  kCount_,
};

std::string_view route_class_name(RouteClass r);

class Metrics {
 public:
  Metrics();
  // One finished request: its route, HTTP status and wall time.
  void record_request(RouteClass route, unsigned status, double seconds);
  void add_events(uint64_t accepted, uint64_t rejected);
  void add_entity_writes(uint64_t accepted, uint64_t rejected);
  void in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  // The exposition text: the server's series, then the database's.
  std::string render(const DatabaseStats& db, const DatabaseHealth& health,
                     double uptime_seconds) const;

  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 16> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                      1,      2.5,     5,      10};

 private:
  static constexpr size_t kRoutes = static_cast<size_t>(RouteClass::kCount_);
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
  };
  // requests by route and status class (2xx, 3xx, 4xx, 5xx)
  std::array<std::array<std::atomic<uint64_t>, 4>, kRoutes> requests_{};
  std::array<Histogram, kRoutes> latency_;
  std::atomic<uint64_t> events_accepted_{0}, events_rejected_{0};
  std::atomic<uint64_t> entities_accepted_{0}, entities_rejected_{0};
  std::atomic<int64_t> in_flight_{0};
};

// The process's resident memory in bytes (/proc/self/statm), 0 if unknown.
uint64_t resident_memory_bytes();

}  // namespace tidal::server
