// RocksDbEngine beyond the shared contract: persistence across reopen and
// across a crash, and its errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "storage/rocksdb_engine.h"
#include "support/storage_testing.h"

namespace tidal {
namespace {

using namespace std::string_literals;
using testing::KeyValues;
using testing::scan_all;
using testing::small_rocksdb_options;

constexpr const char* kCrashChildEnv = "TIDAL_STORAGE_CRASH_CHILD_DIR";

// The crash test re-executes this binary with kCrashChildEnv set. The child
// does its writes in this environment's SetUp (after main() has started, so
// that the statically linked RocksDB is initialized), then exits without
// closing RocksDB: as close to a crash as a test gets without killing itself.
// A plain fork() would not do: RocksDB's background thread pool does not
// survive fork().
class CrashChild : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* dir = std::getenv(kCrashChildEnv);
    if (dir == nullptr) return;
    auto engine = RocksDbEngine::open(dir, small_rocksdb_options());
    if (!engine.ok()) std::_Exit(2);
    StorageEngine& e = **engine;
    bool ok = e.put(Keyspace::kEntities, "derived-flushed", "1").ok() && e.flush().ok() &&
              e.put(Keyspace::kMeta, "durable", "2", WriteMode::kDurable).ok() &&
              e.put(Keyspace::kEntities, "derived-unflushed", "3").ok();
    WriteBatch b;
    b.put(Keyspace::kSignals, "batch-1", "4");
    b.put(Keyspace::kEvents, "batch-2", "5");
    ok = ok && e.write(b, WriteMode::kDurable).ok();
    std::_Exit(ok ? 0 : 3);  // no destructor: RocksDB is not closed
  }
};
[[maybe_unused]] ::testing::Environment* const kCrashChild =
    ::testing::AddGlobalTestEnvironment(new CrashChild);

std::unique_ptr<RocksDbEngine> open_or_die(const std::string& dir) {
  auto r = RocksDbEngine::open(dir, small_rocksdb_options());
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(StorageRocksDb, DerivedWritesSurviveReopenAfterFlush) {
  testing::TempDir tmp;
  std::string dir = tmp.sub("db");
  KeyValues expected;
  {
    auto engine = open_or_die(dir);
    ASSERT_NE(engine, nullptr);
    for (int i = 0; i < 1000; ++i) {
      std::string k = "k"s + static_cast<char>(i >> 8) + static_cast<char>(i);
      ASSERT_TRUE(engine->put(Keyspace::kEntities, k, std::to_string(i)).ok());
    }
    WriteBatch b;
    b.delete_range(Keyspace::kEntities, "k\x01"s, "k\x03"s);
    b.put(Keyspace::kMeta, "seq", "42");
    ASSERT_TRUE(engine->write(b).ok());
    ASSERT_TRUE(engine->flush().ok());
    expected = scan_all(*engine, Keyspace::kEntities);
    ASSERT_EQ(expected.size(), 1000u - 512u);
  }
  auto engine = open_or_die(dir);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(scan_all(*engine, Keyspace::kEntities), expected);
  EXPECT_EQ(*engine->get(Keyspace::kMeta, "seq"), "42");
}

TEST(StorageRocksDb, CrashKeepsDurableWritesAndFlushedDerivedWrites) {
  testing::TempDir tmp;
  std::string dir = tmp.sub("db");
  // Everything the child needs is prepared before fork(): between fork() and
  // exec() only async-signal-safe calls are allowed.
  std::vector<std::string> env_strings = {std::string(kCrashChildEnv) + "=" + dir};
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  // Environments are set up only when some test is selected; any will do.
  const char* filter = "--gtest_filter=StorageKeyspace.NamesAreStable";
  int devnull = ::open("/dev/null", O_WRONLY);
  ASSERT_GE(devnull, 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(devnull, STDOUT_FILENO);
    execle("/proc/self/exe", "/proc/self/exe", filter, static_cast<char*>(nullptr), envp.data());
    _exit(127);
  }
  ::close(devnull);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto engine = open_or_die(dir);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(*engine->get(Keyspace::kEntities, "derived-flushed"), "1");
  EXPECT_EQ(*engine->get(Keyspace::kMeta, "durable"), "2");
  EXPECT_EQ(*engine->get(Keyspace::kSignals, "batch-1"), "4");
  EXPECT_EQ(*engine->get(Keyspace::kEvents, "batch-2"), "5");
  // "derived-unflushed" may or may not be there: the contract makes no promise.
}

TEST(StorageRocksDb, MissingDatabaseWithoutCreateIsNotFound) {
  testing::TempDir tmp;
  RocksDbOptions o = small_rocksdb_options();
  o.create_if_missing = false;
  auto r = RocksDbEngine::open(tmp.sub("absent"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().to_string();
  EXPECT_EQ(r.status().subsystem(), Subsystem::kStorage);
  EXPECT_NE(r.status().message().find(tmp.sub("absent")), std::string::npos);
}

TEST(StorageRocksDb, SecondOpenOfSameDatabaseIsBusy) {
  testing::TempDir tmp;
  auto first = open_or_die(tmp.sub("db"));
  ASSERT_NE(first, nullptr);
  auto second = RocksDbEngine::open(tmp.sub("db"), small_rocksdb_options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy) << second.status().to_string();
}

TEST(StorageRocksDb, OpenFailureNamesTheDirectory) {
  testing::TempDir tmp;
  std::string file = tmp.sub("file");
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto r = RocksDbEngine::open(file + "/db", small_rocksdb_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().to_string();
  EXPECT_NE(r.status().message().find("open RocksDB at " + file + "/db"), std::string::npos)
      << r.status().to_string();
}

TEST(StorageRocksDb, DeleteRangeToEndSurvivesReopen) {
  testing::TempDir tmp;
  std::string dir = tmp.sub("db");
  {
    auto engine = open_or_die(dir);
    ASSERT_NE(engine, nullptr);
    for (std::string k : {"a"s, "m"s, "\xff\xff"s})
      ASSERT_TRUE(engine->put(Keyspace::kEvents, k, "v").ok());
    ASSERT_TRUE(engine->flush().ok());
    WriteBatch b;
    b.delete_range(Keyspace::kEvents, "b", "");
    ASSERT_TRUE(engine->write(b).ok());
    ASSERT_TRUE(engine->flush().ok());
  }
  auto engine = open_or_die(dir);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(scan_all(*engine, Keyspace::kEvents), (KeyValues{{"a", "v"}}));
}

}  // namespace
}  // namespace tidal
