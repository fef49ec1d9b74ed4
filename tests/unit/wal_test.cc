#include "wal/wal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "support/test_support.h"
#include "support/wal_testing.h"

namespace tidal::wal {
namespace {

using ::testing::HasSubstr;
using testing::micros;
using testing::open_wal_or_fail;
using testing::replay_records;
using testing::segment_paths;
using testing::TempDir;
using testing::wal_test_options;

// Distinct for every i (given room for its digits), `size` bytes long.
std::string payload_for(uint64_t i, size_t size = 24) {
  std::string p = std::to_string(i) + ":";
  for (size_t j = p.size(); j < size; ++j) p += static_cast<char>('a' + (i * 7 + j) % 26);
  p.resize(size);
  return p;
}

AppendRequest request(uint64_t i, size_t size = 24) {
  static thread_local std::string storage;  // request() results are used before the next call
  storage = payload_for(i, size);
  return {RecordType::kSignalEvent, micros(static_cast<int64_t>(i)), storage, std::nullopt};
}

uint64_t append_ok(Wal& w, const AppendRequest& r) {
  Result<AppendResult> a = w.append(r);
  EXPECT_TRUE(a.ok()) << a.status().to_string();
  return a.ok() ? a->sequence : 0;
}

// Appends records i = first..last with payload_for(i); returns their sequences.
std::vector<uint64_t> append_range(Wal& w, uint64_t first, uint64_t last, size_t size = 24) {
  std::vector<uint64_t> seqs;
  for (uint64_t i = first; i <= last; ++i) seqs.push_back(append_ok(w, request(i, size)));
  return seqs;
}

std::vector<uint64_t> sequences(const std::vector<Record>& records) {
  std::vector<uint64_t> out;
  for (const Record& r : records) out.push_back(r.sequence);
  return out;
}

std::vector<uint64_t> iota(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

TEST(WalTest, AppendReturnsConsecutiveSequences) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->last_sequence(), 0u);
  EXPECT_EQ(append_range(*w, 1, 10), iota(1, 10));
  EXPECT_EQ(w->last_sequence(), 10u);
  EXPECT_EQ(w->durable_sequence(), 10u);
  EXPECT_EQ(w->stats().appended, 10u);
}

TEST(WalTest, ReplayFromStartAndFromTheMiddle) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  append_range(*w, 1, 20);
  auto all = replay_records(*w, 1);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 20u);
  for (uint64_t i = 1; i <= 20; ++i) {
    const Record& r = (*all)[i - 1];
    EXPECT_EQ(r.sequence, i);
    EXPECT_EQ(r.type, RecordType::kSignalEvent);
    EXPECT_EQ(to_micros(r.timestamp), static_cast<int64_t>(i));
    EXPECT_EQ(r.payload, payload_for(i));
    EXPECT_FALSE(r.dedup_key.has_value());
  }
  auto tail = replay_records(*w, 15);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(sequences(*tail), iota(15, 20));
  auto none = replay_records(*w, 21);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // Sequence 0 means "from the beginning".
  auto zero = replay_records(*w, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->size(), 20u);
}

TEST(WalTest, VisitorErrorStopsReplay) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  append_range(*w, 1, 5);
  int seen = 0;
  Status s = w->replay(1, [&](const FrameView& f) {
    ++seen;
    return f.sequence == 3 ? Status::Aborted(Subsystem::kWal, "enough") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(seen, 3);
}

TEST(WalTest, EmptyWalReopens) {
  TempDir dir;
  {
    auto w = open_wal_or_fail(wal_test_options(dir.str()));
    ASSERT_TRUE(w);
  }
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->last_sequence(), 0u);
  EXPECT_EQ(w->recovery_report().records, 0u);
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  EXPECT_EQ(append_ok(*w, request(1)), 1u);
}

