// The write-ahead log's on-disk format, shared by the writer and the reader.
// docs/formats/wal.md describes the same layout for people.
//
// A WAL is a folder of segment files named <first sequence number, 20 digits>.wal.
// Each segment starts with a 48-byte header, then holds frames back to back:
//
//   segment header                    frame
//   +0  magic "TIDALWAL"   8 bytes    +0  body length       u32 LE
//   +8  format version     u32 LE     +4  checksum          u64 LE  (BLAKE3 of the
//   +12 header length      u32 LE                                    length bytes + body,
//   +16 database id        16 bytes                                  first 8 bytes)
//   +32 first sequence     u64 LE     +12 body:
//   +40 checksum           u64 LE         type            u8
//       (BLAKE3 of bytes 0..40)           flags           u8   (bit 0: has dedup key)
//                                         sequence        u64 LE
//                                         timestamp (us)  i64 LE
//                                         [dedup key      16 bytes, if flags bit 0]
//                                         payload         the rest of the body
//
// Sequence numbers start at 1 and increase by exactly one from frame to frame,
// across segments.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal::wal {

inline constexpr char kSegmentMagic[8] = {'T', 'I', 'D', 'A', 'L', 'W', 'A', 'L'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 48;
inline constexpr size_t kFrameHeaderSize = 12;  // length + checksum
inline constexpr size_t kBodyFixedSize = 18;    // type + flags + sequence + timestamp
inline constexpr size_t kDedupKeySize = 16;
inline constexpr uint8_t kFlagHasDedupKey = 0x01;
inline constexpr uint8_t kKnownFlags = kFlagHasDedupKey;
// The file in the WAL folder that records the checkpoint sequence.
inline constexpr const char* kCheckpointFileName = "CHECKPOINT";

using DatabaseId = std::array<uint8_t, 16>;
using DedupKey = Hash128;

// What a record holds. The WAL stores payloads opaquely; the type tells the
// materializers how to read them. Stable: values are part of the format. A
// reader that meets a type it does not know refuses to go on (the WAL was
// written by a newer version) rather than skipping data it cannot apply.
enum class RecordType : uint8_t {
  kSignalEvent = 1,
  kEntityUpsert = 2,
  kEntityPatch = 3,
  kEntityDelete = 4,
  kRelationship = 5,
  kSchemaChange = 6,
  kCohortDefinition = 7,
  kProfileDefinition = 8,
  kPresent = 9,      // the database's present: live or historical (docs/time.md)
  kFeedServed = 10,  // what a feed served a user (docs/feeds.md, users/user_state.h)
  kCustom = 200,     // reserved for tests and tools; never applied by the database
};

bool is_known_record_type(uint8_t type);
std::string_view record_type_name(RecordType t);

// One record as it travels through the WAL.
struct Record {
  RecordType type = RecordType::kCustom;
  uint64_t sequence = 0;
  Timestamp timestamp;
  std::optional<DedupKey> dedup_key;
  std::string payload;

  bool operator==(const Record&) const = default;
};

struct SegmentHeader {
  uint32_t format_version = kFormatVersion;
  DatabaseId database_id{};
  uint64_t first_sequence = 1;
};

std::string encode_segment_header(const SegmentHeader& h);

// Checks magic, checksum and version; `path` names the file in errors.
Result<SegmentHeader> decode_segment_header(std::string_view bytes, const std::string& path);

// "00000000000000000001.wal" for first sequence 1.
std::string segment_file_name(uint64_t first_sequence);
// The first sequence named by a segment file name, or nullopt when the name
// is not a segment's.
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

// The encoded size of a frame with this payload.
size_t frame_size(size_t payload_size, bool has_dedup_key);

// Appends one frame to `dst`.
void append_frame(std::string* dst, RecordType type, uint64_t sequence, Timestamp timestamp,
                  const DedupKey* dedup_key, std::string_view payload);

// What decode_frame found at an offset.
enum class FrameStatus : uint8_t {
  kOk,
  kTruncated,    // fewer bytes than the frame needs: a torn write, if at the end
  kBadLength,    // the length field is impossible (0 or above the limit)
  kBadChecksum,  // the bytes are not what was written
  kBadFlags,     // checksum fine, but flags this version does not know
  kUnknownType,  // checksum fine, but a record type this version does not know
};

struct DecodedFrame {
  FrameStatus status = FrameStatus::kOk;
  size_t size = 0;  // bytes the frame occupies (valid when status is kOk)
  uint8_t raw_type = 0;
  uint64_t sequence = 0;
  Timestamp timestamp;
  bool has_dedup_key = false;
  DedupKey dedup_key{};
  std::string_view payload;  // points into the input
};

// Decodes the frame at the start of `in`. `max_body` bounds the length field.
DecodedFrame decode_frame(std::string_view in, size_t max_body);

std::string_view frame_status_name(FrameStatus s);

}  // namespace tidal::wal
