#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>

#include "core/json_text.h"

namespace tidal::server {

std::string_view route_class_name(RouteClass r) {
  switch (r) {
    case RouteClass::kHealth: return "health";
    case RouteClass::kMetrics: return "metrics";
    case RouteClass::kEvents: return "events";
    case RouteClass::kEntities: return "entities";
    case RouteClass::kRelationships: return "relationships";
    case RouteClass::kQuery: return "query";
    case RouteClass::kSchema: return "schema";
    case RouteClass::kProfiles: return "profiles";
    case RouteClass::kCheckpoint: return "checkpoint";
    case RouteClass::kPresent: return "present";
    case RouteClass::kCohorts: return "cohorts";
    case RouteClass::kOther:
    case RouteClass::kCount_: break;
  }
  return "other";
}

Metrics::Metrics() = default;

void Metrics::record_request(RouteClass route, unsigned status, double seconds) {
  auto r = static_cast<size_t>(route);
  size_t cls = status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0;
  requests_[r][cls].fetch_add(1, std::memory_order_relaxed);
  Histogram& h = latency_[r];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  h.buckets[b].fetch_add(1, std::memory_order_relaxed);
  h.count.fetch_add(1, std::memory_order_relaxed);
  h.sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Metrics::add_events(uint64_t accepted, uint64_t rejected) {
  events_accepted_.fetch_add(accepted, std::memory_order_relaxed);
  events_rejected_.fetch_add(rejected, std::memory_order_relaxed);
}

void Metrics::add_entity_writes(uint64_t accepted, uint64_t rejected) {
  entities_accepted_.fetch_add(accepted, std::memory_order_relaxed);
  entities_rejected_.fetch_add(rejected, std::memory_order_relaxed);
}

uint64_t resident_memory_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {

void header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void sample(std::string* out, std::string_view name, std::string_view labels, double v) {
  *out += name;
  if (!labels.empty()) {
    *out += '{';
    *out += labels;
    *out += '}';
  }
  *out += ' ';
  append_json_number(out, v);  // Prometheus reads the same number syntax
  *out += '\n';
}

void gauge(std::string* out, const char* name, const char* help, double v,
           const char* type = "gauge") {
  header(out, name, type, help);
  sample(out, name, "", v);
}

}  // namespace

std::string Metrics::render(const DatabaseStats& db, const DatabaseHealth& health,
                            double uptime_seconds) const {
  std::string out;
  out.reserve(16384);
  static constexpr const char* kClasses[] = {"2xx", "3xx", "4xx", "5xx"};
  header(&out, "tidal_http_requests_total", "counter", "HTTP requests by route and status class.");
  for (size_t r = 0; r < kRoutes; ++r) {
    for (size_t c = 0; c < 4; ++c) {
      uint64_t n = requests_[r][c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string labels = "route=\"" + std::string(route_class_name(RouteClass(r))) +
                           "\",status=\"" + kClasses[c] + "\"";
      sample(&out, "tidal_http_requests_total", labels, static_cast<double>(n));
    }
  }
  header(&out, "tidal_http_request_duration_seconds", "histogram",
         "Wall time from a parsed request to its response, by route.");
  for (size_t r = 0; r < kRoutes; ++r) {
    const Histogram& h = latency_[r];
    uint64_t count = h.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    std::string route = "route=\"" + std::string(route_class_name(RouteClass(r))) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      std::string le = b < kBuckets.size() ? "" : "+Inf";
      if (le.empty()) append_json_number(&le, kBuckets[b]);
      sample(&out, "tidal_http_request_duration_seconds_bucket", route + ",le=\"" + le + "\"",
             static_cast<double>(cumulative));
    }
    sample(&out, "tidal_http_request_duration_seconds_sum", route,
           static_cast<double>(h.sum_ns.load(std::memory_order_relaxed)) / 1e9);
    sample(&out, "tidal_http_request_duration_seconds_count", route, static_cast<double>(count));
  }
  gauge(&out, "tidal_http_requests_in_flight", "Requests being handled now.",
        static_cast<double>(in_flight_.load(std::memory_order_relaxed)));
  header(&out, "tidal_events_total", "counter",
         "Signal events received over HTTP, by outcome (accepted includes duplicates).");
  sample(&out, "tidal_events_total", "outcome=\"accepted\"",
         static_cast<double>(events_accepted_.load(std::memory_order_relaxed)));
  sample(&out, "tidal_events_total", "outcome=\"rejected\"",
         static_cast<double>(events_rejected_.load(std::memory_order_relaxed)));
  header(&out, "tidal_entity_writes_total", "counter",
         "Entity and relationship writes received over HTTP, by outcome.");
  sample(&out, "tidal_entity_writes_total", "outcome=\"accepted\"",
         static_cast<double>(entities_accepted_.load(std::memory_order_relaxed)));
  sample(&out, "tidal_entity_writes_total", "outcome=\"rejected\"",
         static_cast<double>(entities_rejected_.load(std::memory_order_relaxed)));

  gauge(&out, "tidal_events_applied_total", "Signal events applied since the database was created.",
        static_cast<double>(db.events_applied), "counter");
  gauge(&out, "tidal_wal_last_sequence", "Sequence number of the newest WAL record.",
        static_cast<double>(db.last_sequence));
  gauge(&out, "tidal_checkpoint_sequence", "Sequence number the last checkpoint covers.",
        static_cast<double>(db.checkpoint_sequence));
  gauge(&out, "tidal_wal_lag_records",
        "WAL records written since the last checkpoint (replayed on a restart).",
        static_cast<double>(db.last_sequence - std::min(db.last_sequence, db.checkpoint_sequence)));
  gauge(&out, "tidal_wal_bytes", "Bytes of WAL segments on disk.",
        static_cast<double>(db.wal_bytes));
  gauge(&out, "tidal_wal_bytes_since_checkpoint", "WAL bytes written since the last checkpoint.",
        static_cast<double>(db.wal_bytes_since_checkpoint));
  header(&out, "tidal_entities", "gauge", "Live entities by kind.");
  sample(&out, "tidal_entities", "kind=\"item\"", static_cast<double>(db.live_items));
  sample(&out, "tidal_entities", "kind=\"user\"", static_cast<double>(db.live_users));
  sample(&out, "tidal_entities", "kind=\"creator\"", static_cast<double>(db.live_creators));
  header(&out, "tidal_memory_bytes", "gauge", "Memory of the database's in-memory state, by part.");
  sample(&out, "tidal_memory_bytes", "part=\"entities\"", static_cast<double>(db.entity_bytes));
  sample(&out, "tidal_memory_bytes", "part=\"windows\"", static_cast<double>(db.warm_bytes));
  sample(&out, "tidal_memory_bytes", "part=\"decayed\"", static_cast<double>(db.hot_bytes));
  sample(&out, "tidal_memory_bytes", "part=\"text\"", static_cast<double>(db.text_bytes));
  sample(&out, "tidal_memory_bytes", "part=\"vectors\"", static_cast<double>(db.vector_bytes));
  sample(&out, "tidal_memory_bytes", "part=\"users\"", static_cast<double>(db.user_state_bytes));
  gauge(&out, "process_resident_memory_bytes", "Resident memory of the server process.",
        static_cast<double>(resident_memory_bytes()));
  gauge(&out, "tidal_uptime_seconds", "Seconds since the server started.", uptime_seconds);
  gauge(&out, "tidal_writable",
        "1 while the database takes writes; 0 once it refuses them until reopened.",
        health.writable ? 1 : 0);
  gauge(&out, "tidal_write_failing", "1 while writes fail (a full disk), 0 otherwise.",
        health.write_failure.ok() ? 0 : 1);
  gauge(&out, "tidal_checkpoint_failing", "1 while checkpoints fail, 0 otherwise.",
        health.checkpoint_failure.ok() ? 0 : 1);
  return out;
}

}  // namespace tidal::server
