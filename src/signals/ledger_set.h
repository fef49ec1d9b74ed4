// LedgerSet: one SignalLedger per signal type of the schema — the state a
// query's signal features read. The global ledger holds one over every item
// (dense); each cohort holds one over the items its users engaged with
// (sparse). A query FOR COHORT reads the cohort's set where it would read
// the global one, so every sort mode and profile works on either.
//
// Thread safety: that of SignalLedger (the owner's lock).
#pragma once

#include <memory>
#include <vector>

#include "signals/signal_ledger.h"
#include "tidal/schema.h"

namespace tidal::signals {

class LedgerSet {
 public:
  LedgerSet(const Schema& schema, size_t trending_capacity, int64_t future_slack_us, Keying keying);

  SignalLedger& ledger(uint16_t signal) { return *ledgers_[signal]; }
  const SignalLedger& ledger(uint16_t signal) const { return *ledgers_[signal]; }
  size_t signal_count() const { return ledgers_.size(); }
  Keying keying() const { return keying_; }

  // Adds a ledger for each signal type of `schema` beyond those it has.
  void add_signals(const Schema& schema);
  // See SignalLedger::set_bulk_load (exclusive lock held).
  void set_bulk_load(bool on);

  uint64_t active_states() const;
  uint64_t warm_bytes() const;
  uint64_t hot_bytes() const;

 private:
  size_t trending_capacity_;
  int64_t future_slack_us_;
  Keying keying_;
  bool bulk_load_ = false;
  std::vector<std::unique_ptr<SignalLedger>> ledgers_;
};

}  // namespace tidal::signals
