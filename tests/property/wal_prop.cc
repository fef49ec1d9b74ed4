// Property tests of the write-ahead log: any sequence of appends (with dedup
// keys and client retries), checkpoints and crash points replays to exactly
// the acknowledged records.
//
// How a crash is simulated. A Wal cannot be stopped without its destructor
// closing it cleanly, so a crash is modelled from the outside: at a crash
// point the model first notes which bytes are already acknowledged — after
// an append returns in kBatch or kFsync mode its frame is in the file, and
// with one client thread nothing else is in flight, so the active segment's
// size at that moment is its acknowledged end. Then the client starts a few
// more appends that "never return" (in flight when the process dies), the
// Wal is closed, and the active segment is cut at a random offset at or after
// its acknowledged end (anywhere, header included, if the in-flight appends
// rolled into a new segment; earlier segments were synced before the roll).
// That is exactly the set of states a kill -9 can leave: acknowledged bytes
// intact, unacknowledged bytes partly written. After reopening, the WAL must
// hold every acknowledged record and, of the in-flight ones, only a whole
// prefix.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "support/test_support.h"
#include "support/wal_testing.h"
#include "wal/wal.h"

namespace tidal::wal {
namespace {

constexpr size_t kGenerationKeys = 64;

struct Op {
  enum Kind : uint8_t { kAppend, kRetry, kBatch, kCheckpoint, kCrash } kind = kAppend;
  uint16_t size = 0;      // payload bytes, 0..300
  bool keyed = false;     // carries a dedup key
  uint32_t pick = 0;      // which earlier event to retry / where to checkpoint / batch size
  uint8_t in_flight = 0;  // crash: appends that never return
  uint32_t cut = 0;       // crash: where in the unacknowledged bytes the file ends
};

// How rapidcheck prints an Op in a counterexample (its name is rapidcheck's).
void showValue(const Op& op, std::ostream& os) {  // NOLINT(readability-identifier-naming)
  static const char* kNames[] = {"append", "retry", "batch", "checkpoint", "crash"};
  os << kNames[op.kind] << "(size " << op.size << (op.keyed ? ", keyed" : "") << ", pick "
     << op.pick << ", in_flight " << int{op.in_flight} << ", cut " << op.cut << ")";
}

rc::Gen<Op> gen_op() {
  return rc::gen::apply(
      [](int roll, int size, bool keyed, uint32_t pick, int in_flight, uint32_t cut) {
        Op op;
        op.kind = roll < 68   ? Op::kAppend
                  : roll < 83 ? Op::kRetry
                  : roll < 90 ? Op::kBatch
                  : roll < 96 ? Op::kCheckpoint
                              : Op::kCrash;
        op.size = static_cast<uint16_t>(size);
        op.keyed = keyed;
        op.pick = pick;
        op.in_flight = static_cast<uint8_t>(in_flight);
        op.cut = cut;
        return op;
      },
      rc::gen::inRange(0, 100), rc::gen::inRange(0, 301), rc::gen::arbitrary<bool>(),
      rc::gen::arbitrary<uint32_t>(), rc::gen::inRange(0, 5), rc::gen::arbitrary<uint32_t>());
}

// An event as the client built it; retries resend the same one.
struct Event {
  RecordType type;
  int64_t ts;
  std::string payload;
  std::optional<DedupKey> key;
};

Event make_event(uint64_t id, size_t size, bool keyed) {
  static constexpr RecordType kTypes[] = {
      RecordType::kSignalEvent,      RecordType::kEntityUpsert,
      RecordType::kEntityPatch,      RecordType::kEntityDelete,
      RecordType::kRelationship,     RecordType::kSchemaChange,
      RecordType::kCohortDefinition, RecordType::kProfileDefinition,
      RecordType::kPresent,          RecordType::kCustom};
  Event e{kTypes[id % 9], static_cast<int64_t>(id) * 1000, std::string(size, '\0'), std::nullopt};
  for (size_t j = 0; j < size; ++j) e.payload[j] = static_cast<char>((id * 131 + j * 7) >> (j % 3));
  for (size_t j = 0; j < size && j < 8; ++j) e.payload[j] = static_cast<char>(id >> (8 * j));
  if (keyed) {
    // Payloads of 8+ bytes start with the id, so their content is unique.
    e.key = size >= 8 ? Wal::content_key(e.type, e.payload)
                      : Wal::idempotency_key("event " + std::to_string(id));
  }
  return e;
}

// Drives a Wal and an independent model of what it must hold.
class WalModelRun {
 public:
  WalModelRun(Durability d, uint64_t segment_bytes)
      : durability_(d), segment_bytes_(segment_bytes) {
    reopen();
  }

  void run(const std::vector<Op>& ops) {
    for (const Op& op : ops) step(op);
    wal_.reset();
    reopen();
    check_replay();
  }

