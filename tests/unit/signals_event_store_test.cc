#include <gtest/gtest.h>

#include "signals/event_store.h"
#include "storage/memory_engine.h"

namespace tidal::signals {
namespace {

struct Applier {
  EventStore& store;
  Status apply(uint64_t seq, uint32_t item, int64_t t_us, const std::string& user) {
    apply::SignalRecord e;
    e.signal = static_cast<uint16_t>(seq % 3);
    e.item = "ignored";
    e.user = user;
    e.time_us = t_us;
    e.value = static_cast<double>(seq) / 2;
    apply::AppliedRecord r;
    r.type = wal::RecordType::kSignalEvent;
    r.sequence = seq;
    r.signal = &e;
    r.item = item;
    return store.apply(r);
  }
};

std::vector<EventStore::StoredEvent> read_all(EventStore& store, uint64_t from = 0) {
  std::vector<EventStore::StoredEvent> out;
  Status s = store.scan(from, [&](const EventStore::StoredEvent& e) {
    out.push_back(e);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

TEST(EventStoreTest, KeepsEveryEventInWalOrder) {
  MemoryEngine engine;
  EventStore store(&engine);
  Applier a{store};
  const uint64_t n = EventStore::kBatchEvents * 2 + 17;  // two full blocks and a partial one
  for (uint64_t seq = 1; seq <= n; ++seq) {
    ASSERT_TRUE(a.apply(seq, static_cast<uint32_t>(seq % 11), 1000 + int64_t(seq), "u").ok());
  }
  std::vector<EventStore::StoredEvent> all = read_all(store);
  ASSERT_EQ(all.size(), n);
  for (uint64_t i = 0; i < n; ++i) {
    EXPECT_EQ(all[i].sequence, i + 1);
    EXPECT_EQ(all[i].item, (i + 1) % 11);
    EXPECT_EQ(all[i].signal, (i + 1) % 3);
    EXPECT_EQ(all[i].time_us, 1001 + int64_t(i));
    EXPECT_EQ(all[i].value, double(i + 1) / 2);
  }
  EXPECT_EQ(read_all(store, n - 4).size(), 5u);
}

TEST(EventStoreTest, ReplayedBlocksOverlappingEarlierOnesAreReadOnce) {
  MemoryEngine engine;
  {
    EventStore store(&engine);
    Applier a{store};
    for (uint64_t seq = 1; seq <= 100; ++seq) ASSERT_TRUE(a.apply(seq, 1, 5, "").ok());
    ASSERT_TRUE(store.drain().ok());  // block [1, 100] stored
    for (uint64_t seq = 101; seq <= 150; ++seq) ASSERT_TRUE(a.apply(seq, 2, 6, "x").ok());
  }  // block [101, 150] stored at destruction
  {
    // A restart whose checkpoint was at 60 replays 61..200 into new blocks
    // that overlap both stored ones.
    EventStore store(&engine);
    Applier a{store};
    for (uint64_t seq = 61; seq <= 200; ++seq) ASSERT_TRUE(a.apply(seq, 3, 7, "y").ok());
    std::vector<EventStore::StoredEvent> all = read_all(store);
    ASSERT_EQ(all.size(), 200u);
    for (uint64_t i = 0; i < 200; ++i) EXPECT_EQ(all[i].sequence, i + 1);
  }
}

}  // namespace
}  // namespace tidal::signals
