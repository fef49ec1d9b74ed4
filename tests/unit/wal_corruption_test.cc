// Corruption and torn-write tests: damage a WAL on disk the way a failing disk
// or a crash would, and check that open() tells the two apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/coding.h"
#include "support/test_support.h"
#include "support/wal_testing.h"
#include "wal/wal.h"

namespace tidal::wal {
namespace {

using ::testing::HasSubstr;
using testing::micros;
using testing::replay_records;
using testing::segment_paths;
using testing::TempDir;
using testing::WarningLog;

constexpr int kRecords = 45;
constexpr size_t kPayload = 40;  // frames of 70 bytes, about 15 per 1 KiB segment

std::string payload_for(uint64_t seq) {
  std::string p = "record " + std::to_string(seq) + " ";
  p.resize(kPayload, static_cast<char>('a' + seq % 26));
  return p;
}

struct FrameSpan {
  uint64_t sequence;
  uint64_t offset;
  uint64_t size;
};

// Where each frame of a segment file starts.
std::vector<FrameSpan> frames_of(const std::string& path) {
  std::vector<FrameSpan> out;
  Result<std::string> data = read_file(path);
  EXPECT_TRUE(data.ok());
  uint64_t off = kSegmentHeaderSize;
  while (off < data->size()) {
    DecodedFrame f = decode_frame(std::string_view(*data).substr(off), 1 << 20);
    EXPECT_EQ(f.status, FrameStatus::kOk);
    if (f.status != FrameStatus::kOk) break;
    out.push_back({f.sequence, off, f.size});
    off += f.size;
  }
  return out;
}

// Replaces a file's contents (unsynced: these tests never lose power).
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

class WalCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // kBatch: each append waits for its write, so every record is its own
    // batch and segments roll at the configured size.
    WalOptions o = options();
    o.durability = Durability::kBatch;
    auto w = Wal::open(o);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    for (uint64_t i = 1; i <= kRecords; ++i) {
      std::string p = payload_for(i);
      DedupKey k = Wal::content_key(RecordType::kSignalEvent, p);
      Result<AppendResult> r =
          (*w)->append({RecordType::kSignalEvent, micros(static_cast<int64_t>(i)), p, k});
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->sequence, i);
    }
    ASSERT_TRUE((*w)->close().ok());
    paths_ = segment_paths(dir_.str());
    ASSERT_GE(paths_.size(), 3u);
  }

  WalOptions options(bool salvage = false) {
    WalOptions o = testing::wal_test_options(dir_.str(), Durability::kNone, log_);
    o.segment_bytes = 1024;
    o.salvage = salvage;
    return o;
  }

  // Replays everything and checks it is exactly `expected` (sequence and payload).
  void expect_replay(Wal& w, const std::vector<uint64_t>& expected) {
    auto all = replay_records(w);
    ASSERT_TRUE(all.ok()) << all.status().to_string();
    std::vector<uint64_t> got;
    for (const Record& r : *all) {
      got.push_back(r.sequence);
      EXPECT_EQ(r.payload, payload_for(r.sequence)) << r.sequence;
      EXPECT_EQ(r.dedup_key, Wal::content_key(RecordType::kSignalEvent, r.payload));
    }
    EXPECT_EQ(got, expected);
  }

  static std::vector<uint64_t> all_but(uint64_t first, uint64_t last, uint64_t skipped) {
    std::vector<uint64_t> out;
    for (uint64_t s = first; s <= last; ++s) {
      if (s != skipped) out.push_back(s);
    }
    return out;
  }

  // Flips bits in every byte of the middle frame of segment `index` and checks
  // that open fails naming the place, and that salvage skips exactly that record.
  void flip_every_byte_of_a_middle_frame(size_t index) {
    const std::string& path = paths_[index];
    std::vector<FrameSpan> frames = frames_of(path);
    ASSERT_GE(frames.size(), 5u);
    const FrameSpan victim = frames[frames.size() / 2];
    Result<std::string> pristine = read_file(path);
    ASSERT_TRUE(pristine.ok());
    for (uint64_t byte = victim.offset; byte < victim.offset + victim.size; ++byte) {
      SCOPED_TRACE("byte " + std::to_string(byte - victim.offset) + " of the frame");
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = *pristine;
        bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
        write_bytes(path, bad);
        Result<std::unique_ptr<Wal>> w = Wal::open(options());
        ASSERT_FALSE(w.ok()) << "bit " << bit;
        EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
        EXPECT_THAT(w.status().message(),
                    HasSubstr("segment " + path + " offset " + std::to_string(victim.offset)));
        if (bit != static_cast<int>(byte % 8)) continue;  // salvage once per byte
        log_.lines->clear();
        Result<std::unique_ptr<Wal>> s = Wal::open(options(/*salvage=*/true));
        ASSERT_TRUE(s.ok()) << s.status().to_string();
        const RecoveryReport& rep = (*s)->recovery_report();
        EXPECT_EQ(rep.lost_records, 1u);
        ASSERT_FALSE(rep.salvaged.empty());
        EXPECT_THAT(rep.salvaged[0], HasSubstr(path));
        EXPECT_THAT(rep.salvaged[0], HasSubstr("[" + std::to_string(victim.offset) + ", " +
                                               std::to_string(victim.offset + victim.size) + ")"));
        EXPECT_FALSE(log_.lines->empty());
        EXPECT_EQ(rep.torn_bytes, 0u);
        expect_replay(**s, all_but(1, kRecords, victim.sequence));
        EXPECT_EQ((*s)->last_sequence(), static_cast<uint64_t>(kRecords));
      }
    }
    write_bytes(path, *pristine);
  }

  TempDir dir_;
  WarningLog log_;
  std::vector<std::string> paths_;
};

