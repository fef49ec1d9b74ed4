#include "wal/wal_format.h"

#include <cstdio>
#include <cstring>

#include "core/coding.h"

namespace tidal::wal {

bool is_known_record_type(uint8_t type) {
  return (type >= static_cast<uint8_t>(RecordType::kSignalEvent) &&
          type <= static_cast<uint8_t>(RecordType::kFeedServed)) ||
         type == static_cast<uint8_t>(RecordType::kCustom);
}

std::string_view record_type_name(RecordType t) {
  switch (t) {
    case RecordType::kSignalEvent: return "signal_event";
    case RecordType::kEntityUpsert: return "entity_upsert";
    case RecordType::kEntityPatch: return "entity_patch";
    case RecordType::kEntityDelete: return "entity_delete";
    case RecordType::kRelationship: return "relationship";
    case RecordType::kSchemaChange: return "schema_change";
    case RecordType::kCohortDefinition: return "cohort_definition";
    case RecordType::kProfileDefinition: return "profile_definition";
    case RecordType::kPresent: return "present";
    case RecordType::kFeedServed: return "feed_served";
    case RecordType::kCustom: return "custom";
  }
  return "unknown";
}

std::string encode_segment_header(const SegmentHeader& h) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  put_fixed32_le(&out, h.format_version);
  put_fixed32_le(&out, static_cast<uint32_t>(kSegmentHeaderSize));
  out.append(reinterpret_cast<const char*>(h.database_id.data()), h.database_id.size());
  put_fixed64_le(&out, h.first_sequence);
  put_fixed64_le(&out, blake3_64(out));
  return out;
}

Result<SegmentHeader> decode_segment_header(std::string_view bytes, const std::string& path) {
  if (bytes.size() < kSegmentHeaderSize) {
    return Status::Corruption(
        Subsystem::kWal,
        "segment " + path + ": header is " + std::to_string(bytes.size()) + " bytes, expected 48");
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return Status::Corruption(Subsystem::kWal,
                              "segment " + path + ": not a tidalDB WAL segment (bad magic)");
  }
  uint64_t stored = decode_fixed64_le(bytes.data() + 40);
  if (stored != blake3_64(bytes.substr(0, 40))) {
    return Status::Corruption(Subsystem::kWal, "segment " + path + ": header checksum mismatch");
  }
  SegmentHeader h;
  h.format_version = decode_fixed32_le(bytes.data() + 8);
  if (h.format_version > kFormatVersion) {
    return Status::NotSupported(Subsystem::kWal, "segment " + path + " has WAL format version " +
                                                     std::to_string(h.format_version) +
                                                     ", newer than this build supports (" +
                                                     std::to_string(kFormatVersion) + ")");
  }
  std::memcpy(h.database_id.data(), bytes.data() + 16, h.database_id.size());
  h.first_sequence = decode_fixed64_le(bytes.data() + 32);
  return h;
}

std::string segment_file_name(uint64_t first_sequence) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu.wal", static_cast<unsigned long long>(first_sequence));
  return buf;
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".wal")) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return std::nullopt;  // overflow
    v = next;
  }
  return v;
}

size_t frame_size(size_t payload_size, bool has_dedup_key) {
  return kFrameHeaderSize + kBodyFixedSize + (has_dedup_key ? kDedupKeySize : 0) + payload_size;
}

void append_frame(std::string* dst, RecordType type, uint64_t sequence, Timestamp timestamp,
                  const DedupKey* dedup_key, std::string_view payload) {
  size_t body = kBodyFixedSize + (dedup_key ? kDedupKeySize : 0) + payload.size();
  size_t start = dst->size();
  dst->resize(start + kFrameHeaderSize + kBodyFixedSize);
  char* p = dst->data() + start;
  encode_fixed32_le(p, static_cast<uint32_t>(body));
  // p + 4: checksum, filled in below once the body is complete.
  p[12] = static_cast<char>(type);
  p[13] = static_cast<char>(dedup_key ? kFlagHasDedupKey : 0);
  encode_fixed64_le(p + 14, sequence);
  encode_fixed64_le(p + 22, static_cast<uint64_t>(to_micros(timestamp)));
  if (dedup_key) dst->append(reinterpret_cast<const char*>(dedup_key->data()), kDedupKeySize);
  dst->append(payload.data(), payload.size());
  p = dst->data() + start;
  std::string_view length_bytes(p, 4);
  std::string_view body_bytes(p + kFrameHeaderSize, body);
  encode_fixed64_le(p + 4, blake3_64(length_bytes, body_bytes));
}

DecodedFrame decode_frame(std::string_view in, size_t max_body) {
  DecodedFrame f;
  if (in.size() < kFrameHeaderSize) {
    f.status = FrameStatus::kTruncated;
    return f;
  }
  uint32_t body = decode_fixed32_le(in.data());
  if (body < kBodyFixedSize || body > max_body) {
    f.status = FrameStatus::kBadLength;
    return f;
  }
  if (in.size() < kFrameHeaderSize + body) {
    f.status = FrameStatus::kTruncated;
    return f;
  }
  uint64_t stored = decode_fixed64_le(in.data() + 4);
  std::string_view body_bytes = in.substr(kFrameHeaderSize, body);
  if (stored != blake3_64(in.substr(0, 4), body_bytes)) {
    f.status = FrameStatus::kBadChecksum;
    return f;
  }
  f.raw_type = static_cast<uint8_t>(body_bytes[0]);
  auto flags = static_cast<uint8_t>(body_bytes[1]);
  f.sequence = decode_fixed64_le(body_bytes.data() + 2);
  f.timestamp = from_micros(static_cast<int64_t>(decode_fixed64_le(body_bytes.data() + 10)));
  f.size = kFrameHeaderSize + body;
  if ((flags & ~kKnownFlags) != 0) {
    f.status = FrameStatus::kBadFlags;
    return f;
  }
  size_t pos = kBodyFixedSize;
  if (flags & kFlagHasDedupKey) {
    if (body < kBodyFixedSize + kDedupKeySize) {
      f.status = FrameStatus::kBadLength;
      return f;
    }
    f.has_dedup_key = true;
    std::memcpy(f.dedup_key.data(), body_bytes.data() + pos, kDedupKeySize);
    pos += kDedupKeySize;
  }
  f.payload = body_bytes.substr(pos);
  if (!is_known_record_type(f.raw_type)) {
    f.status = FrameStatus::kUnknownType;
    return f;
  }
  return f;
}

std::string_view frame_status_name(FrameStatus s) {
  switch (s) {
    case FrameStatus::kOk: return "ok";
    case FrameStatus::kTruncated: return "truncated frame";
    case FrameStatus::kBadLength: return "impossible frame length";
    case FrameStatus::kBadChecksum: return "checksum mismatch";
    case FrameStatus::kBadFlags: return "unknown frame flags";
    case FrameStatus::kUnknownType: return "unknown record type";
  }
  return "unknown";
}

}  // namespace tidal::wal
