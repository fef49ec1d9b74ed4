// Database::Impl: cohorts — definitions through the WAL, listings, and the
// backfill of a newly defined cohort from the cold tier (docs/cohorts.md).

#include "db/database_impl.h"
#include "query/filter.h"
#include "query/parser.h"
#include "query/printer.h"
#include "ranking/profile.h"
#include "schema/identifiers.h"

namespace tidal {

namespace {

// Cold-tier events counted per hold of the state lock: small enough that a
// backfill never holds up reads and writes for long.
constexpr size_t kBackfillBatch = 16384;

// The hashes of the keys of the users a backfill counts (the members at
// definition of every cohort it fills): an open-addressing set of 64-bit
// std::hash values, so that the events of everyone else — most of the cold
// tier for a small cohort — are dropped with one hash and one probe of a
// table sized to the members, outside the state lock, instead of a lookup
// in the whole user key map under it. It never drops a member's event (a
// member's key hash is in the set); what passes is checked exactly as
// before (KeyMap, then the member bitmaps).
class MemberKeyFilter {
 public:
  // Worth it while the members are a minority of the users.
  static bool worth_it(uint64_t members, uint64_t users) { return members * 2 <= users; }

  explicit MemberKeyFilter(uint64_t members) {
    size_t capacity = 16;
    while (capacity < members * 2) capacity *= 2;
    slots_.assign(capacity, 0);
  }
  void insert(std::string_view key) {
    const uint64_t h = hash(key);
    size_t pos = h & (slots_.size() - 1);
    while (slots_[pos] != 0 && slots_[pos] != h) pos = (pos + 1) & (slots_.size() - 1);
    slots_[pos] = h;
  }
  bool may_contain(std::string_view key) const {
    const uint64_t h = hash(key);
    for (size_t pos = h & (slots_.size() - 1);; pos = (pos + 1) & (slots_.size() - 1)) {
      if (slots_[pos] == h) return true;
      if (slots_[pos] == 0) return false;
    }
  }