TEST(WalTest, ReopenKeepsEverythingAndContinuesTheSequence) {
  TempDir dir;
  std::vector<Record> before;
  {
    auto w = open_wal_or_fail(wal_test_options(dir.str()));
    ASSERT_TRUE(w);
    append_range(*w, 1, 30);
    auto all = replay_records(*w);
    ASSERT_TRUE(all.ok());
    before = *all;
    ASSERT_TRUE(w->close().ok());
  }
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  const RecoveryReport& rep = w->recovery_report();
  EXPECT_EQ(rep.records, 30u);
  EXPECT_EQ(rep.first_sequence, 1u);
  EXPECT_EQ(rep.last_sequence, 30u);
  EXPECT_EQ(rep.torn_bytes, 0u);
  EXPECT_TRUE(rep.warnings.empty());
  auto after = replay_records(*w);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, before);
  EXPECT_EQ(append_ok(*w, request(31)), 31u);
}

TEST(WalTest, SameContentKeyIsADuplicateOfTheOriginal) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  append_range(*w, 1, 3);
  std::string payload = "user=1 item=2 like";
  AppendRequest r{RecordType::kSignalEvent, micros(100), payload,
                  Wal::content_key(RecordType::kSignalEvent, payload)};
  Result<AppendResult> first = w->append(r);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sequence, 4u);
  EXPECT_FALSE(first->duplicate);
  append_range(*w, 5, 6);
  Result<AppendResult> retry = w->append(r);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->sequence, 4u);
  EXPECT_EQ(w->last_sequence(), 6u);
  EXPECT_EQ(w->stats().duplicates, 1u);
  // The same payload under another type is another event.
  AppendRequest other{RecordType::kEntityUpsert, micros(100), payload,
                      Wal::content_key(RecordType::kEntityUpsert, payload)};
  Result<AppendResult> o = w->append(other);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->duplicate);
  EXPECT_EQ(o->sequence, 7u);
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(sequences(*all), iota(1, 7));
  EXPECT_EQ((*all)[3].dedup_key, r.dedup_key);
}

TEST(WalTest, IdempotencyKeys) {
  EXPECT_EQ(Wal::idempotency_key("req-1"), Wal::idempotency_key("req-1"));
  EXPECT_NE(Wal::idempotency_key("req-1"), Wal::idempotency_key("req-2"));
  EXPECT_NE(Wal::content_key(RecordType::kSignalEvent, "x"), Wal::idempotency_key("x"));

  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  // Different payloads, same idempotency key: the client's key decides.
  AppendRequest a{RecordType::kSignalEvent, micros(1), "first", Wal::idempotency_key("req-1")};
  AppendRequest b{RecordType::kSignalEvent, micros(2), "second", Wal::idempotency_key("req-1")};
  AppendRequest c{RecordType::kSignalEvent, micros(3), "first", Wal::idempotency_key("req-2")};
  EXPECT_EQ(append_ok(*w, a), 1u);
  Result<AppendResult> rb = w->append(b);
  ASSERT_TRUE(rb.ok());
  EXPECT_TRUE(rb->duplicate);
  EXPECT_EQ(rb->sequence, 1u);
  EXPECT_EQ(append_ok(*w, c), 2u);
}

TEST(WalTest, DuplicateIsRecognisedAcrossReopen) {
  TempDir dir;
  std::string payload = "user=9 item=9 view";
  AppendRequest r{RecordType::kSignalEvent, micros(5), payload,
                  Wal::content_key(RecordType::kSignalEvent, payload)};
  AppendRequest idem{RecordType::kSignalEvent, micros(6), "x", Wal::idempotency_key("k")};
  {
    auto w = open_wal_or_fail(wal_test_options(dir.str()));
    ASSERT_TRUE(w);
    append_range(*w, 1, 2);
    EXPECT_EQ(append_ok(*w, r), 3u);
    EXPECT_EQ(append_ok(*w, idem), 4u);
    append_range(*w, 5, 8);
  }
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  Result<AppendResult> retry = w->append(r);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->sequence, 3u);
  Result<AppendResult> retry2 = w->append(idem);
  ASSERT_TRUE(retry2.ok());
  EXPECT_TRUE(retry2->duplicate);
  EXPECT_EQ(retry2->sequence, 4u);
  EXPECT_EQ(w->last_sequence(), 8u);
}

