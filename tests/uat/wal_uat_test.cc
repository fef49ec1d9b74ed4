// WAL acceptance test: 5,500 deterministic events (fixed seed) of mixed signal
// events with ~5% client retries, a checkpoint that truncates old segments, a
// simulated crash that tears the last record, a reopen, and more events. The
// final record set is checked against an expectation computed independently
// of the WAL: a plain list of the events that must be stored, in order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "core/coding.h"
#include "support/test_support.h"
#include "support/wal_testing.h"
#include "wal/wal.h"

namespace tidal::wal {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kSeed = 5500;
constexpr int kEvents = 5500;
constexpr int kCheckpointAt = 3000;  // event index of the checkpoint
constexpr int kCrashAt = 4500;       // the event torn by the crash
constexpr int64_t kStartMicros = 1'700'000'000'000'000;

// A signal event as a client would send it: who did what to which item.
struct SignalEvent {
  uint64_t event_id;
  uint32_t user;
  uint32_t item;
  uint8_t signal;  // 0 view, 1 click, 2 like, 3 purchase
  int32_t value;

  std::string encode() const {
    std::string out;
    put_fixed64_le(&out, event_id);
    put_fixed32_le(&out, user);
    put_fixed32_le(&out, item);
    out += static_cast<char>(signal);
    put_fixed32_le(&out, static_cast<uint32_t>(value));
    return out;
  }
};

// One stored record of the expectation.
struct Expected {
  int64_t timestamp_us;
  std::string payload;
};

WalOptions uat_options(const std::string& dir, const testing::WarningLog& log) {
  WalOptions o = testing::wal_test_options(dir, Durability::kBatch, log);
  o.segment_bytes = 4096;  // about 60 records per segment
  o.dedup.generation_keys = 1000;
  o.dedup.generation_age = std::chrono::hours(1);
  return o;
}

TEST(WalUatTest, FiveThousandFiveHundredEventsWithRetriesCheckpointAndCrash) {
  testing::TempDir dir;
  testing::WarningLog log;
  std::mt19937_64 rng(kSeed);

  // The expectation: sequence -> record, and each distinct event's sequence.
  std::map<uint64_t, Expected> expected;
  std::map<std::string, uint64_t> stored_seq_of;  // payload -> sequence
  std::vector<std::string> sent;                  // every distinct payload sent, in order
  uint64_t next_seq = 1;
  int duplicates_answered = 0;
  std::string torn_payload;

  std::unique_ptr<Wal> w = testing::open_wal_or_fail(uat_options(dir.str(), log));
  ASSERT_TRUE(w);

  auto send = [&](const std::string& payload, int64_t ts) {
    AppendRequest r{RecordType::kSignalEvent, testing::micros(ts), payload,
                    Wal::content_key(RecordType::kSignalEvent, payload)};
    Result<AppendResult> got = w->append(r);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    auto known = stored_seq_of.find(payload);
    if (known != stored_seq_of.end()) {
      ASSERT_TRUE(got->duplicate) << "retry of sequence " << known->second << " was stored again";
      ASSERT_EQ(got->sequence, known->second);
      ++duplicates_answered;
      return;
    }
    ASSERT_FALSE(got->duplicate);
    ASSERT_EQ(got->sequence, next_seq);
    expected[next_seq] = {ts, payload};
    stored_seq_of[payload] = next_seq++;
  };

  for (int i = 0; i < kEvents; ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    int64_t ts = kStartMicros + int64_t{i} * 100'000;
    std::string payload;
    bool retry = i == kCrashAt + 1 || (sent.size() > 10 && rng() % 100 < 5);
    if (i == kCrashAt + 1) {
      payload = torn_payload;  // the client retries the event the crash lost
    } else if (retry) {
      payload = sent[sent.size() - 1 - rng() % std::min<size_t>(sent.size(), 200)];
    } else {
      SignalEvent e{static_cast<uint64_t>(i), static_cast<uint32_t>(rng() % 500),
                    static_cast<uint32_t>(rng() % 2000), static_cast<uint8_t>(rng() % 4),
                    static_cast<int32_t>(rng() % 10) - 2};
      payload = e.encode();
      sent.push_back(payload);
    }
    send(payload, ts);
    if (HasFatalFailure()) return;

    if (i == kCheckpointAt) {
      size_t before = testing::segment_paths(dir.str()).size();
      uint64_t cp = next_seq - 1;
      ASSERT_TRUE(w->checkpoint(cp).ok());
      size_t after = testing::segment_paths(dir.str()).size();
      EXPECT_LT(after, before);
      // Generations of 1000 keys: the previous one starts at sequence 1001,
      // so the segment holding it is the oldest kept.
      uint64_t first = w->first_retained_sequence();
      EXPECT_LE(first, 1001u);
      EXPECT_GT(first, 1001u - 70);
      EXPECT_EQ(w->replay(1, [](const FrameView&) { return Status::Ok(); }).code(),
                StatusCode::kNotFound);
      for (auto it = expected.begin(); it != expected.end() && it->first < first;) {
        it = expected.erase(it);
      }
    }
    if (i == kCrashAt) {
      // Simulated crash while the last record was being written: the process
      // stops (close, so the Wal lets go of its files), and the record's
      // frame is left half on disk. Its append never returned to the client,
      // so the expectation forgets it.
      ASSERT_TRUE(w->close().ok());
      w.reset();
      std::string active = testing::segment_paths(dir.str()).back();
      uint64_t size = std::filesystem::file_size(active);
      uint64_t frame = frame_size(payload.size(), true);
      ASSERT_GT(size, kSegmentHeaderSize + frame);
      std::filesystem::resize_file(active, size - frame + 9);
      torn_payload = payload;
      --next_seq;
      expected.erase(next_seq);
      stored_seq_of.erase(payload);
      sent.pop_back();

      log.lines->clear();
      w = testing::open_wal_or_fail(uat_options(dir.str(), log));
      ASSERT_TRUE(w);
      EXPECT_EQ(w->recovery_report().torn_bytes, 9u);
      ASSERT_EQ(log.lines->size(), 1u);
      EXPECT_THAT((*log.lines)[0], HasSubstr("torn tail"));
      EXPECT_EQ(w->last_sequence(), next_seq - 1);
    }
  }

  ASSERT_TRUE(w->close().ok());
  w = testing::open_wal_or_fail(uat_options(dir.str(), log));
  ASSERT_TRUE(w);
  auto records = testing::replay_records(*w, w->first_retained_sequence());
  ASSERT_TRUE(records.ok()) << records.status().to_string();
  // Everything from the first retained sequence on, exactly.
  std::map<uint64_t, Expected> want;
  for (const auto& [seq, e] : expected) {
    if (seq >= w->first_retained_sequence()) want[seq] = e;
  }
  ASSERT_EQ(records->size(), want.size());
  for (const Record& r : *records) {
    auto it = want.find(r.sequence);
    ASSERT_NE(it, want.end()) << r.sequence;
    EXPECT_EQ(r.type, RecordType::kSignalEvent);
    EXPECT_EQ(to_micros(r.timestamp), it->second.timestamp_us) << r.sequence;
    EXPECT_EQ(r.payload, it->second.payload) << r.sequence;
    EXPECT_EQ(r.dedup_key, Wal::content_key(RecordType::kSignalEvent, r.payload));
  }
  // The fixed seed pins the totals: 5,500 events, ~5% of them retries.
  const uint64_t stored = next_seq - 1;
  EXPECT_EQ(stored + static_cast<uint64_t>(duplicates_answered) + 1, uint64_t{kEvents});
  EXPECT_EQ(w->last_sequence(), stored);
  EXPECT_EQ(stored, 5229u);
  EXPECT_EQ(duplicates_answered, 270);
  std::printf("wal uat: %llu records stored, %d duplicates answered, %zu retained\n",
              static_cast<unsigned long long>(stored), duplicates_answered, records->size());
}

}  // namespace
}  // namespace tidal::wal