  uint64_t crashes() const { return crashes_; }
  uint64_t stored() const { return records_.empty() ? 0 : records_.rbegin()->first; }

 private:
  WalOptions options() const {
    WalOptions o = testing::wal_test_options(dir_.str(), durability_);
    o.segment_bytes = segment_bytes_;
    o.dedup.generation_keys = kGenerationKeys;
    o.dedup.generation_age = std::chrono::hours(24);
    return o;
  }

  void reopen() {
    auto w = Wal::open(options());
    RC_ASSERT(w.ok());
    wal_ = std::move(w).value();
  }

  void step(const Op& op) {
    switch (op.kind) {
      case Op::kAppend: send(fresh_event(op.size, op.keyed)); break;
      case Op::kRetry:
        if (sent_keyed_.empty()) return send(fresh_event(op.size, op.keyed));
        // Mostly recent events (inside the horizon), sometimes any.
        send(sent_keyed_[sent_keyed_.size() - 1 -
                         op.pick % std::min<size_t>(sent_keyed_.size(),
                                                    op.pick % 4 ? kGenerationKeys : 100000)]);
        break;
      case Op::kBatch: send_batch(op); break;
      case Op::kCheckpoint: checkpoint(op.pick); break;
      case Op::kCrash: crash(op); break;
    }
  }

  Event fresh_event(size_t size, bool keyed) {
    Event e = make_event(next_event_++, size, keyed);
    if (keyed) sent_keyed_.push_back(e);
    return e;
  }

  static AppendRequest request(const Event& e) {
    return {e.type, from_micros(e.ts), e.payload, e.key};
  }

  // What the model says about an append of `e`: the sequence a duplicate
  // must name (nullopt: it must be stored), and whether storing is allowed.
  void check_answer(const Event& e, const AppendResult& got) {
    const uint64_t next = records_.empty() ? 1 : records_.rbegin()->first + 1;
    std::optional<uint64_t> original;
    bool must_be_duplicate = false;
    if (e.key) {
      if (auto it = key_seq_.find(*e.key); it != key_seq_.end()) {
        original = it->second;
        // Fewer than a generation's worth of keys since: still remembered.
        auto later = keyed_seqs_.end() -
                     std::upper_bound(keyed_seqs_.begin(), keyed_seqs_.end(), it->second);
        must_be_duplicate = static_cast<size_t>(later) < kGenerationKeys;
      }
    }
    if (got.duplicate) {
      RC_ASSERT(original.has_value());
      RC_ASSERT(got.sequence == *original);
      return;
    }
    RC_ASSERT(!must_be_duplicate);
    RC_ASSERT(got.sequence == next);
    store(e, next);
  }

  void store(const Event& e, uint64_t seq) {
    records_[seq] = e;
    if (e.key) {
      key_seq_[*e.key] = seq;
      keyed_seqs_.push_back(seq);
    }
  }

  void send(const Event& e) {
    Result<AppendResult> got = wal_->append(request(e));
    RC_ASSERT(got.ok());
    check_answer(e, *got);
  }

  void send_batch(const Op& op) {
    std::vector<Event> events;
    size_t n = 1 + op.pick % 5;
    for (size_t i = 0; i < n; ++i)
      events.push_back(fresh_event((op.size + i * 37) % 301, op.keyed));
    if (op.keyed && op.pick % 3 == 0) events.push_back(events.front());  // a retry inside
    std::vector<AppendRequest> reqs;
    for (const Event& e : events) reqs.push_back(request(e));
    Result<std::vector<AppendResult>> got = wal_->append_batch(reqs);
    RC_ASSERT(got.ok());
    RC_ASSERT(got->size() == events.size());
    for (size_t i = 0; i < events.size(); ++i) check_answer(events[i], (*got)[i]);
  }

  void checkpoint(uint32_t pick) {
    uint64_t last = records_.empty() ? 0 : records_.rbegin()->first;
    uint64_t cp = last == 0 ? 0 : pick % (last + 1);
    RC_ASSERT(wal_->checkpoint(cp).ok());
    checkpoint_ = std::max(checkpoint_, cp);
    RC_ASSERT(wal_->checkpoint_sequence() == checkpoint_);
    // Only records at or below the checkpoint may have been deleted.
    RC_ASSERT(wal_->first_retained_sequence() <= checkpoint_ + 1);
    RC_ASSERT(wal_->checkpoint(last + 1).code() == StatusCode::kInvalidArgument);
  }