TEST(WalTest, AppendBatchAppendsInOrderAndAnswersDuplicates) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  DedupKey k = Wal::idempotency_key("same");
  std::vector<AppendRequest> batch = {
      {RecordType::kSignalEvent, micros(1), "a", std::nullopt},
      {RecordType::kSignalEvent, micros(2), "b", k},
      {RecordType::kSignalEvent, micros(3), "c", k},  // duplicate of the one before
      {RecordType::kEntityDelete, micros(4), "d", std::nullopt},
  };
  Result<std::vector<AppendResult>> res = w->append_batch(batch);
  ASSERT_TRUE(res.ok()) << res.status().to_string();
  ASSERT_EQ(res->size(), 4u);
  EXPECT_EQ((*res)[0].sequence, 1u);
  EXPECT_EQ((*res)[1].sequence, 2u);
  EXPECT_TRUE((*res)[2].duplicate);
  EXPECT_EQ((*res)[2].sequence, 2u);
  EXPECT_EQ((*res)[3].sequence, 3u);
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].payload, "d");
  EXPECT_EQ((*all)[2].type, RecordType::kEntityDelete);
}

TEST(WalTest, AppendBatchIsAllOrNothing) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.max_record_bytes = 100;
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  append_range(*w, 1, 2);
  std::string big(101, 'x');
  DedupKey k = Wal::idempotency_key("in-failed-batch");
  std::vector<AppendRequest> batch = {
      {RecordType::kSignalEvent, micros(1), "ok", k},
      {RecordType::kSignalEvent, micros(2), big, std::nullopt},
      {RecordType::kSignalEvent, micros(3), "ok too", std::nullopt},
  };
  Result<std::vector<AppendResult>> res = w->append_batch(batch);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(res.status().message(), HasSubstr("record 1 of the batch"));
  EXPECT_THAT(res.status().message(), HasSubstr("payload"));
  EXPECT_EQ(w->last_sequence(), 2u);
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  // The first record's key was not remembered either.
  EXPECT_EQ(append_ok(*w, batch[0]), 3u);
}

TEST(WalTest, OversizedRecordNamesTheFieldAndTheLimit) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.max_record_bytes = 1000;
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  std::string exact(1000, 'x');
  EXPECT_EQ(append_ok(*w, {RecordType::kCustom, micros(1), exact, std::nullopt}), 1u);
  std::string big(1001, 'x');
  Result<AppendResult> r = w->append({RecordType::kCustom, micros(1), big, std::nullopt});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "payload");
  EXPECT_THAT(r.status().message(), HasSubstr("1001 bytes"));
  EXPECT_THAT(r.status().message(), HasSubstr("at most 1000 bytes"));
  EXPECT_THAT(r.status().message(), HasSubstr("max_record_bytes"));
  EXPECT_EQ(w->last_sequence(), 1u);
}

TEST(WalTest, UnknownRecordTypeIsRejected) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  Result<AppendResult> r = w->append({static_cast<RecordType>(99), micros(1), "x", std::nullopt});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "type");
  EXPECT_THAT(r.status().message(), HasSubstr("99"));
  EXPECT_EQ(w->last_sequence(), 0u);
}

TEST(WalTest, InvalidOptionsAreRejected) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.max_batch_records = 0;
  EXPECT_EQ(Wal::open(o).status().field(), "max_batch_records");
  o = wal_test_options("");
  EXPECT_EQ(Wal::open(o).status().field(), "dir");
  o = wal_test_options(dir.str());
  o.max_record_bytes = 0;
  EXPECT_EQ(Wal::open(o).status().field(), "max_record_bytes");
}

TEST(WalTest, DurabilityNames) {
  for (Durability d : {Durability::kFsync, Durability::kBatch, Durability::kNone}) {
    Result<Durability> parsed = parse_durability(durability_name(d));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, d);
  }
  Result<Durability> bad = parse_durability("sometimes");
  EXPECT_EQ(bad.status().field(), "durability");
}

