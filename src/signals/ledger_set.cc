#include "signals/ledger_set.h"

namespace tidal::signals {

LedgerSet::LedgerSet(const Schema& schema, size_t trending_capacity, int64_t future_slack_us,
                     Keying keying)
    : trending_capacity_(trending_capacity), future_slack_us_(future_slack_us), keying_(keying) {
  add_signals(schema);
}

void LedgerSet::add_signals(const Schema& schema) {
  for (size_t s = ledgers_.size(); s < schema.signals().size(); ++s) {
    ledgers_.push_back(std::make_unique<SignalLedger>(schema.signals()[s], trending_capacity_,
                                                      future_slack_us_, keying_));
    ledgers_.back()->set_bulk_load(bulk_load_);
  }
}

void LedgerSet::set_bulk_load(bool on) {
  bulk_load_ = on;
  for (auto& l : ledgers_) l->set_bulk_load(on);
}

uint64_t LedgerSet::active_states() const {
  uint64_t n = 0;
  for (const auto& l : ledgers_) n += l->active_states();
  return n;
}

uint64_t LedgerSet::warm_bytes() const {
  uint64_t n = 0;
  for (const auto& l : ledgers_) n += l->warm_bytes();
  return n;
}

uint64_t LedgerSet::hot_bytes() const {
  uint64_t n = 0;
  for (const auto& l : ledgers_) n += l->hot_bytes();
  return n;
}

}  // namespace tidal::signals
