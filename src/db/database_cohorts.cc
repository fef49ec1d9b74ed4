// Database::Impl: cohorts — definitions through the WAL, listings, and the
// backfill of a newly defined cohort from the cold tier (docs/cohorts.md).

#include "db/database_impl.h"
#include "query/filter.h"
#include "query/parser.h"
#include "query/printer.h"
#include "schema/identifiers.h"

namespace tidal {

namespace {

// Cold-tier events counted per hold of the state lock: small enough that a
// backfill never holds up reads and writes for long.
constexpr size_t kBackfillBatch = 16384;

}  // namespace

Result<uint64_t> Database::Impl::define_cohort(const query::Statement& s, std::string* message) {
  TIDAL_RETURN_IF_ERROR(query::validate(s));
  const bool create = s.kind == query::StatementKind::kCreateCohort;
  if (!is_identifier(s.name))
    return Status::Invalid(Subsystem::kQuery, "name", s.name, kIdentifierRule);
  // One definition at a time: each is checked against the cohorts in force.
  MutexLock change(schema_change_mu_);
  std::string payload;
  {
    ReaderLock lk(state_mu_);
    const cohorts::Cohort* existing = cohorts_->find(s.name);
    if (create) {
      if (existing != nullptr) {
        return Status::AlreadyExists(Subsystem::kQuery,
                                     "cohort " + s.name + " exists already (defined as " +
                                         existing->predicate + "); DROP COHORT " + s.name +
                                         " first to define it again",
                                     "name");
      }
      TIDAL_ASSIGN_OR_RETURN(Filter filter, query::to_filter(*s.where));
      if (Status st = entities_->check(EntityKind::kUser, filter); !st.ok()) {
        return Status(st.subsystem(), st.code(),
                      "the cohort's predicate is over user attributes: " + st.message(),
                      st.field().empty() ? "where" : "where." + st.field());
      }
      const std::string predicate = query::to_tql(*s.where);
      payload = cohorts::encode_cohort_record(
          {.op = cohorts::CohortRecord::Op::kCreate, .name = s.name, .predicate = predicate});
    } else {
      if (existing == nullptr) {
        return Status::NotFound(Subsystem::kQuery, "no cohort " + s.name, "name");
      }
      payload = cohorts::encode_cohort_record(
          {.op = cohorts::CohortRecord::Op::kDrop, .name = s.name, .predicate = {}});
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

CohortInfo Database::Impl::cohort_info(const cohorts::Cohort& c) const {
  CohortInfo info;
  info.name = c.name;
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
    uint32_t id = 0;
    uint64_t until = 0, cursor = 0;
    {
      ReaderLock lk(state_mu_);
      if (const cohorts::Cohort* c = cohorts_->next_backfill()) {
        id = c->id;
        until = c->backfill.until;
        cursor = c->backfill.cursor;
      }
    }
    Status st = Status::Ok();
    if (id != 0) st = backfill(id, until, cursor);
    {
      MutexLock lk(backfill_mu_);
      if (!st.ok() && st.code() != StatusCode::kAborted) backfill_failure_ = st;
      if (st.ok()) backfill_failure_ = Status::Ok();
      if (id != 0 && st.ok()) continue;  // the next cohort, if any
      if (backfill_stop_) return;
      if (!backfill_wake_) lk.wait_for(backfill_cv_, kRetryInterval);
      backfill_wake_ = false;
    }
  }
}

Status Database::Impl::backfill(uint32_t id, uint64_t until, uint64_t cursor) {
  // Every event below `until` must be in storage, not in the event store's
  // partial block: hand it over (a short hold of the lock, once per cohort).
  {
    WriterLock lk(state_mu_);
    TIDAL_RETURN_IF_ERROR(events_->drain());
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
    cohorts_->apply_backfill(id, batch, next_cursor, pending.size(), done);
    pending.clear();
  };
  Status st =
      events_->scan_stored(cursor, until, [&](const signals::EventStore::StoredEvent& e) -> Status {
        pending.push_back({e.sequence, e.item, e.signal, e.user, e.time_us, e.value});
        if (pending.size() >= kBackfillBatch) {
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
