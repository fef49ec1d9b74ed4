// The route table of the HTTP API (docs/http-api.md lists the same routes):
// one row per method and path, with the scope a key needs, whether the
// handler may wait for the disk (and so runs on a worker thread), and the
// class /metrics counts it under.
#include "server/api_request.h"

namespace tidal::server {

namespace {

using Route = Api::Request::Route;
using Worker = Route::Worker;
using Match = Api::Request::Match;

// A pattern split at '/' (once, when the table is first used).
std::vector<std::string_view> split_pattern(std::string_view pattern) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= pattern.size()) {
    size_t end = pattern.find('/', pos);
    if (end == std::string_view::npos) end = pattern.size();
    if (end > pos) parts.push_back(pattern.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

// Whether the pattern split into `parts` matches the target, filling the
// captures.
bool matches(std::string_view pattern, const std::vector<std::string_view>& parts, const Target& t,
             Match* m) {
  // "/health" and "/metrics" are whole paths; the rest live under /v1/.
  if (parts.empty() || parts[0] != "v1") return t.path == pattern;
  if (t.segments.size() != parts.size() - 1 || t.path.rfind("/v1/", 0) != 0) return false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& seg = t.segments[i - 1];
    if (parts[i] == "{collection}") {
      std::optional<EntityKind> kind = kind_of_collection(seg);
      if (!kind) return false;
      m->kind = *kind;
    } else if (parts[i] == "{key}") {
      m->key = seg;
    } else if (parts[i] != seg) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::vector<Route>& Api::Request::routes() {
  using R = Request;
  constexpr auto kSearch = Scope::kSearch, kWrite = Scope::kWrite, kAdmin = Scope::kAdmin;
  static const std::vector<Route> table = {
      {"GET", "/health", std::nullopt, Worker::kNo, RouteClass::kHealth,
       [](R& r, const Match&) { r.health(); }},
      {"HEAD", "/health", std::nullopt, Worker::kNo, RouteClass::kHealth,
       [](R& r, const Match&) { r.health(); }},
      {"GET", "/metrics", kSearch, Worker::kNo, RouteClass::kMetrics,
       [](R& r, const Match&) { r.metrics(); }},
      // Events.
      {"POST", "/v1/events", kWrite, Worker::kYes, RouteClass::kEvents,
       [](R& r, const Match&) { r.event_single(); }},
      {"POST", "/v1/events/batch", kWrite, Worker::kYes, RouteClass::kEvents,
       [](R& r, const Match&) { r.events_batch(); }},
      {"POST", "/v1/events/bulk", kWrite, Worker::kYes, RouteClass::kEvents,
       [](R& r, const Match&) { r.events_bulk(); }},
      // Entities (batch and bulk before {key}: POST has no single-entity form).
      {"POST", "/v1/{collection}/batch", kWrite, Worker::kYes, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entities_batch(m.kind); }},
      {"POST", "/v1/{collection}/bulk", kWrite, Worker::kYes, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entities_bulk(m.kind); }},
      {"GET", "/v1/{collection}", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entities_list(m.kind); }},
      {"GET", "/v1/{collection}/{key}", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entity_one(m.kind, m.key); }},
      {"PUT", "/v1/{collection}/{key}", kWrite, Worker::kYes, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entity_one(m.kind, m.key); }},
      {"PATCH", "/v1/{collection}/{key}", kWrite, Worker::kYes, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entity_one(m.kind, m.key); }},
      {"DELETE", "/v1/{collection}/{key}", kWrite, Worker::kYes, RouteClass::kEntities,
       [](R& r, const Match& m) { r.entity_one(m.kind, m.key); }},
      {"GET", "/v1/items/{key}/signals", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.item_signals(m.key); }},
      {"GET", "/v1/users/{key}/followers", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.followers(EntityKind::kUser, m.key); }},
      {"GET", "/v1/creators/{key}/followers", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.followers(EntityKind::kCreator, m.key); }},
      {"GET", "/v1/users/{key}/relationships", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.related(m.key); }},
      {"GET", "/v1/users/{key}/affinities", kSearch, Worker::kNo, RouteClass::kEntities,
       [](R& r, const Match& m) { r.affinities(m.key); }},
      // Relationships.
      {"POST", "/v1/relationships", kWrite, Worker::kYes, RouteClass::kRelationships,
       [](R& r, const Match&) { r.relationship_single(); }},
      {"POST", "/v1/relationships/batch", kWrite, Worker::kYes, RouteClass::kRelationships,
       [](R& r, const Match&) { r.relationships_batch(); }},
      // Queries (a statement that writes also needs the admin scope).
      {"GET", "/v1/query", kSearch, Worker::kNo, RouteClass::kQuery,
       [](R& r, const Match&) { r.query(); }},
      {"POST", "/v1/query", kSearch, Worker::kIfWrites, RouteClass::kQuery,
       [](R& r, const Match&) { r.query(); }},
      // The schema.
      {"GET", "/v1/schema", kSearch, Worker::kNo, RouteClass::kSchema,
       [](R& r, const Match&) { r.schema_get(); }},
      {"POST", "/v1/schema/signals", kAdmin, Worker::kYes, RouteClass::kSchema,
       [](R& r, const Match&) { r.migrate(true); }},
      {"POST", "/v1/schema/attributes", kAdmin, Worker::kYes, RouteClass::kSchema,
       [](R& r, const Match&) { r.migrate(false); }},
      // Profiles.
      {"GET", "/v1/profiles", kSearch, Worker::kNo, RouteClass::kProfiles,
       [](R& r, const Match&) { r.profiles_list(); }},
      {"GET", "/v1/profiles/{key}", kSearch, Worker::kNo, RouteClass::kProfiles,
       [](R& r, const Match& m) { r.profile_get(m.key); }},
      {"PUT", "/v1/profiles/{key}", kAdmin, Worker::kYes, RouteClass::kProfiles,
       [](R& r, const Match& m) { r.profile_put(m.key); }},
      // Cohorts.
      {"GET", "/v1/cohorts", kSearch, Worker::kNo, RouteClass::kCohorts,
       [](R& r, const Match&) { r.cohorts_list(); }},
      {"POST", "/v1/cohorts", kAdmin, Worker::kYes, RouteClass::kCohorts,
       [](R& r, const Match&) { r.cohort_create(); }},
      {"GET", "/v1/cohorts/{key}", kSearch, Worker::kNo, RouteClass::kCohorts,
       [](R& r, const Match& m) { r.cohort_get(m.key); }},
      {"DELETE", "/v1/cohorts/{key}", kAdmin, Worker::kYes, RouteClass::kCohorts,
       [](R& r, const Match& m) { r.cohort_drop(m.key); }},
      {"GET", "/v1/users/{key}/cohorts", kSearch, Worker::kNo, RouteClass::kCohorts,
       [](R& r, const Match& m) { r.user_cohorts(m.key); }},
      // The present and checkpoints.
      {"GET", "/v1/present", kSearch, Worker::kNo, RouteClass::kPresent,
       [](R& r, const Match&) { r.present_get(); }},
      {"POST", "/v1/present", kAdmin, Worker::kYes, RouteClass::kPresent,
       [](R& r, const Match&) { r.set_present(); }},
      {"POST", "/v1/checkpoint", kAdmin, Worker::kYes, RouteClass::kCheckpoint,
       [](R& r, const Match&) { r.checkpoint(); }},
  };
  return table;
}

