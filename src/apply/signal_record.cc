#include "apply/signal_record.h"

#include "core/coding.h"

namespace tidal::apply {

namespace {
constexpr uint8_t kFormat = 1;
}

void encode_signal_record(const SignalRecord& r, std::string* out) {
  out->push_back(static_cast<char>(kFormat));
  put_varint64(out, r.signal);
  put_length_prefixed(out, r.item);
  put_length_prefixed(out, r.user);
  put_varsint64(out, r.time_us);
  put_double_le(out, r.value);
}

bool decode_signal_record(std::string_view payload, SignalRecord* out) {
  ByteReader rd(payload);
  uint8_t format;
  uint64_t signal;
  if (!rd.read_u8(&format) || format != kFormat || !rd.read_varint64(&signal) ||
      signal > UINT16_MAX || !rd.read_length_prefixed(&out->item) ||
      !rd.read_length_prefixed(&out->user) || !rd.read_varsint64(&out->time_us) ||
      !rd.read_double_le(&out->value) || !rd.empty()) {
    return false;
  }
  out->signal = static_cast<uint16_t>(signal);
  return true;
}

}  // namespace tidal::apply