 private:
  static uint64_t hash(std::string_view key) {
    const uint64_t h = std::hash<std::string_view>()(key);
    return h == 0 ? 1 : h;  // 0 marks an empty slot
  }
  std::vector<uint64_t> slots_;
};

}  // namespace

Result<uint64_t> Database::Impl::define_cohort(const query::Statement& s, std::string* message) {
  TIDAL_RETURN_IF_ERROR(query::validate(s));
  if (s.kind == query::StatementKind::kCreateCohorts) return define_family(s, message);
  const bool create = s.kind == query::StatementKind::kCreateCohort;
  if (create && !is_identifier(s.name)) {
    return Status::Invalid(Subsystem::kQuery, "name", s.name, kIdentifierRule);
  }
  if (create && s.name == ranking::kEveryoneName) {
    return Status::Invalid(Subsystem::kQuery, "name", s.name,
                           "is reserved: in a profile, cohort = all means every user");
  }
  // One definition at a time: each is checked against the cohorts in force.
  MutexLock change(schema_change_mu_);
  std::string payload;
  {
    ReaderLock lk(state_mu_);
    const cohorts::Cohort* existing = cohorts_->find(s.name);
    if (create && cohorts_->find_family(s.name) != nullptr) {
      return Status::AlreadyExists(Subsystem::kQuery, "cohort family " + s.name + " exists already",
                                   "name");
    }
    if (create) {
      if (existing != nullptr) {
        return Status::AlreadyExists(Subsystem::kQuery,
                                     "cohort " + s.name + " exists already (defined as " +
                                         existing->predicate + "); DROP COHORT " + s.name +
                                         " first to define it again",
                                     "name");
      }
      TIDAL_ASSIGN_OR_RETURN(Filter filter, query::to_filter(*s.where));
      Status st = entities_->resolve_literals(EntityKind::kUser, &filter);
      if (st.ok()) st = entities_->check(EntityKind::kUser, filter);
      if (!st.ok()) {
        // The entity store names the attribute as filter.<name>; here the
        // filter is the cohort's WHERE.
        std::string field = st.field();
        if (field.rfind("filter.", 0) == 0) field = field.substr(7);
        return Status(st.subsystem(), st.code(),
                      "the cohort's predicate is over user attributes: " + st.message(),
                      field.empty() ? "where" : "where." + field);
      }
      const std::string predicate = query::to_tql(*s.where);
      payload = cohorts::encode_cohort_record({.op = cohorts::CohortRecord::Op::kCreate,
                                               .name = s.name,
                                               .predicate = predicate,
                                               .attribute = {},
                                               .buckets = {}});
    } else {
      if (existing == nullptr && cohorts_->find_family(s.name) == nullptr) {
        return Status::NotFound(Subsystem::kQuery, "no cohort " + s.name, "name");
      }
      if (existing != nullptr && !existing->family.empty()) {
        return Status::Invalid(Subsystem::kQuery, "name", s.name,
                               "belongs to the cohort family " + existing->family +
                                   "; DROP COHORT " + existing->family +
                                   " drops the family with its cohorts");
      }
      // A stored profile reading one of the cohorts dropped keeps it.
      for (const auto& [profile, stored] : profiles_->all()) {
        for (const std::string& used : ranking::scoped_cohorts(stored.expr)) {
          const cohorts::Cohort* c = cohorts_->find(used);
          if (used == s.name || (c != nullptr && c->family == s.name)) {
            return Status::Invalid(Subsystem::kQuery, "name", s.name,
                                   "profile " + profile + " reads cohort " + used +
                                       " (cohort = " + used + "); CREATE PROFILE " + profile +
                                       " AS ... without it first");
          }
        }
      }
      payload = cohorts::encode_cohort_record({.op = cohorts::CohortRecord::Op::kDrop,
                                               .name = s.name,
                                               .predicate = {},
                                               .attribute = {},
                                               .buckets = {}});
    }
  }
  TIDAL_ASSIGN_OR_RETURN(uint64_t sequence,
                         commit_one(wal::RecordType::kCohortDefinition, payload));
  if (create) {
    ReaderLock lk(state_mu_);
    const cohorts::Cohort* c = cohorts_->find(s.name);
    const uint64_t members = c ? c->members.cardinality() : 0;
    const bool backfilling = c && !c->backfill.done;
    *message = "cohort " + s.name + " created with " + std::to_string(members) +
               (members == 1 ? " member" : " members") +
               (backfilling ? "; counting its members' earlier events from the cold tier" : "") +
               " (WAL sequence " + std::to_string(sequence) + ")";
  } else {
    *message = "cohort " + s.name + " dropped (WAL sequence " + std::to_string(sequence) + ")";
  }
  if (create) wake_backfill();
  return sequence;
}

Result<uint64_t> Database::Impl::define_family(const query::Statement& s, std::string* message) {
  if (!is_identifier(s.name)) {
    return Status::Invalid(Subsystem::kQuery, "name", s.name, kIdentifierRule);
  }
  MutexLock change(schema_change_mu_);
  std::string payload;
  {
    ReaderLock lk(state_mu_);
    if (cohorts_->find(s.name) != nullptr || cohorts_->find_family(s.name) != nullptr) {
      return Status::AlreadyExists(
          Subsystem::kQuery, "a cohort or cohort family " + s.name + " exists already", "name");
    }
    const AttributeDefinition* def = schema_.find_attribute(EntityKind::kUser, s.by);
    if (def == nullptr) {
      std::string known;
      for (const AttributeDefinition& a : schema_.attributes(EntityKind::kUser)) {
        if (a.filterable && (a.type == AttributeType::kKeyword || a.type == AttributeType::kInt)) {
          known += (known.empty() ? "" : ", ") + a.name;
        }
      }
      return Status::Invalid(Subsystem::kQuery, "by", s.by,
                             "is not a user attribute (keyword and int ones that are filterable: " +
                                 (known.empty() ? "none" : known) + ")");
    }
    if (!def->filterable) {
      return Status::Invalid(
          Subsystem::kQuery, "by", s.by,
          "is not filterable; a family's cohorts are defined by filters over it");
    }
    if (def->type == AttributeType::kKeyword && !s.buckets.empty()) {
      return Status::Invalid(Subsystem::kQuery, "buckets", s.by,
                             "BUCKETS are for int attributes; a keyword attribute gets one cohort "
                             "per value");
    }
    if (def->type == AttributeType::kInt && s.buckets.empty()) {
      return Status::Invalid(Subsystem::kQuery, "buckets", s.by,
                             "an int attribute needs BUCKETS (b1, b2, ...): increasing bounds");
    }
    if (def->type != AttributeType::kKeyword && def->type != AttributeType::kInt) {
      return Status::Invalid(Subsystem::kQuery, "by", s.by,
                             "is not a keyword or int attribute; a family takes one of those");
    }
    payload = cohorts::encode_cohort_record({.op = cohorts::CohortRecord::Op::kCreateFamily,
                                             .name = s.name,
                                             .predicate = {},
                                             .attribute = s.by,
                                             .buckets = s.buckets});
  }
  TIDAL_ASSIGN_OR_RETURN(uint64_t sequence,
                         commit_one(wal::RecordType::kCohortDefinition, payload));
  size_t made = 0;
  {
    ReaderLock lk(state_mu_);
    for (const cohorts::Cohort* c : cohorts_->all()) made += c->family == s.name;
  }
  *message = "cohort family " + s.name + " created with " + std::to_string(made) +
             (made == 1 ? " cohort" : " cohorts") + " (" + s.name +
             ":<value>; a new value gets its cohort when a user first has it) (WAL sequence " +
             std::to_string(sequence) + ")";
  wake_backfill();
  return sequence;
}

CohortInfo Database::Impl::cohort_info(const cohorts::Cohort& c) const {
  CohortInfo info;
  info.name = c.name;
  info.family = c.family;
  info.predicate = c.predicate;
  info.members = c.members.cardinality();
  info.defined_at = c.defined_at;
  info.backfilling = !c.backfill.done;
  info.backfill_progress =
      c.backfill.done || c.backfill.until == 0
          ? 1.0
          : static_cast<double>(c.backfill.cursor) / static_cast<double>(c.backfill.until);
  info.backfill_events_read = c.backfill.events_read;
  info.backfill_events_counted = c.backfill.events_counted;
  info.active_states = c.ledgers->active_states();
  info.memory_bytes = c.ledgers->warm_bytes() + c.ledgers->hot_bytes() + c.members.getSizeInBytes();
  return info;
}

std::vector<CohortInfo> Database::Impl::cohorts() const {
  ReaderLock lk(state_mu_);
  std::vector<CohortInfo> out;
  for (const cohorts::Cohort* c : cohorts_->all()) out.push_back(cohort_info(*c));
  return out;
}

Result<CohortInfo> Database::Impl::cohort(std::string_view name) const {
  ReaderLock lk(state_mu_);
  const cohorts::Cohort* c = cohorts_->find(name);
  if (c == nullptr) {
    return Status::NotFound(Subsystem::kQuery, "no cohort " + std::string(name), "name");
  }
  return cohort_info(*c);
}

Result<std::vector<std::string>> Database::Impl::user_cohorts(std::string_view user) const {
  ReaderLock lk(state_mu_);
  TIDAL_ASSIGN_OR_RETURN(uint32_t index, live_index(EntityKind::kUser, user));
  return cohorts_->cohorts_of(index);
}

Status Database::Impl::wait_for_backfills(
    std::chrono::milliseconds timeout,
    const std::function<void(const std::vector<CohortInfo>&)>& progress) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::vector<CohortInfo> pending;
    for (CohortInfo& c : cohorts()) {
      if (c.backfilling) pending.push_back(std::move(c));
    }
    if (pending.empty()) return Status::Ok();
    if (progress) progress(pending);
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string names;
      for (const CohortInfo& c : pending) {
        names += (names.empty() ? "" : ", ") + c.name + " (" +
                 std::to_string(static_cast<int>(c.backfill_progress * 100)) + "%)";
      }
      Status failure;
      {
        MutexLock lk(backfill_mu_);
        failure = backfill_failure_;
      }
      return Status::Unavailable(
          Subsystem::kStorage,
          "cohorts still backfilling: " + names +
              (failure.ok() ? "" : "; the last cold-tier read failed: " + failure.to_string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Database::Impl::wake_backfill() {
  {
    MutexLock lk(backfill_mu_);
    backfill_wake_ = true;
  }
  backfill_cv_.notify_all();
}

void Database::Impl::stop_backfill() {
  backfill_stopping_.store(true);
  {
    MutexLock lk(backfill_mu_);
    backfill_stop_ = true;
  }
  backfill_cv_.notify_all();
  if (backfill_thread_.joinable()) backfill_thread_.join();
}

void Database::Impl::backfill_loop() {
  constexpr auto kRetryInterval = std::chrono::seconds(1);
  while (!backfill_stopping_.load()) {
    std::vector<uint32_t> ids;
    uint64_t until = 0, cursor = UINT64_MAX;
    {
      ReaderLock lk(state_mu_);
      for (const cohorts::Cohort* c : cohorts_->pending_backfills()) {
        ids.push_back(c->id);
        until = std::max(until, c->backfill.until);
        cursor = std::min(cursor, c->backfill.cursor);
      }
    }
    const bool work = !ids.empty();
    Status st = Status::Ok();
    if (work) st = backfill(ids, until, cursor);
    {
      MutexLock lk(backfill_mu_);
      if (!st.ok() && st.code() != StatusCode::kAborted) backfill_failure_ = st;
      if (st.ok()) backfill_failure_ = Status::Ok();
      if (work && st.ok()) continue;  // cohorts defined meanwhile, if any
      if (backfill_stop_) return;
      if (!backfill_wake_) lk.wait_for(backfill_cv_, kRetryInterval);
      backfill_wake_ = false;
    }
  }
}

Status Database::Impl::backfill(const std::vector<uint32_t>& ids, uint64_t until, uint64_t cursor) {
  // Every event below `until` must be in storage, not in the event store's
  // partial block: hand it over (a short hold of the lock, once per cohort).
  {
    WriterLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(events_->drain());
  }
  // The members' key hashes, when they are few enough to be worth it.
  std::optional<MemberKeyFilter> filter;
  {
    ReaderLock lk(state_mu_);
    entities::Bitmap members;
    for (const cohorts::Cohort* c : cohorts_->pending_backfills()) {
      if (std::find(ids.begin(), ids.end(), c->id) != ids.end()) members |= c->backfill_members;
    }
    const KeyMap& users = key_map(EntityKind::kUser);
    if (MemberKeyFilter::worth_it(members.cardinality(), users.size())) {
      filter.emplace(members.cardinality());
      for (uint32_t u : members) filter->insert(users.key_of(u));
    }
  }
  struct Pending {
    uint64_t sequence;
    uint32_t item;
    uint16_t signal;
    std::string user;
    int64_t time_us;
    double value;
  };
  std::vector<Pending> pending;
  std::vector<cohorts::BackfillEvent> batch;
  pending.reserve(kBackfillBatch);
  batch.reserve(kBackfillBatch);
  uint64_t read = 0;  // cold-tier events read since the last flush
  auto flush = [&](uint64_t next_cursor, bool done) {
    WriterLock lk(state_mu_);
    batch.clear();
    const KeyMap& users = key_map(EntityKind::kUser);
    for (const Pending& p : pending) {
      if (p.user.empty()) continue;
      std::optional<uint32_t> u = users.find(p.user);
      if (!u) continue;
      // A deleted item left every cohort's ledgers; its events do not
      // come back.
      if (!known_items_.contains(p.item)) continue;
      batch.push_back({p.sequence, p.item, p.signal, *u, p.time_us, p.value});
    }
    for (uint32_t id : ids) cohorts_->apply_backfill(id, batch, next_cursor, read, done);
    pending.clear();
    read = 0;
  };
  Status st =
      events_->scan_stored(cursor, until, [&](const signals::EventStore::StoredEvent& e) -> Status {
        ++read;
        if (!e.user.empty() && (!filter || filter->may_contain(e.user))) {
          pending.push_back({e.sequence, e.item, e.signal, e.user, e.time_us, e.value});
        }
        if (read >= kBackfillBatch) {
          flush(e.sequence + 1, false);
          if (backfill_stopping_.load()) {
            return Status::Aborted(Subsystem::kStorage, "backfill stopped: closing");
          }
        }
        return Status::Ok();
      });
  TIDAL_RETURN_IF_ERROR(st);
  flush(until, true);
  return Status::Ok();
}

}  // namespace tidal