// Reads the first record of every segment file: each must match the file name.
void expect_segments_named_for_their_first_record(const std::string& dir) {
  for (const std::string& path : segment_paths(dir)) {
    Result<std::string> data = read_file(path);
    ASSERT_TRUE(data.ok());
    uint64_t named = *parse_segment_file_name(std::filesystem::path(path).filename().string());
    Result<SegmentHeader> h = decode_segment_header(*data, path);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->first_sequence, named);
    if (data->size() > kSegmentHeaderSize) {
      DecodedFrame f = decode_frame(std::string_view(*data).substr(kSegmentHeaderSize), 1 << 20);
      ASSERT_EQ(f.status, FrameStatus::kOk);
      EXPECT_EQ(f.sequence, named) << path;
    }
  }
}

TEST(WalTest, SegmentsRollAtSegmentBytes) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.segment_bytes = 4096;
  {
    auto w = open_wal_or_fail(o);
    ASSERT_TRUE(w);
    append_range(*w, 1, 300, 100);  // 130-byte frames: about 31 per segment
    std::vector<std::string> paths = segment_paths(dir.str());
    EXPECT_GE(paths.size(), 9u);
    EXPECT_EQ(w->stats().segments, paths.size());
    for (size_t i = 0; i + 1 < paths.size(); ++i) {
      auto size = std::filesystem::file_size(paths[i]);
      EXPECT_GE(size, 4096u) << paths[i];
      EXPECT_LT(size, 4096u + frame_size(100, false)) << paths[i];  // one record per batch here
    }
    expect_segments_named_for_their_first_record(dir.str());
  }
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(sequences(*all), iota(1, 300));
  auto mid = replay_records(*w, 123);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(sequences(*mid), iota(123, 300));
}

TEST(WalTest, CheckpointDeletesOnlySegmentsWhollyAtOrBelowIt) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.segment_bytes = 4096;
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  append_range(*w, 1, 300, 100);
  std::vector<std::string> before = segment_paths(dir.str());
  std::vector<uint64_t> firsts;
  for (const auto& p : before) {
    firsts.push_back(*parse_segment_file_name(std::filesystem::path(p).filename().string()));
  }
  ASSERT_GE(firsts.size(), 4u);
  // A checkpoint one record short of the third segment's last record keeps it.
  uint64_t cp = firsts[3] - 2;
  ASSERT_TRUE(w->checkpoint(cp).ok());
  EXPECT_EQ(w->checkpoint_sequence(), cp);
  EXPECT_EQ(w->first_retained_sequence(), firsts[2]);
  EXPECT_EQ(segment_paths(dir.str()).size(), before.size() - 2);
  EXPECT_FALSE(std::filesystem::exists(before[0]));
  EXPECT_TRUE(std::filesystem::exists(before[2]));
  // A checkpoint at the exact last record of a segment deletes it.
  ASSERT_TRUE(w->checkpoint(firsts[3] - 1).ok());
  EXPECT_EQ(w->first_retained_sequence(), firsts[3]);
  EXPECT_FALSE(std::filesystem::exists(before[2]));
  // A lower checkpoint changes nothing.
  ASSERT_TRUE(w->checkpoint(5).ok());
  EXPECT_EQ(w->checkpoint_sequence(), firsts[3] - 1);

  auto rest = replay_records(*w, firsts[3]);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(sequences(*rest), iota(firsts[3], 300));
  Status gone = w->replay(firsts[3] - 1, [](const FrameView&) { return Status::Ok(); });
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  EXPECT_THAT(gone.message(), HasSubstr("truncated"));

  ASSERT_TRUE(w->close().ok());
  auto w2 = open_wal_or_fail(o);
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->checkpoint_sequence(), firsts[3] - 1);
  EXPECT_EQ(w2->recovery_report().checkpoint_sequence, firsts[3] - 1);
  EXPECT_EQ(w2->first_retained_sequence(), firsts[3]);
  EXPECT_EQ(w2->recovery_report().first_sequence, firsts[3]);
  EXPECT_EQ(w2->replay(1, [](const FrameView&) { return Status::Ok(); }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(append_ok(*w2, request(301)), 301u);
}

TEST(WalTest, CheckpointNeverDeletesTheActiveSegment) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.segment_bytes = 4096;
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  append_range(*w, 1, 100, 100);
  ASSERT_TRUE(w->checkpoint(100).ok());
  std::vector<std::string> left = segment_paths(dir.str());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(w->stats().segments, 1u);
  uint64_t first = w->first_retained_sequence();
  EXPECT_LE(first, 100u);
  auto tail = replay_records(*w, first);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->back().sequence, 100u);
  EXPECT_EQ(append_ok(*w, request(101)), 101u);
  ASSERT_TRUE(w->close().ok());
  auto w2 = open_wal_or_fail(o);
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->last_sequence(), 101u);
}