TEST_F(WalCorruptionTest, BitFlipInAMiddleFrameOfAnOlderSegment) {
  flip_every_byte_of_a_middle_frame(0);
}

TEST_F(WalCorruptionTest, BitFlipInAMiddleFrameOfTheLastSegment) {
  flip_every_byte_of_a_middle_frame(paths_.size() - 1);
}

TEST_F(WalCorruptionTest, DamagedLastFrameOfAnOlderSegmentIsCorruptionNotATornTail) {
  const std::string& path = paths_[0];
  FrameSpan last = frames_of(path).back();
  Result<std::string> data = read_file(path);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[last.offset + 20] ^= 1;
  write_bytes(path, bad);
  Result<std::unique_ptr<Wal>> w = Wal::open(options());
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(w.status().message(), HasSubstr(path + " offset " + std::to_string(last.offset)));
  // Truncated instead of damaged: still not a torn tail, since later segments exist.
  write_bytes(path, data->substr(0, last.offset + 5));
  w = Wal::open(options());
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  Result<std::unique_ptr<Wal>> s = Wal::open(options(true));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  expect_replay(**s, all_but(1, kRecords, last.sequence));
}

TEST_F(WalCorruptionTest, TruncationAtEveryByteOfTheLastFrameIsATornTail) {
  const std::string path = paths_.back();
  FrameSpan last = frames_of(path).back();
  ASSERT_EQ(last.sequence, static_cast<uint64_t>(kRecords));
  Result<std::string> pristine = read_file(path);
  ASSERT_TRUE(pristine.ok());
  for (uint64_t cut = last.offset; cut < last.offset + last.size; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_bytes(path, pristine->substr(0, cut));
    log_.lines->clear();
    {
      auto w = testing::open_wal_or_fail(options());
      ASSERT_TRUE(w);
      const RecoveryReport& rep = w->recovery_report();
      EXPECT_EQ(rep.torn_bytes, cut - last.offset);
      if (cut > last.offset) {
        ASSERT_EQ(log_.lines->size(), 1u);
        EXPECT_THAT((*log_.lines)[0], HasSubstr("torn tail of " + path));
        EXPECT_THAT((*log_.lines)[0], HasSubstr("offset " + std::to_string(last.offset)));
      } else {
        EXPECT_TRUE(log_.lines->empty());
      }
      EXPECT_EQ(std::filesystem::file_size(path), last.offset);
      EXPECT_EQ(w->last_sequence(), static_cast<uint64_t>(kRecords - 1));
      expect_replay(*w, all_but(1, kRecords - 1, 0));
      // New appends continue the sequence (the lost record's key is forgotten).
      for (uint64_t s = kRecords; s <= kRecords + 1; ++s) {
        std::string p = payload_for(s);
        Result<AppendResult> r = w->append({RecordType::kSignalEvent, micros(1), p,
                                            Wal::content_key(RecordType::kSignalEvent, p)});
        ASSERT_TRUE(r.ok());
        EXPECT_FALSE(r->duplicate);
        EXPECT_EQ(r->sequence, s);
      }
    }
    auto w = testing::open_wal_or_fail(options());
    ASSERT_TRUE(w);
    EXPECT_EQ(w->recovery_report().torn_bytes, 0u);
    expect_replay(*w, all_but(1, kRecords + 1, 0));
    w.reset();
    // Put the pristine file back; drop a segment the appends may have started.
    for (const std::string& p : segment_paths(dir_.str())) {
      if (p > path) std::filesystem::remove(p);
    }
    write_bytes(path, *pristine);
  }
}

TEST_F(WalCorruptionTest, BadChecksumOfTheFinalFrameIsATornTail) {
  const std::string path = paths_.back();
  FrameSpan last = frames_of(path).back();
  Result<std::string> data = read_file(path);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[last.offset + last.size - 1] ^= 0x40;
  write_bytes(path, bad);
  auto w = testing::open_wal_or_fail(options());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->recovery_report().torn_bytes, last.size);
  expect_replay(*w, all_but(1, kRecords - 1, 0));
}

