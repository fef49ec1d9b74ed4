// DirtyList: the dense indexes whose state changed since the last checkpoint,
// each listed once, and the indexes a checkpoint in progress is writing.
//
// A materializer marks an index when apply() changes it. checkpoint() takes
// the list (begin_checkpoint) and writes those indexes into the checkpoint's
// batch. The batch may still fail to reach storage (a full disk, a failed
// sync): end_checkpoint(false) then puts the taken indexes back, so the next
// checkpoint writes them again — a checkpoint that claims a sequence number
// must hold every change up to it, never only the changes since an attempt
// that failed. end_checkpoint(true) forgets them.
//
// Not synchronized: the owner's lock guards it (the database's state lock).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tidal {

class DirtyList {
 public:
  void mark(uint32_t index) {
    if (index >= flags_.size()) flags_.resize(std::max<size_t>(index + 1, flags_.size() * 2));
    if (flags_[index]) return;
    flags_[index] = true;
    list_.push_back(index);
  }

  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }

  // The indexes marked since the last begin_checkpoint(), in marking order;
  // the list starts empty again. They stay "in flight" until end_checkpoint().
  const std::vector<uint32_t>& begin_checkpoint() {
    for (uint32_t index : list_) flags_[index] = false;
    in_flight_.insert(in_flight_.end(), list_.begin(), list_.end());
    list_.clear();
    return in_flight_;
  }

  // `durable`: the checkpoint's batch reached storage. When it did not, the
  // in-flight indexes are marked again.
  void end_checkpoint(bool durable) {
    if (!durable) {
      for (uint32_t index : in_flight_) mark(index);
    }
    in_flight_.clear();
  }

  // Forgets everything (a restore that reloads all state).
  void clear() {
    list_.clear();
    in_flight_.clear();
    flags_.clear();
  }

 private:
  std::vector<uint32_t> list_;
  std::vector<uint32_t> in_flight_;
  std::vector<bool> flags_;
};

}  // namespace tidal