TEST(WalTest, CheckpointKeepsTheSegmentsTheDedupHorizonNeeds) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.segment_bytes = 1024;  // frames of 30 + 16 + 20 bytes: about 15 per segment
  o.dedup.generation_keys = 50;
  o.dedup.generation_age = std::chrono::hours(1);
  auto keyed = [](uint64_t i) {
    static thread_local std::string p;
    p = payload_for(i, 20);
    return AppendRequest{RecordType::kSignalEvent, micros(static_cast<int64_t>(i)), p,
                         Wal::content_key(RecordType::kSignalEvent, p)};
  };
  {
    auto w = open_wal_or_fail(o);
    ASSERT_TRUE(w);
    for (uint64_t i = 1; i <= 300; ++i) ASSERT_EQ(append_ok(*w, keyed(i)), i);
    // Generations: previous holds 201..250, current 251..300.
    ASSERT_TRUE(w->checkpoint(300).ok());
    uint64_t first = w->first_retained_sequence();
    EXPECT_LE(first, 201u);
    EXPECT_GT(first, 201u - 20);  // only the segment holding 201 (and later) is kept
    Status old = w->replay(first - 1, [](const FrameView&) { return Status::Ok(); });
    EXPECT_EQ(old.code(), StatusCode::kNotFound);
    Result<AppendResult> dup = w->append(keyed(201));
    ASSERT_TRUE(dup.ok());
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->sequence, 201u);
  }
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  // Rebuilt from the retained segments, the sets again remember at least the
  // last generation's worth of keys. (Their boundaries may differ from before
  // the restart, since the first retained segment starts below 201.)
  for (uint64_t i : {251u, 275u, 300u}) {
    Result<AppendResult> dup = w->append(keyed(i));
    ASSERT_TRUE(dup.ok());
    EXPECT_TRUE(dup->duplicate) << i;
    EXPECT_EQ(dup->sequence, i);
  }
  // Sequence 100's key is beyond the horizon and its segment is gone.
  Result<AppendResult> again = w->append(keyed(100));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->sequence, 301u);
}

TEST(WalTest, CheckpointBeyondTheLastSequenceIsAnError) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  append_range(*w, 1, 3);
  Status s = w->checkpoint(4);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "sequence");
  EXPECT_THAT(s.message(), HasSubstr("3"));
  EXPECT_EQ(w->checkpoint_sequence(), 0u);
  EXPECT_TRUE(w->checkpoint(3).ok());
}

class WalDurabilityTest : public ::testing::TestWithParam<Durability> {};

TEST_P(WalDurabilityTest, AppendsSurviveCloseAndReopen) {
  TempDir dir;
  auto o = wal_test_options(dir.str(), GetParam());
  o.segment_bytes = 8192;
  {
    auto w = open_wal_or_fail(o);
    ASSERT_TRUE(w);
    EXPECT_EQ(append_range(*w, 1, 200, 50), iota(1, 200));
    EXPECT_EQ(w->durable_sequence(), 200u);
    ASSERT_TRUE(w->sync().ok());
    auto now = replay_records(*w);
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(now->size(), 200u);
    EXPECT_EQ(append_range(*w, 201, 250, 50), iota(201, 250));
    ASSERT_TRUE(w->close().ok());
  }
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(sequences(*all), iota(1, 250));
  for (const Record& r : *all) EXPECT_EQ(r.payload, payload_for(r.sequence, 50));
  EXPECT_EQ(append_ok(*w, request(251)), 251u);
}

