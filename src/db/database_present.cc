// Database::Impl: the database's present (docs/time.md) — what it is, how
// it changes (kPresent records), and the sweeps that free windowed state at it.
#include <algorithm>

#include "core/time_text.h"
#include "db/database_impl.h"

namespace tidal {

void Database::Impl::set_present_state(const db::StoredPresent& p) {
  present_mode_.store(p.mode);
  pinned_us_.store(p.pinned_us.value_or(INT64_MIN));
  since_us_.store(p.since_us.value_or(INT64_MIN));
  newest_event_us_.store(p.newest_event_us);
  swept_at_us_.store(p.swept_at_us);
}

db::StoredPresent Database::Impl::present_state() const {
  db::StoredPresent s;
  s.mode = present_mode_.load(std::memory_order_relaxed);
  if (int64_t pinned = pinned_us_.load(std::memory_order_relaxed); pinned != INT64_MIN) {
    s.pinned_us = pinned;
  }
  if (int64_t since = since_us_.load(std::memory_order_relaxed); since != INT64_MIN) {
    s.since_us = since;
  }
  s.newest_event_us = newest_event_us_.load(std::memory_order_relaxed);
  s.swept_at_us = swept_at_us_.load(std::memory_order_relaxed);
  return s;
}

int64_t Database::Impl::floor_us() const {
  return db::floor_of(present_state());
}

int64_t Database::Impl::now_us() const {
  return to_micros(db::make_present(present_state(), to_micros(clock_->now())).now);
}

db::EventTimeRule Database::Impl::event_time_rule() const {
  db::EventTimeRule rule;
  rule.now_us = now_us();
  rule.historical = present_mode_.load(std::memory_order_relaxed) == PresentMode::kHistorical;
  rule.pinned = rule.historical && pinned_us_.load(std::memory_order_relaxed) != INT64_MIN;
  return rule;
}

Present Database::Impl::present() const {
  ReaderLock lk(state_mu_);
  return db::make_present(present_state(), to_micros(clock_->now()));
}

Result<uint64_t> Database::Impl::set_present(PresentMode mode, std::optional<Timestamp> pinned) {
  if (mode != PresentMode::kLive && mode != PresentMode::kHistorical) {
    return Status::Invalid(Subsystem::kCore, "mode", std::to_string(static_cast<int>(mode)),
                           "must be live or historical");
  }
  db::PresentRecord record{.mode = mode};
  {
    ReaderLock lk(state_mu_);
    const int64_t floor = floor_us();
    if (mode == PresentMode::kLive) {
      if (pinned) {
        return Status::Invalid(Subsystem::kCore, "at", format_timestamp(to_micros(*pinned)),
                               "only a historical present can be pinned to a time; a live "
                               "database's present is the clock");
      }
      const int64_t clock = to_micros(clock_->now());
      const int64_t newest = newest_event_us_.load();
      if (newest != INT64_MIN && newest > clock + options_.max_future_skew.count()) {
        return Status::FailedPrecondition(
            Subsystem::kCore, "the database cannot go live: its newest event (" +
                                  format_timestamp(newest) + ") is ahead of the clock (" +
                                  format_timestamp(clock) + ") by more than max_future_skew");
      }
    } else if (pinned) {
      record.pinned_us = to_micros(*pinned);
      if (floor != INT64_MIN && *record.pinned_us < floor) {
        return Status::Invalid(Subsystem::kCore, "at", format_timestamp(*record.pinned_us),
                               "must not be before " + format_timestamp(floor) +
                                   ", the newest event time applied (the state holds events "
                                   "up to then)");
      }
    } else if (floor != INT64_MIN) {
      record.since_us = floor;
    }
  }
  return commit_one(wal::RecordType::kPresent, db::encode_present_record(record));
}

void Database::Impl::sweep() {
  WriterLock state(state_mu_);
  // At the earliest time the present can become without a new event: live,
  // the clock; historical, the newest event time — or a pinned present before
  // it (events up to max_future_skew after a pin are taken), never one after
  // it, so that unpinning returns to the newest event time — and never after
  // the clock, so that going live (the present then the clock) keeps every
  // state a read at the clock needs.
  int64_t at = to_micros(clock_->now());
  if (present_mode_.load() == PresentMode::kHistorical) {
    const int64_t floor = floor_us();
    if (floor == INT64_MIN) return;
    at = std::min(at, floor);
    const int64_t pinned = pinned_us_.load();
    if (pinned != INT64_MIN) at = std::min(at, pinned);
  }
  ledger_->sweep(at);
  cohorts_->sweep(at);
  if (at > swept_at_us_.load()) swept_at_us_.store(at);
}

}  // namespace tidal
