// SegmentScanner: walks the frames of one segment file held in memory and
// classifies whatever stops it. Recovery and replay share it, so the rules
// for "torn tail", "corruption" and "salvage" live in one place.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "wal/wal_format.h"

namespace tidal::wal {

// A frame that was read intact.
struct FrameView {
  RecordType type;
  uint64_t sequence;
  Timestamp timestamp;
  const DedupKey* dedup_key;  // null when the frame has none
  std::string_view payload;
  uint64_t offset;  // where the frame starts in its segment
};

// Where and why a scan stopped before the end of the segment.
struct ScanProblem {
  uint64_t offset = 0;  // first byte that could not be read as a frame
  FrameStatus status = FrameStatus::kOk;
  // The next offset after `offset` where an intact frame starts, or 0 when no
  // intact frame follows (then everything from `offset` on is unreadable).
  uint64_t next_valid_offset = 0;
};

struct ScanResult {
  uint64_t end_offset = 0;  // offset just past the last intact frame read
  bool stopped = false;     // true when `problem` describes why the scan stopped
  ScanProblem problem;
};

// Calls `visit` for every intact frame from `start` (an offset into `segment`,
// usually kSegmentHeaderSize) until the end or the first frame that is not
// intact. Stops early with `visit`'s Status if it returns non-OK. A frame with
// an unknown record type or unknown flags also stops the scan (its checksum
// is fine, so it is not corruption: a newer version wrote it).
Result<ScanResult> scan_segment(std::string_view segment, uint64_t start, size_t max_body,
                                const std::function<Status(const FrameView&)>& visit);

// The first offset in (from, end) where an intact frame with a known type
// starts, or 0. Used to tell a torn tail (nothing intact follows) from damage
// in the middle, and by salvage to skip a damaged range.
uint64_t find_next_valid_frame(std::string_view segment, uint64_t from, size_t max_body);

}  // namespace tidal::wal
