// Faults: writes, syncs and renames that fail at chosen points (through
// crash/fault_injection.h, which sits under both our WAL and RocksDB), and a
// real full disk (a small tmpfs, when the test may mount one). After each
// fault the database keeps serving reads and either refuses writes with a
// clear error or fails the operation cleanly — never aborts — and once the
// fault clears, every acknowledged write is there and nothing refused was
// applied, across a clean reopen and a simulated kill -9.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "crash/fault_injection.h"
#include "db/database_impl.h"
#include "query/parser.h"
#include "server/api.h"
#include "support/test_support.h"

namespace tidal {
namespace {

namespace fs = std::filesystem;
using testing::FaultOp;
using testing::FaultRule;
using testing::Faults;

Schema fault_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(
      EntityKind::kItem,
      {.name = "version", .type = AttributeType::kInt, .filterable = true, .sortable = true});
  b.add_attribute(EntityKind::kItem, {.name = "title", .type = AttributeType::kText});
  return b.build().value();
}

DatabaseOptions fault_options() {
  DatabaseOptions o;
  o.durability = Durability::kFsync;
  o.background_checkpoints = false;
  o.sweep_interval = Duration(0);
  o.wal_segment_bytes = 4 << 10;  // segments roll, so a checkpoint deletes old ones
  return o;
}

// A database in a temp folder, with what was acknowledged to it.
class Fixture : public ::testing::Test {
 protected:
  void TearDown() override { Faults::disarm(); }

  void open() {
    db_ = std::make_unique<Database::Impl>(fault_options(), fault_schema());
    Status st = db_->open(dir_.str(), fault_schema());
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  void reopen() {
    Status st = db_->close();
    ASSERT_TRUE(st.ok()) << st.to_string();
    db_.reset();
    open();
  }
  void crash_and_reopen() {
    db_->crash_for_testing();
    db_.reset();
    open();
  }

  // Upserts `key` at `version`; records it when acknowledged.
  Status upsert(const std::string& key, int64_t version) {
    EntityWrite w{.kind = EntityKind::kItem, .key = key};
    w.attributes.push_back({"version", version});
    w.attributes.push_back({"title", std::string(200, 'x') + " item " + key});
    BatchIngestResult r = db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid);
    if (r.errors[0].ok()) acked_[key] = version;
    return r.errors[0];
  }

  Status event(const std::string& item, const std::string& idempotency_key) {
    SignalEvent e{.item = item, .user = "u", .signal = "like"};
    e.idempotency_key = idempotency_key;
    BatchIngestResult r = db_->ingest(std::span<const SignalEvent>(&e, 1), BatchMode::kApplyValid);
    if (r.errors[0].ok() && !r.results[0].duplicate) ++likes_[item];
    return r.errors[0];
  }

  // Every acknowledged write is there, with its version, and every like.
  void expect_acknowledged() {
    for (const auto& [key, version] : acked_) {
      Result<Entity> e = db_->get(EntityKind::kItem, key);
      ASSERT_TRUE(e.ok()) << key << ": " << e.status().to_string();
      bool found = false;
      for (const Attribute& a : e->attributes) {
        if (a.name == "version") {
          EXPECT_EQ(std::get<int64_t>(a.value), version) << key;
          found = true;
        }
      }
      EXPECT_TRUE(found) << key;
    }
    for (const auto& [item, n] : likes_) {
      Result<ItemSignals> s = db_->item_signals(item);
      ASSERT_TRUE(s.ok()) << item;
      for (const SignalSnapshot& snap : s->signals) {
        if (snap.signal == "like") {
          EXPECT_EQ(snap.windows[0].count, n) << item;
        }
      }
    }
  }

  void expect_reads_work() {
    EXPECT_TRUE(db_->get(EntityKind::kItem, acked_.begin()->first).ok());
    Result<query::Statement> q = query::parse("RANK items BY version LIMIT 5");
    ASSERT_TRUE(q.ok());
    Result<QueryResult> r = db_->query(*q, QueryOptions{});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_FALSE(r->rows.empty());
  }