TEST_F(WalCorruptionTest, LastSegmentWithAnIncompleteHeaderIsRemoved) {
  // A crash while a segment was being created leaves a file shorter than its header.
  std::string next = dir_.sub(segment_file_name(kRecords + 1));
  SegmentHeader h;
  h.database_id = testing::test_database_id();
  h.first_sequence = kRecords + 1;
  write_bytes(next, encode_segment_header(h).substr(0, 20));
  {
    auto w = testing::open_wal_or_fail(options());
    ASSERT_TRUE(w);
    EXPECT_FALSE(std::filesystem::exists(next));
    ASSERT_EQ(log_.lines->size(), 1u);
    EXPECT_THAT((*log_.lines)[0], HasSubstr("incomplete header"));
    expect_replay(*w, all_but(1, kRecords, 0));
    std::string p = payload_for(kRecords + 1);
    Result<AppendResult> r = w->append({RecordType::kSignalEvent, micros(1), p, std::nullopt});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->sequence, static_cast<uint64_t>(kRecords + 1));
  }
  auto w = testing::open_wal_or_fail(options());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->last_sequence(), static_cast<uint64_t>(kRecords + 1));
}

TEST_F(WalCorruptionTest, DamagedHeaderOfAnOlderSegmentIsCorruption) {
  const std::string& path = paths_[1];
  Result<std::string> data = read_file(path);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[35] ^= 1;  // first sequence
  write_bytes(path, bad);
  Result<std::unique_ptr<Wal>> w = Wal::open(options());
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(w.status().message(), HasSubstr(path));
  EXPECT_THAT(w.status().message(), HasSubstr("checksum"));
}

// A frame with a valid checksum but a type (or flags) this version does not know.
std::string frame_from_the_future(uint64_t seq, uint8_t type, uint8_t flags) {
  std::string f;
  append_frame(&f, RecordType::kCustom, seq, micros(1), nullptr, "from the future");
  f[12] = static_cast<char>(type);
  f[13] = static_cast<char>(flags);
  std::string_view v(f);
  encode_fixed64_le(f.data() + 4, blake3_64(v.substr(0, 4), v.substr(kFrameHeaderSize)));
  return f;
}

TEST_F(WalCorruptionTest, UnknownRecordTypeWithAValidChecksumIsNotSupported) {
  const std::string path = paths_.back();
  Result<std::string> data = read_file(path);
  ASSERT_TRUE(data.ok());
  for (bool in_the_middle : {false, true}) {
    SCOPED_TRACE(in_the_middle ? "in the middle" : "at the end");
    std::string bytes = *data + frame_from_the_future(kRecords + 1, 250, 0);
    if (in_the_middle) {
      std::string more;
      append_frame(&more, RecordType::kCustom, kRecords + 2, micros(1), nullptr, "after");
      bytes += more;
    }
    write_bytes(path, bytes);
    for (bool salvage : {false, true}) {
      Result<std::unique_ptr<Wal>> w = Wal::open(options(salvage));
      ASSERT_FALSE(w.ok());
      EXPECT_EQ(w.status().code(), StatusCode::kNotSupported);
      EXPECT_THAT(w.status().message(), HasSubstr("unknown record type"));
      EXPECT_THAT(w.status().message(),
                  HasSubstr(path + " offset " + std::to_string(data->size())));
    }
    EXPECT_EQ(std::filesystem::file_size(path), bytes.size());  // nothing was cut
  }
  write_bytes(path, *data + frame_from_the_future(kRecords + 1, 1, 0x80));
  Result<std::unique_ptr<Wal>> w = Wal::open(options());
  EXPECT_EQ(w.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(w.status().message(), HasSubstr("unknown frame flags"));
}

TEST_F(WalCorruptionTest, MissingMiddleSegmentIsCorruption) {
  std::vector<FrameSpan> gone = frames_of(paths_[1]);
  std::filesystem::remove(paths_[1]);
  Result<std::unique_ptr<Wal>> w = Wal::open(options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(w.status().message(), HasSubstr("missing"));
  EXPECT_THAT(w.status().message(), HasSubstr(paths_[2]));

  Result<std::unique_ptr<Wal>> s = Wal::open(options(true));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)->recovery_report().lost_records, gone.size());
  std::vector<uint64_t> expected;
  for (uint64_t q = 1; q <= kRecords; ++q) {
    if (q < gone.front().sequence || q > gone.back().sequence) expected.push_back(q);
  }
  expect_replay(**s, expected);
}

TEST_F(WalCorruptionTest, FrameWithTheWrongSequenceIsCorruption) {
  // An intact frame in the wrong place (e.g. a block written twice).
  const std::string path = paths_.back();
  Result<std::string> data = read_file(path);
  ASSERT_TRUE(data.ok());
  FrameSpan first = frames_of(path).front();
  write_bytes(path, *data + data->substr(first.offset, first.size));
  Result<std::unique_ptr<Wal>> w = Wal::open(options());
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(w.status().message(), HasSubstr("expected " + std::to_string(kRecords + 1)));
}

}  // namespace
}  // namespace tidal::wal
