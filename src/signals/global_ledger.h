// GlobalLedger: the materializer that keeps one SignalLedger per signal type
// for all items (docs/signals.md), and checkpoints what changed.
//
// Layout: docs/formats/storage.md#ledger-checkpoint
//
// Only items changed since the last checkpoint are written; an item whose
// state is gone is deleted. A stored score is relative to the stored
// landmark, so a rebase (the landmark moves and every score is rescaled, some
// to zero) marks every rescaled item changed: the next checkpoint writes them
// all in the same batch as the new landmark, and a restart answers exactly
// what the uninterrupted run would.
#pragma once

#include <memory>
#include <vector>

#include "apply/materializer.h"
#include "core/dirty_list.h"
#include "signals/signal_ledger.h"
#include "tidal/schema.h"

namespace tidal::signals {

class GlobalLedger final : public apply::Materializer {
 public:
  // `future_slack_us`: how far ahead of the present event times may be (see
  // BucketPlan::for_signal).
  GlobalLedger(const Schema& schema, size_t trending_capacity, int64_t future_slack_us = 0);

  std::string_view name() const override { return "global_signal_ledger"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kGlobal; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch* batch) override;
  void end_checkpoint(bool durable) override;
  Status restore(StorageEngine& engine) override;

  SignalLedger& ledger(uint16_t signal) { return *ledgers_[signal]; }
  const SignalLedger& ledger(uint16_t signal) const { return *ledgers_[signal]; }
  size_t signal_count() const { return ledgers_.size(); }

  // See SignalLedger::set_bulk_load (exclusive lock held).
  void set_bulk_load(bool on) {
    bulk_load_ = on;
    for (auto& l : ledgers_) l->set_bulk_load(on);
  }

  // Frees quiet warm states (exclusive lock held).
  void sweep(int64_t now_us);

  uint64_t active_states() const;
  uint64_t warm_bytes() const;
  uint64_t hot_bytes() const;

 private:
  // Adds a ledger for each signal type of `schema` beyond those it has.
  void add_signals(const Schema& schema);

  size_t trending_capacity_;
  int64_t future_slack_us_;
  bool bulk_load_ = false;
  std::vector<std::unique_ptr<SignalLedger>> ledgers_;
  std::vector<DirtyList> dirty_;  // per signal type
};

}  // namespace tidal::signals
