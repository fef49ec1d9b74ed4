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
#include "signals/ledger_set.h"
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

  LedgerSet& ledgers() { return ledgers_; }
  const LedgerSet& ledgers() const { return ledgers_; }
  SignalLedger& ledger(uint16_t signal) { return ledgers_.ledger(signal); }
  const SignalLedger& ledger(uint16_t signal) const { return ledgers_.ledger(signal); }
  size_t signal_count() const { return ledgers_.signal_count(); }

  // See SignalLedger::set_bulk_load (exclusive lock held).
  void set_bulk_load(bool on) { ledgers_.set_bulk_load(on); }

  // Frees quiet warm states (exclusive lock held).
  void sweep(int64_t now_us);

  uint64_t active_states() const { return ledgers_.active_states(); }
  uint64_t warm_bytes() const { return ledgers_.warm_bytes(); }
  uint64_t hot_bytes() const { return ledgers_.hot_bytes(); }

 private:
  LedgerSet ledgers_;
  std::vector<DirtyList> dirty_;  // per signal type
};

}  // namespace tidal::signals
