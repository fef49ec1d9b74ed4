#include "wal/wal_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/coding.h"

namespace tidal::wal {
namespace {

using ::testing::HasSubstr;

constexpr size_t kMaxBody = 1u << 24;

DedupKey sample_key() {
  DedupKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 17 + 3);
  return k;
}

void expect_round_trip(RecordType type, uint64_t seq, int64_t ts_us, const DedupKey* key,
                       const std::string& payload) {
  std::string buf = "prefix";  // append_frame appends; the frame starts after this
  append_frame(&buf, type, seq, from_micros(ts_us), key, payload);
  std::string_view frame = std::string_view(buf).substr(6);
  ASSERT_EQ(frame.size(), frame_size(payload.size(), key != nullptr));
  DecodedFrame f = decode_frame(frame, kMaxBody);
  ASSERT_EQ(f.status, FrameStatus::kOk) << frame_status_name(f.status);
  EXPECT_EQ(f.size, frame.size());
  EXPECT_EQ(f.raw_type, static_cast<uint8_t>(type));
  EXPECT_EQ(f.sequence, seq);
  EXPECT_EQ(to_micros(f.timestamp), ts_us);
  EXPECT_EQ(f.has_dedup_key, key != nullptr);
  if (key) {
    EXPECT_EQ(f.dedup_key, *key);
  }
  EXPECT_EQ(f.payload, payload);
}

TEST(WalFormatTest, FrameRoundTripWithoutDedupKey) {
  expect_round_trip(RecordType::kSignalEvent, 1, 1'700'000'000'000'000, nullptr, "hello");
}

TEST(WalFormatTest, FrameRoundTripWithDedupKey) {
  DedupKey k = sample_key();
  expect_round_trip(RecordType::kEntityUpsert, 42, -5, &k, "payload bytes");
}

TEST(WalFormatTest, FrameRoundTripEmptyPayload) {
  DedupKey k = sample_key();
  expect_round_trip(RecordType::kCustom, UINT64_MAX, 0, nullptr, "");
  expect_round_trip(RecordType::kCustom, 7, 0, &k, "");
}

TEST(WalFormatTest, FrameRoundTripLargePayload) {
  std::string big(3u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  DedupKey k = sample_key();
  expect_round_trip(RecordType::kSchemaChange, 9, 123, &k, big);
}

TEST(WalFormatTest, FrameLayoutMatchesTheDocumentedOffsets) {
  DedupKey k = sample_key();
  std::string buf;
  append_frame(&buf, RecordType::kRelationship, 0x0102030405060708, from_micros(99), &k, "xy");
  EXPECT_EQ(decode_fixed32_le(buf.data()), kBodyFixedSize + kDedupKeySize + 2);
  EXPECT_EQ(static_cast<uint8_t>(buf[12]), 5);
  EXPECT_EQ(static_cast<uint8_t>(buf[13]), kFlagHasDedupKey);
  EXPECT_EQ(decode_fixed64_le(buf.data() + 14), 0x0102030405060708u);
  EXPECT_EQ(decode_fixed64_le(buf.data() + 22), 99u);
  EXPECT_EQ(buf.substr(buf.size() - 2), "xy");
}

TEST(WalFormatTest, DecodeReportsTruncationAtEveryShortLength) {
  std::string buf;
  append_frame(&buf, RecordType::kSignalEvent, 1, from_micros(1), nullptr, "abcdef");
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_EQ(decode_frame(std::string_view(buf).substr(0, n), kMaxBody).status,
              FrameStatus::kTruncated)
        << "length " << n;
  }
}

TEST(WalFormatTest, DecodeRejectsImpossibleLengths) {
  std::string buf;
  append_frame(&buf, RecordType::kSignalEvent, 1, from_micros(1), nullptr, "abcdef");
  std::string zero = buf;
  encode_fixed32_le(zero.data(), 0);
  EXPECT_EQ(decode_frame(zero, kMaxBody).status, FrameStatus::kBadLength);
  // A body above the limit is refused before anything is read.
  EXPECT_EQ(decode_frame(buf, kBodyFixedSize + 5).status, FrameStatus::kBadLength);
}

TEST(WalFormatTest, DecodeDetectsEveryFlippedBit) {
  DedupKey k = sample_key();
  std::string buf;
  append_frame(&buf, RecordType::kSignalEvent, 3, from_micros(77), &k, "some payload");
  for (size_t byte = 0; byte < buf.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = buf;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      FrameStatus s = decode_frame(bad, kMaxBody).status;
      EXPECT_TRUE(s == FrameStatus::kBadChecksum || s == FrameStatus::kBadLength ||
                  s == FrameStatus::kTruncated)
          << "byte " << byte << " bit " << bit << ": " << frame_status_name(s);
    }
  }
}

// Re-seals a frame whose body was edited, so only the edit is "wrong".
void reseal(std::string* frame) {
  uint32_t body = decode_fixed32_le(frame->data());
  std::string_view v(*frame);
  encode_fixed64_le(frame->data() + 4, blake3_64(v.substr(0, 4), v.substr(kFrameHeaderSize, body)));
}

TEST(WalFormatTest, DecodeReportsUnknownTypeAndFlagsWithValidChecksum) {
  std::string buf;
  append_frame(&buf, RecordType::kSignalEvent, 3, from_micros(77), nullptr, "p");
  std::string unknown_type = buf;
  unknown_type[12] = static_cast<char>(99);
  reseal(&unknown_type);
  DecodedFrame f = decode_frame(unknown_type, kMaxBody);
  EXPECT_EQ(f.status, FrameStatus::kUnknownType);
  EXPECT_EQ(f.raw_type, 99);
  EXPECT_EQ(f.size, buf.size());

  std::string unknown_flags = buf;
  unknown_flags[13] = static_cast<char>(0x80);
  reseal(&unknown_flags);
  EXPECT_EQ(decode_frame(unknown_flags, kMaxBody).status, FrameStatus::kBadFlags);
}

TEST(WalFormatTest, KnownRecordTypes) {
  for (int t = 0; t < 256; ++t) {
    bool expected = (t >= 1 && t <= 10) || t == 200;
    EXPECT_EQ(is_known_record_type(static_cast<uint8_t>(t)), expected) << t;
  }
  EXPECT_EQ(record_type_name(RecordType::kSignalEvent), "signal_event");
  EXPECT_EQ(record_type_name(RecordType::kCustom), "custom");
  EXPECT_EQ(record_type_name(RecordType::kFeedServed), "feed_served");
}

SegmentHeader sample_header() {
  SegmentHeader h;
  h.database_id.fill(0xAB);
  h.first_sequence = 123456789;
  return h;
}

TEST(WalFormatTest, SegmentHeaderRoundTrip) {
  std::string bytes = encode_segment_header(sample_header());
  ASSERT_EQ(bytes.size(), kSegmentHeaderSize);
  EXPECT_EQ(bytes.substr(0, 8), "TIDALWAL");
  Result<SegmentHeader> h = decode_segment_header(bytes, "seg.wal");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(h->format_version, kFormatVersion);
  EXPECT_EQ(h->database_id, sample_header().database_id);
  EXPECT_EQ(h->first_sequence, 123456789u);
}

TEST(WalFormatTest, SegmentHeaderTooShort) {
  std::string bytes = encode_segment_header(sample_header());
  Result<SegmentHeader> h = decode_segment_header(bytes.substr(0, 47), "dir/seg.wal");
  EXPECT_EQ(h.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(h.status().message(), HasSubstr("dir/seg.wal"));
}

TEST(WalFormatTest, SegmentHeaderBadMagic) {
  std::string bytes = encode_segment_header(sample_header());
  bytes[0] = 'X';
  Result<SegmentHeader> h = decode_segment_header(bytes, "dir/seg.wal");
  EXPECT_EQ(h.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(h.status().message(), HasSubstr("bad magic"));
  EXPECT_THAT(h.status().message(), HasSubstr("dir/seg.wal"));
}

TEST(WalFormatTest, SegmentHeaderBadChecksum) {
  std::string bytes = encode_segment_header(sample_header());
  for (size_t i = 8; i < kSegmentHeaderSize; ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    Result<SegmentHeader> h = decode_segment_header(bad, "seg.wal");
    EXPECT_EQ(h.status().code(), StatusCode::kCorruption) << "byte " << i;
    EXPECT_THAT(h.status().message(), HasSubstr("checksum")) << "byte " << i;
  }
}

TEST(WalFormatTest, SegmentHeaderNewerVersionIsNotSupported) {
  SegmentHeader future = sample_header();
  future.format_version = kFormatVersion + 1;
  Result<SegmentHeader> h = decode_segment_header(encode_segment_header(future), "seg.wal");
  EXPECT_EQ(h.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(h.status().message(), HasSubstr("version 2"));
}

TEST(WalFormatTest, SegmentFileNames) {
  EXPECT_EQ(segment_file_name(1), "00000000000000000001.wal");
  EXPECT_EQ(segment_file_name(UINT64_MAX), "18446744073709551615.wal");
  EXPECT_EQ(parse_segment_file_name("00000000000000000001.wal"), 1u);
  EXPECT_EQ(parse_segment_file_name(segment_file_name(987654321)), 987654321u);
  EXPECT_EQ(parse_segment_file_name("18446744073709551615.wal"), UINT64_MAX);
  EXPECT_EQ(parse_segment_file_name("18446744073709551616.wal"), std::nullopt);  // overflow
  EXPECT_EQ(parse_segment_file_name("99999999999999999999.wal"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("0000000000000000001.wal"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("0000000000000000000a.wal"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("00000000000000000001.log"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("CHECKPOINT"), std::nullopt);
}

}  // namespace
}  // namespace tidal::wal
