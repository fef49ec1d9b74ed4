#include "wal/segment_scanner.h"

namespace tidal::wal {

Result<ScanResult> scan_segment(std::string_view segment, uint64_t start, size_t max_body,
                                const std::function<Status(const FrameView&)>& visit) {
  ScanResult result;
  uint64_t off = start;
  while (off < segment.size()) {
    DecodedFrame f = decode_frame(segment.substr(off), max_body);
    if (f.status != FrameStatus::kOk) {
      result.stopped = true;
      result.problem.offset = off;
      result.problem.status = f.status;
      if (f.status != FrameStatus::kUnknownType && f.status != FrameStatus::kBadFlags) {
        result.problem.next_valid_offset = find_next_valid_frame(segment, off, max_body);
      }
      break;
    }
    FrameView v{static_cast<RecordType>(f.raw_type),      f.sequence, f.timestamp,
                f.has_dedup_key ? &f.dedup_key : nullptr, f.payload,  off};
    TIDAL_RETURN_IF_ERROR(visit(v));
    off += f.size;
  }
  result.end_offset = result.stopped ? result.problem.offset : off;
  return result;
}

uint64_t find_next_valid_frame(std::string_view segment, uint64_t from, size_t max_body) {
  for (uint64_t off = from + 1; off + kFrameHeaderSize + kBodyFixedSize <= segment.size(); ++off) {
    DecodedFrame f = decode_frame(segment.substr(off), max_body);
    if (f.status == FrameStatus::kOk) return off;
  }
  return 0;
}

}  // namespace tidal::wal