const Api::Request::Route* Api::Request::find_route(std::string_view method, const Target& target,
                                                    Match* m, bool* path_matched,
                                                    std::string* allowed, RouteClass* route_class) {
  static const std::vector<std::vector<std::string_view>> split = [] {
    std::vector<std::vector<std::string_view>> out;
    for (const Route& r : routes()) out.push_back(split_pattern(r.pattern));
    return out;
  }();
  *path_matched = false;
  const std::vector<Route>& table = routes();
  for (size_t i = 0; i < table.size(); ++i) {
    const Route& r = table[i];
    Match candidate;
    if (!matches(r.pattern, split[i], target, &candidate)) continue;
    if (!*path_matched) *route_class = r.metrics;
    *path_matched = true;
    if (r.method == method) {
      *m = std::move(candidate);
      m->route = &r;
      *route_class = r.metrics;
      return &r;
    }
    if (allowed->find(r.method) == std::string::npos) {
      *allowed += (allowed->empty() ? "" : ", ") + std::string(r.method);
    }
  }
  return nullptr;
}

void Api::Request::run() {
  if (req_.target.empty() || req_.target[0] != '/') {
    return fail(bad_request("url", "the request target must be a path starting with /"));
  }
  Result<Target> t = parse_target(req_.target);
  if (!t.ok()) return fail(t.status());
  target_ = std::move(t).value();
  Match m;
  bool path_matched = false;
  std::string allowed;
  const Route* r = find_route(req_.method, target_, &m, &path_matched, &allowed, &route);
  if (r == nullptr) {
    if (!path_matched) return not_found();
    return fail_code(405, "method_not_allowed",
                     std::string(req_.method) + " is not allowed on " + target_.path +
                         " (allowed: " + allowed + ")");
  }
  if (r->scope && !authorize(*r->scope)) return;
  r->handler(*this, m);
}

}  // namespace tidal::server