  testing::TempDir dir_;
  std::unique_ptr<Database::Impl> db_;
  std::map<std::string, int64_t> acked_;
  std::map<std::string, uint64_t> likes_;
};

uint64_t wal_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir + "/wal")) {
    if (e.path().extension() == ".wal") n += e.file_size();
  }
  return n;
}

TEST_F(Fixture, WalWriteOnAFullDiskIsRolledBackAndWritesResumeWhenSpaceReturns) {
  open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(upsert("item_" + std::to_string(i), 1).ok());
  const uint64_t before = wal_bytes(dir_.str());

  // The next WAL write gets half its bytes out, then the disk is full.
  Faults::arm({.op = FaultOp::kWrite, .path = "/wal/", .err = ENOSPC, .partial = true});
  Status st = upsert("item_0", 2);
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.to_string();
  EXPECT_NE(st.message().find("No space left on device"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("not written"), std::string::npos) << st.message();
  st = event("item_1", "retry-me");
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.to_string();
  // The partial frame was cut off again.
  EXPECT_EQ(wal_bytes(dir_.str()), before);

  DatabaseHealth h = db_->health();
  EXPECT_FALSE(h.ok());
  EXPECT_TRUE(h.writable);  // writes are taken, and fail while the disk is full
  EXPECT_EQ(h.write_failure.code(), StatusCode::kNoSpace);
  expect_reads_work();

  Faults::disarm();  // space was freed
  ASSERT_TRUE(upsert("item_0", 3).ok());
  EXPECT_TRUE(db_->health().ok());
  // The refused event's idempotency key was forgotten with it: the retry applies.
  ASSERT_TRUE(event("item_1", "retry-me").ok());
  EXPECT_EQ(likes_["item_1"], 1u);
  EXPECT_EQ(event("item_1", "retry-me").code(), StatusCode::kOk);
  EXPECT_EQ(likes_["item_1"], 1u);  // now a duplicate
  expect_acknowledged();
  reopen();
  expect_acknowledged();
  crash_and_reopen();
  expect_acknowledged();
}

TEST_F(Fixture, TheDiskProbeClearsAWriteFailureWithoutAWrite) {
  open();
  ASSERT_TRUE(upsert("item_0", 1).ok());
  Faults::arm({.op = FaultOp::kWrite, .path = "/wal/", .err = ENOSPC});
  EXPECT_EQ(upsert("item_0", 2).code(), StatusCode::kNoSpace);
  db_->wal()->probe();  // the disk is still full
  for (int i = 0; i < 100 && db_->health().write_failure.ok(); ++i) usleep(10'000);
  EXPECT_EQ(db_->health().write_failure.code(), StatusCode::kNoSpace);
  Faults::disarm();
  db_->wal()->probe();
  bool cleared = false;
  for (int i = 0; i < 300 && !cleared; ++i) {
    cleared = db_->health().ok();
    if (!cleared) usleep(10'000);
  }
  EXPECT_TRUE(cleared);
  expect_acknowledged();
  reopen();
  expect_acknowledged();
}

TEST_F(Fixture, AFailedWalSyncMakesTheOutcomeUnknownAndStopsWrites) {
  open();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(upsert("item_" + std::to_string(i), 1).ok());
  Faults::arm({.op = FaultOp::kSync, .path = "/wal/", .err = EIO, .times = 1});
  Status st = event("item_3", "unknown-1");
  EXPECT_EQ(st.code(), StatusCode::kOutcomeUnknown) << st.to_string();
  EXPECT_NE(st.message().find("idempotency key"), std::string::npos) << st.message();
  Faults::disarm();

  DatabaseHealth h = db_->health();
  EXPECT_FALSE(h.writable);
  EXPECT_FALSE(h.write_failure.ok());
  st = upsert("item_0", 2);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.to_string();
  expect_reads_work();
  // Closing says why it could not finish, and does not crash.
  EXPECT_FALSE(db_->close().ok());
  db_.reset();

  // The reopened database decides: the record reached the file, so it is kept,
  // and the retry with the same idempotency key is a duplicate.
  open();
  expect_acknowledged();
  Result<ItemSignals> s = db_->item_signals("item_3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->signals[1].windows[0].count, 1u);  // like
  SignalEvent retry{.item = "item_3", .user = "u", .signal = "like"};
  retry.idempotency_key = "unknown-1";
  BatchIngestResult r =
      db_->ingest(std::span<const SignalEvent>(&retry, 1), BatchMode::kApplyValid);
  ASSERT_TRUE(r.errors[0].ok()) << r.errors[0].to_string();
  EXPECT_TRUE(r.results[0].duplicate);
}

// The bug this pins: a checkpoint whose batch never reached storage had
// already forgotten which entities and scores changed, so the next
// checkpoint claimed a later sequence without them, the WAL behind it was
// deleted, and a restart lost acknowledged writes.
TEST_F(Fixture, AFailedCheckpointLosesNothingWhenTheNextOneSucceeds) {
  open();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(upsert("item_" + std::to_string(i), 1).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(event("item_" + std::to_string(i), "").ok());
  ASSERT_TRUE(db_->checkpoint().ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(upsert("item_" + std::to_string(i), 2).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(event("item_" + std::to_string(i), "").ok());

  // RocksDB cannot write its files: the checkpoint fails, cleanly.
  Faults::arm({.op = FaultOp::kWrite, .path = "/storage/", .err = ENOSPC});
  Status st = db_->checkpoint();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.to_string();
  EXPECT_NE(st.message().find("still in the WAL"), std::string::npos) << st.message();
  EXPECT_EQ(db_->health().checkpoint_failure.code(), StatusCode::kNoSpace);
  // The WAL is fine: writes go on, reads too.
  ASSERT_TRUE(upsert("item_50", 1).ok());
  ASSERT_TRUE(event("item_50", "").ok());
  expect_reads_work();
  EXPECT_FALSE(db_->checkpoint().ok());

  Faults::disarm();
  st = db_->checkpoint();
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(db_->health().ok());
  // The WAL before the checkpoint is gone: a restart reads the storage.
  crash_and_reopen();
  expect_acknowledged();
  // The cold tier kept every event too.
  uint64_t stored = 0;
  {
    WriterLock lk(db_->state_mutex());
    ASSERT_TRUE(db_->event_store()
                    ->scan(0,
                           [&](const signals::EventStore::StoredEvent&) {
                             ++stored;
                             return Status::Ok();
                           })
                    .ok());
  }
  EXPECT_EQ(stored, 21u);
}

TEST_F(Fixture, AFailedRenameOfTheWalCheckpointFileFailsTheCheckpointOnly) {
  open();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(upsert("item_" + std::to_string(i), 1).ok());
  Faults::arm({.op = FaultOp::kRename, .path = "CHECKPOINT", .err = EIO, .times = 1});
  EXPECT_FALSE(db_->checkpoint().ok());
  ASSERT_TRUE(upsert("item_30", 1).ok());
  EXPECT_TRUE(db_->checkpoint().ok());
  crash_and_reopen();
  expect_acknowledged();
}

TEST_F(Fixture, ClosingOnAFullDiskFailsCleanlyAndAReopenHasEverything) {
  open();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(upsert("item_" + std::to_string(i), 1).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(event("item_" + std::to_string(i), "").ok());
  Faults::arm({.op = FaultOp::kWrite, .path = dir_.str(), .err = ENOSPC});
  Status st = db_->close();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.to_string();
  db_.reset();  // RocksDB's own close on a full disk must not abort either

  // Opening on a full disk fails with a clear error, or works read-mostly.
  {
    auto db = std::make_unique<Database::Impl>(fault_options(), fault_schema());
    Status opened = db->open(dir_.str(), fault_schema());
    if (!opened.ok()) {
      EXPECT_EQ(opened.code(), StatusCode::kNoSpace) << opened.to_string();
    }
  }
  // Reading the stored schema writes nothing.
  EXPECT_TRUE(Database::stored_schema(dir_.str()).ok());
  Faults::disarm();
  open();
  expect_acknowledged();
}

// The HTTP API over a database in a temp folder, called directly.
// A schema change whose store failed (storage refusing writes) is still in
// the WAL: after a crash, the folder opens with the schema stored before it
// and replay applies the change — attributes, signal types and the data
// written under them.
TEST_F(Fixture, ASchemaChangeTheStoreMissedIsReplayedFromTheWal) {
  open();
  Faults::arm({.op = FaultOp::kWrite, .path = "/storage/", .err = ENOSPC});
  Result<Schema> changed = db_->change_schema([](SchemaBuilder& b) {
    b.add_attribute(EntityKind::kItem,
                    {.name = "mood", .type = AttributeType::kKeyword, .filterable = true});
  });
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  changed = db_->change_schema(
      [](SchemaBuilder& b) { b.add_signal({.name = "save", .half_life = std::chrono::hours(1)}); });
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EntityWrite w{.kind = EntityKind::kItem, .key = "calm1"};
  w.attributes.push_back({"mood", std::string("calm")});
  ASSERT_TRUE(
      db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid).errors[0].ok());
  SignalEvent e{.item = "calm1", .user = "u", .signal = "save"};
  ASSERT_TRUE(
      db_->ingest(std::span<const SignalEvent>(&e, 1), BatchMode::kApplyValid).errors[0].ok());
  Faults::disarm();
  db_->crash_for_testing();
  db_.reset();
  Result<Schema> before = Database::stored_schema(dir_.str());
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_EQ(before->version(), 1u);  // the store missed both changes
  open();                            // given the schema the folder was created with
  EXPECT_EQ(db_->schema().version(), 3u);
  EXPECT_NE(db_->schema().find_attribute(EntityKind::kItem, "mood"), nullptr);
  Result<uint64_t> calm = db_->count(EntityKind::kItem, Filter::eq("mood", "calm"));
  ASSERT_TRUE(calm.ok()) << calm.status().to_string();
  EXPECT_EQ(*calm, 1u);
  Result<ItemSignals> signals = db_->item_signals("calm1");
  ASSERT_TRUE(signals.ok()) << signals.status().to_string();
  bool saved = false;
  for (const SignalSnapshot& snap : signals->signals)
    saved = saved || (snap.signal == "save" && snap.decayed > 0);
  EXPECT_TRUE(saved);
  // A checkpoint stores it: the next open reads it from storage.
  ASSERT_TRUE(db_->checkpoint().ok());
  ASSERT_TRUE(db_->close().ok());
  db_.reset();
  Result<Schema> stored = Database::stored_schema(dir_.str());
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  EXPECT_EQ(stored->version(), 3u);
}

class FaultHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ApiOptions options;
    options.open_access = true;
    auto db = Database::open(dir_.str(), fault_schema(), fault_options());
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = db->get();
    api_ = std::make_unique<server::Api>(std::move(db).value(), options, server::KeyStore());
  }
  void TearDown() override { Faults::disarm(); }
  Database& db() { return *db_; }

  server::HttpResponse send(std::string_view method, std::string_view target,
                            std::string_view body = {}) {
    server::HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    server::HttpResponse res;
    api_->handle(req, &res);
    return res;
  }

  testing::TempDir dir_;
  std::unique_ptr<server::Api> api_;
  Database* db_ = nullptr;  // owned by api_
};

// Over HTTP: a write the disk refuses is the server's fault (5xx), batch
// routes included — a client that retries on 5xx must not drop them — and
// /health says so until writes work again.
TEST_F(FaultHttp, DiskFailuresAreServerErrorsOnEveryWriteRoute) {
  ASSERT_EQ(send("PUT", "/v1/items/a", R"({"attributes": {"version": 1}})").status, 200u);

  Faults::arm({.op = FaultOp::kWrite, .path = "/wal/", .err = ENOSPC});
  struct Case {
    const char* method;
    const char* target;
    const char* body;
  };
  for (
      const Case& c : {
          Case{"POST", "/v1/events", R"({"item": "a", "signal": "like"})"},
          Case{"POST", "/v1/events/batch", R"({"events": [{"item": "a", "signal": "like"}]})"},
          // An invalid entry beside one the disk refused: still a 5xx.
          Case{"POST", "/v1/events/batch",
               R"({"events": [{"item": "a", "signal": "nope"}, {"item": "a", "signal": "like"}]})"},
          Case{"POST", "/v1/events/bulk", "{\"item\": \"a\", \"signal\": \"like\"}\n"},
          Case{"PUT", "/v1/items/b", R"({"attributes": {"version": 1}})"},
          Case{"POST", "/v1/items/batch", R"({"items": [{"key": "c", "attributes": {}}]})"},
          Case{
              "POST", "/v1/relationships/batch",
              R"({"relationships": [{"user": "u", "relation": "follow", "target_kind": "creator", "target": "c"}]})"},
          Case{"POST", "/v1/present", R"({"mode": "historical"})"},
      }) {
    server::HttpResponse res = send(c.method, c.target, c.body);
    EXPECT_EQ(res.status, 507u) << c.method << " " << c.target << " -> " << res.body;
    EXPECT_NE(res.body.find("\"no_space\""), std::string::npos) << res.body;
  }
  server::HttpResponse health = send("GET", "/health");
  EXPECT_EQ(health.status, 503u) << health.body;
  EXPECT_NE(health.body.find("\"degraded\""), std::string::npos) << health.body;
  EXPECT_EQ(send("GET", "/v1/items/a").status, 200u);  // reads work

  Faults::disarm();
  EXPECT_EQ(send("POST", "/v1/events", R"({"item": "a", "signal": "like"})").status, 200u);
  EXPECT_EQ(send("GET", "/health").status, 200u);
  ASSERT_TRUE(api_->close().ok());
}

// A schema change is a WAL record. On a full disk it used to close the
// database and leave it closed (every write then got 409 while /health said
// "ok"). With storage failing it is still durable (the WAL holds it) and in
// force at once; the next checkpoint that succeeds stores it.
TEST_F(FaultHttp, ASchemaChangeOnAFullStorageDiskIsInForceAndStoredLater) {
  ASSERT_EQ(send("PUT", "/v1/items/a", R"({"attributes": {"version": 1}})").status, 200u);
  Faults::arm({.op = FaultOp::kWrite, .path = "/storage/", .err = ENOSPC});
  server::HttpResponse migrate = send("POST", "/v1/schema/attributes",
                                      R"({"kind": "item", "name": "mood", "type": "keyword"})");
  EXPECT_EQ(migrate.status, 200u) << migrate.body;
  EXPECT_NE(migrate.body.find("\"mood\""), std::string::npos) << migrate.body;
  EXPECT_EQ(send("PUT", "/v1/items/b", R"({"attributes": {"mood": "calm"}})").status, 200u);
  EXPECT_EQ(send("GET", "/v1/schema").body, migrate.body);
  EXPECT_FALSE(db().checkpoint().ok());
  server::HttpResponse health = send("GET", "/health");
  EXPECT_EQ(health.status, 503u) << health.body;  // checkpoints fail
  EXPECT_NE(health.body.find("\"writable\":true"), std::string::npos) << health.body;
  Faults::disarm();
  ASSERT_TRUE(db().checkpoint().ok());
  EXPECT_EQ(send("GET", "/health").status, 200u);
  ASSERT_TRUE(api_->close().ok());
  Result<Schema> stored = Database::stored_schema(dir_.str());
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  EXPECT_NE(stored->find_attribute(EntityKind::kItem, "mood"), nullptr);
}

// When the WAL cannot take the record, the change is not made: the schema
// stays as it was.
TEST_F(FaultHttp, ASchemaChangeTheWalCannotTakeIsNotMade) {
  const std::string before = send("GET", "/v1/schema").body;
  Faults::arm({.op = FaultOp::kWrite, .path = "/wal/", .err = ENOSPC});
  server::HttpResponse migrate = send("POST", "/v1/schema/attributes",
                                      R"({"kind": "item", "name": "mood", "type": "keyword"})");
  EXPECT_EQ(migrate.status, 507u) << migrate.body;
  Faults::disarm();
  EXPECT_EQ(send("GET", "/v1/schema").body, before);
  ASSERT_TRUE(api_->close().ok());
  Result<Schema> stored = Database::stored_schema(dir_.str());
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  EXPECT_EQ(stored->find_attribute(EntityKind::kItem, "mood"), nullptr);
}

// A real full disk: a 24 MiB tmpfs, filled by the database itself. Needs
// root (mount); skipped otherwise.
class TmpfsFixture : public Fixture {
 protected:
  void SetUp() override {
    if (!disk_.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  }
  void TearDown() override {
    db_.reset();
    Fixture::TearDown();
  }
  void open_here() {
    DatabaseOptions o = fault_options();
    o.wal_segment_bytes = 1 << 20;
    db_ = std::make_unique<Database::Impl>(o, fault_schema());
    Status st = db_->open(disk_.sub("data"), fault_schema());
    ASSERT_TRUE(st.ok()) << st.to_string();
  }

  testing::TmpfsMount disk_{"24m"};
};

TEST_F(TmpfsFixture, AFullDiskRefusesWritesKeepsReadsAndRecoversWithoutARestart) {
  open_here();
  // Room to give back later.
  {
    std::ofstream filler(disk_.sub("filler"), std::ios::binary);
    std::string mb(1 << 20, 'f');
    for (int i = 0; i < 4; ++i) filler << mb;
  }
  // Items with 4 KB titles until the disk is full.
  Status last;
  int written = 0;
  for (int i = 0; i < 20000; ++i) {
    EntityWrite w{.kind = EntityKind::kItem, .key = "item_" + std::to_string(i)};
    w.attributes.push_back({"version", int64_t{1}});
    w.attributes.push_back({"title", std::string(4096, 'a' + i % 26)});
    BatchIngestResult r = db_->upsert(std::span<const EntityWrite>(&w, 1), BatchMode::kApplyValid);
    last = r.errors[0];
    if (!last.ok()) break;
    acked_[w.key] = 1;
    ++written;
  }
  ASSERT_FALSE(last.ok()) << "the disk never filled after " << written << " items";
  EXPECT_EQ(last.code(), StatusCode::kNoSpace) << last.to_string();
  EXPECT_FALSE(db_->health().ok());
  expect_reads_work();
  // A checkpoint fails, and says why.
  Status cp = db_->checkpoint();
  EXPECT_FALSE(cp.ok());
  EXPECT_EQ(cp.code(), StatusCode::kNoSpace) << cp.to_string();

  // Space is freed: writes, checkpoints and health come back.
  fs::remove(disk_.sub("filler"));
  db_->wal()->probe();
  ASSERT_TRUE(upsert("after_the_full_disk", 7).ok());
  cp = db_->checkpoint();
  EXPECT_TRUE(cp.ok()) << cp.to_string();
  EXPECT_TRUE(db_->health().ok());
  Status closed = db_->close();
  EXPECT_TRUE(closed.ok()) << closed.to_string();
  db_.reset();
  open_here();
  expect_acknowledged();
}

}  // namespace
}  // namespace tidal
