// Payloads of the WAL records the signal engine writes and applies.
//
// Signal event (RecordType::kSignalEvent):
//   u8 format (1) | varint signal id | bytes item key | bytes user key |
//   varsint event time (us) | f64 LE value          (bytes = varint length + data)
// Entity and relationship records: apply/entity_record.h.
// Decoders return false for anything malformed; replay treats that as corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tidal/types.h"

namespace tidal::apply {

struct SignalRecord {
  uint16_t signal = 0;
  std::string_view item;
  std::string_view user;
  int64_t time_us = 0;
  double value = 1.0;
};

void encode_signal_record(const SignalRecord& r, std::string* out);
bool decode_signal_record(std::string_view payload, SignalRecord* out);

}  // namespace tidal::apply