INSTANTIATE_TEST_SUITE_P(AllModes, WalDurabilityTest,
                         ::testing::Values(Durability::kFsync, Durability::kBatch,
                                           Durability::kNone),
                         [](const auto& info) { return std::string(durability_name(info.param)); });

TEST(WalTest, ConcurrentAppendsGetAGaplessSetOfSequences) {
  TempDir dir;
  auto o = wal_test_options(dir.str());
  o.segment_bytes = 16384;
  auto w = open_wal_or_fail(o);
  ASSERT_TRUE(w);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string p = "thread " + std::to_string(t) + " record " + std::to_string(i);
        Result<AppendResult> r = w->append({RecordType::kCustom, micros(i), p, std::nullopt});
        if (r.ok()) got[t].emplace_back(r->sequence, p);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<uint64_t, std::string> by_seq;
  for (const auto& g : got) {
    EXPECT_EQ(g.size(), static_cast<size_t>(kPerThread));
    for (size_t i = 1; i < g.size(); ++i) EXPECT_LT(g[i - 1].first, g[i].first);  // per thread
    for (const auto& [seq, p] : g) EXPECT_TRUE(by_seq.emplace(seq, p).second) << seq;
  }
  ASSERT_EQ(by_seq.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(by_seq.begin()->first, 1u);
  EXPECT_EQ(by_seq.rbegin()->first, static_cast<uint64_t>(kThreads * kPerThread));
  WalStats st = w->stats();
  EXPECT_LT(st.batches, st.appended);  // group commit gathered something
  auto all = replay_records(*w);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), by_seq.size());
  for (const Record& r : *all) EXPECT_EQ(r.payload, by_seq[r.sequence]);
}

TEST(WalTest, AppendAfterCloseFails) {
  TempDir dir;
  auto w = open_wal_or_fail(wal_test_options(dir.str()));
  ASSERT_TRUE(w);
  append_range(*w, 1, 2);
  ASSERT_TRUE(w->close().ok());
  EXPECT_TRUE(w->close().ok());  // idempotent
  Result<AppendResult> r = w->append(request(3));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("closed"));
  std::vector<AppendRequest> batch = {request(4)};
  EXPECT_EQ(w->append_batch(batch).status().code(), StatusCode::kFailedPrecondition);
  auto all = replay_records(*w);  // reading a closed WAL still works
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST(WalTest, FolderOfAnotherDatabaseIsAClearError) {
  TempDir dir;
  {
    auto w = open_wal_or_fail(wal_test_options(dir.str()));
    ASSERT_TRUE(w);
    append_range(*w, 1, 2);
  }
  auto o = wal_test_options(dir.str());
  o.database_id = testing::test_database_id(8);
  Result<std::unique_ptr<Wal>> w = Wal::open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(w.status().message(), HasSubstr("another database"));
  EXPECT_THAT(w.status().message(), HasSubstr(segment_paths(dir.str())[0]));
  EXPECT_THAT(w.status().message(), HasSubstr("0707070707070707"));
  EXPECT_THAT(w.status().message(), HasSubstr("0808080808080808"));
}

TEST(WalTest, FolderWithANewerFormatIsNotSupported) {
  TempDir dir;
  SegmentHeader h;
  h.format_version = kFormatVersion + 1;
  h.database_id = testing::test_database_id();
  h.first_sequence = 1;
  ASSERT_TRUE(write_file_atomic(dir.sub(segment_file_name(1)), encode_segment_header(h)).ok());
  Result<std::unique_ptr<Wal>> w = Wal::open(wal_test_options(dir.str()));
  EXPECT_EQ(w.status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace tidal::wal