  void crash(const Op& op) {
    ++crashes_;
    std::vector<std::string> before = testing::segment_paths(dir_.str());
    const std::string acked_file = before.back();
    const uint64_t acked_end = std::filesystem::file_size(acked_file);
    const uint64_t last_acked = records_.empty() ? 0 : records_.rbegin()->first;

    std::vector<Event> in_flight;
    for (int i = 0; i < op.in_flight; ++i) {
      in_flight.push_back(fresh_event((op.size + static_cast<size_t>(i) * 53) % 301, op.keyed));
      Result<AppendResult> got = wal_->append(request(in_flight.back()));
      RC_ASSERT(got.ok());
      RC_ASSERT(!got->duplicate);
      RC_ASSERT(got->sequence == last_acked + 1 + static_cast<uint64_t>(i));
    }
    RC_ASSERT(wal_->close().ok());
    wal_.reset();
    const std::string active = testing::segment_paths(dir_.str()).back();
    const uint64_t size = std::filesystem::file_size(active);
    const uint64_t from = active == acked_file ? acked_end : 0;
    RC_ASSERT(size >= from);
    std::filesystem::resize_file(active, from + op.cut % (size - from + 1));

    reopen();
    // Acknowledged records all there; of the in-flight ones, a whole prefix.
    const uint64_t last = wal_->last_sequence();
    RC_ASSERT(last >= last_acked);
    RC_ASSERT(last <= last_acked + in_flight.size());
    for (uint64_t s = last_acked + 1; s <= last; ++s) store(in_flight[s - last_acked - 1], s);
    check_replay();
  }

  void check_replay() {
    const uint64_t first = wal_->first_retained_sequence();
    auto got = testing::replay_records(*wal_, first);
    RC_ASSERT(got.ok());
    auto want = records_.lower_bound(first);
    for (const Record& r : *got) {
      RC_ASSERT(want != records_.end());
      RC_ASSERT(r.sequence == want->first);
      const Event& e = want->second;
      RC_ASSERT(r.type == e.type);
      RC_ASSERT(to_micros(r.timestamp) == e.ts);
      RC_ASSERT(r.payload == e.payload);
      RC_ASSERT(r.dedup_key == e.key);
      ++want;
    }
    RC_ASSERT(want == records_.end());
    if (first > 1) {
      RC_ASSERT(wal_->replay(first - 1, [](const FrameView&) { return Status::Ok(); }).code() ==
                StatusCode::kNotFound);
    }
  }

  testing::TempDir dir_;
  Durability durability_;
  uint64_t segment_bytes_;
  std::unique_ptr<Wal> wal_;
  uint64_t next_event_ = 1;
  uint64_t checkpoint_ = 0;
  uint64_t crashes_ = 0;
  std::map<uint64_t, Event> records_;     // what the WAL must hold, by sequence
  std::map<DedupKey, uint64_t> key_seq_;  // latest stored sequence of each key
  std::vector<uint64_t> keyed_seqs_;      // sequences of stored keyed records, ascending
  std::vector<Event> sent_keyed_;         // every keyed event sent, for retries
};

RC_GTEST_PROP(WalProp, ReplaysExactlyTheAcknowledgedRecords, ()) {
  auto ops = *rc::gen::resize(60, rc::gen::container<std::vector<Op>>(gen_op()));
  auto segment_bytes = *rc::gen::element<uint64_t>(1024, 4096, 16384);
  WalModelRun(Durability::kBatch, segment_bytes).run(ops);
}

// Runs a property with its own case count and size, whatever RC_PARAMS asks
// for the cheap properties (the seed still comes from RC_PARAMS).
template <typename Testable>
void check_cases(int max_success, bool shrink, Testable&& testable) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = max_success;
  params.disableShrinking = !shrink;
  rc::detail::TestResult result = rc::detail::checkTestable(std::forward<Testable>(testable),
                                                            rc::detail::TestMetadata(), params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << message.str();
}

// The 10,000-event run, with many crash points along the way.
TEST(WalPropTest, TenThousandEventsWithCrashPoints) {
  // Shrinking 10,000 operations would take hours; the small properties shrink.
  check_cases(1, /*shrink=*/false, [] {
    auto ops = *rc::gen::resize(100, rc::gen::container<std::vector<Op>>(10'000, gen_op()));
    WalModelRun run(Durability::kBatch, 16384);
    run.run(ops);
    RC_ASSERT(run.crashes() >= 100);
    std::printf("wal prop: %zu events, %llu crash points, %llu records stored\n", ops.size(),
                static_cast<unsigned long long>(run.crashes()),
                static_cast<unsigned long long>(run.stored()));
  });
}

// Fewer, smaller cases with fsync durability: the same guarantees hold.
TEST(WalPropTest, FsyncModeReplaysExactlyTheAcknowledgedRecords) {
  check_cases(15, /*shrink=*/true, [] {
    auto ops = *rc::gen::resize(40, rc::gen::container<std::vector<Op>>(gen_op()));
    WalModelRun(Durability::kFsync, 2048).run(ops);
  });
}

}  // namespace
}  // namespace tidal::wal
