#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/data_folder.h"
#include "support/storage_testing.h"

namespace tidal {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::unique_ptr<DataFolder> open_or_die(const std::string& path, DataFolderOptions opts = {}) {
  auto r = DataFolder::open(path, opts);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Expects `r` to fail with `code` and a message containing `text`.
template <typename T>
void expect_error(const Result<T>& r, StatusCode code, const std::string& text) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  EXPECT_EQ(r.status().subsystem(), Subsystem::kStorage);
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().to_string();
}

TEST(StorageDataFolder, CreatesTheLayout) {
  testing::TempDir tmp;
  std::string path = tmp.sub("a/b/data");
  auto folder = open_or_die(path);
  ASSERT_NE(folder, nullptr);
  EXPECT_EQ(folder->path(), path);
  EXPECT_EQ(folder->storage_dir(), path + "/storage");
  EXPECT_EQ(folder->wal_dir(), path + "/wal");
  EXPECT_EQ(folder->format_version(), kCurrentFormatVersion);
  EXPECT_TRUE(fs::is_directory(folder->storage_dir()));
  EXPECT_TRUE(fs::is_directory(folder->wal_dir()));
  EXPECT_TRUE(fs::is_empty(folder->wal_dir()));
  EXPECT_FALSE(fs::exists(path + "/TIDAL.tmp"));
  EXPECT_EQ(read_file(path + "/LOCK"), std::to_string(getpid()) + "\n");

  std::string marker = read_file(path + "/TIDAL");
  EXPECT_TRUE(marker.starts_with("tidalDB data folder\nformat 1\ncreated 20")) << marker;
  EXPECT_TRUE(parse_data_folder_marker(marker, "TIDAL").ok());
}

TEST(StorageDataFolder, ReopenKeepsTheMarker) {
  testing::TempDir tmp;
  std::string path = tmp.sub("data");
  ASSERT_NE(open_or_die(path), nullptr);
  std::string marker = read_file(path + "/TIDAL");
  auto again = open_or_die(path + "/");  // a trailing slash names the same folder
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->path(), path);
  EXPECT_EQ(read_file(path + "/TIDAL"), marker);
}

TEST(StorageDataFolder, MarkerRoundTrip) {
  std::string text = format_data_folder_marker(7, "2024-05-06T07:08:09Z");
  EXPECT_TRUE(text.starts_with("tidalDB data folder\nformat 7\ncreated 2024-05-06T07:08:09Z\n"))
      << text;
  auto v = parse_data_folder_marker(text, "m");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7u);
  // Lines after the third are for later formats.
  EXPECT_EQ(*parse_data_folder_marker(text + "future line\n", "m"), 7u);
}

TEST(StorageDataFolder, MalformedMarkersAreCorruption) {
  for (const char* bad :
       {"", "tidalDB data folder\n", "tidalDB data folde\nformat 1\ncreated x\n",
        "tidalDB data folder\nformat\ncreated x\n", "tidalDB data folder\nformat 0\ncreated x\n",
        "tidalDB data folder\nformat -1\ncreated x\n",
        "tidalDB data folder\nformat 1x\ncreated x\n",
        "tidalDB data folder\nformat 99999999999\ncreated x\n", "tidalDB data folder\nformat 1\n",
        "tidalDB data folder\nformat 1\ncreated \n"}) {
    auto r = parse_data_folder_marker(bad, "/x/TIDAL");
    expect_error(r, StatusCode::kCorruption, "/x/TIDAL is malformed");
  }
}

TEST(StorageDataFolder, MalformedMarkerOnDiskIsCorruption) {
  testing::TempDir tmp;
  write_file(tmp.sub("TIDAL"), "hello\n");
  expect_error(DataFolder::open(tmp.str()), StatusCode::kCorruption,
               tmp.sub("TIDAL") + " is malformed: the first line is not \"tidalDB data folder\"");
}

TEST(StorageDataFolder, NewerFormatIsNotSupported) {
  testing::TempDir tmp;
  write_file(tmp.sub("TIDAL"), format_data_folder_marker(2, "2030-01-01T00:00:00Z"));
  expect_error(
      DataFolder::open(tmp.str()), StatusCode::kNotSupported,
      "data folder " + tmp.str() + " holds format version 2, newer than this build supports (1)");
}

TEST(StorageDataFolder, RefusesAFolderThatIsNotOurs) {
  testing::TempDir tmp;
  write_file(tmp.sub("thesis.tex"), "precious");
  expect_error(DataFolder::open(tmp.str()), StatusCode::kFailedPrecondition,
               "not a tidalDB data folder: " + tmp.str() +
                   " has files but no TIDAL marker; refusing to use it");
  // Nothing was created in it.
  EXPECT_FALSE(fs::exists(tmp.sub("LOCK")));
  EXPECT_FALSE(fs::exists(tmp.sub("TIDAL")));
}

TEST(StorageDataFolder, CompletesAnInterruptedCreation) {
  testing::TempDir tmp;
  write_file(tmp.sub("LOCK"), "");
  write_file(tmp.sub("TIDAL.tmp"), "tidalDB da");
  auto folder = open_or_die(tmp.str());
  ASSERT_NE(folder, nullptr);
  EXPECT_EQ(folder->format_version(), kCurrentFormatVersion);
  EXPECT_FALSE(fs::exists(tmp.sub("TIDAL.tmp")));
}

TEST(StorageDataFolder, PathThatIsAFileIsRefused) {
  testing::TempDir tmp;
  write_file(tmp.sub("file"), "x");
  expect_error(DataFolder::open(tmp.sub("file")), StatusCode::kFailedPrecondition,
               tmp.sub("file") + " exists and is not a directory");
}

TEST(StorageDataFolder, MissingFolderWithoutCreateIsNotFound) {
  testing::TempDir tmp;
  DataFolderOptions opts;
  opts.create_if_missing = false;
  expect_error(DataFolder::open(tmp.sub("absent"), opts), StatusCode::kNotFound,
               "no tidalDB data folder at " + tmp.sub("absent") + ": it does not exist");
  EXPECT_FALSE(fs::exists(tmp.sub("absent")));
}

TEST(StorageDataFolder, ReadOnlyCreatesNothing) {
  testing::TempDir tmp;
  DataFolderOptions ro;
  ro.read_only = true;
  expect_error(DataFolder::open(tmp.sub("absent"), ro), StatusCode::kNotFound, tmp.sub("absent"));
  expect_error(DataFolder::open(tmp.str(), ro), StatusCode::kNotFound,
               "not a tidalDB data folder: " + tmp.str());
  EXPECT_TRUE(fs::is_empty(tmp.path()));

  ASSERT_NE(open_or_die(tmp.sub("data")), nullptr);
  {
    auto folder = open_or_die(tmp.sub("data"), ro);
    ASSERT_NE(folder, nullptr);
    EXPECT_TRUE(folder->read_only());
    // No storage yet, and a read-only open does not make one.
    expect_error(folder->open_storage(), StatusCode::kNotFound, tmp.sub("data"));
    EXPECT_FALSE(fs::exists(folder->storage_dir() + "/CURRENT"));
  }
  {
    auto folder = open_or_die(tmp.sub("data"));
    auto storage = folder->open_storage();
    ASSERT_TRUE(storage.ok()) << storage.status().to_string();
    ASSERT_TRUE((*storage)->put(Keyspace::kMeta, "k", "v", WriteMode::kDurable).ok());
  }
  // A read-only open of the storage reads, refuses writes, and writes nothing.
  auto folder = open_or_die(tmp.sub("data"), ro);
  ASSERT_NE(folder, nullptr);
  auto before = fs::directory_iterator(folder->storage_dir());
  size_t files_before = std::distance(before, fs::directory_iterator());
  auto storage = folder->open_storage();
  ASSERT_TRUE(storage.ok()) << storage.status().to_string();
  auto v = (*storage)->get(Keyspace::kMeta, "k");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "v");
  EXPECT_FALSE((*storage)->put(Keyspace::kMeta, "k", "w").ok());
  storage->reset();
  auto after = fs::directory_iterator(folder->storage_dir());
  EXPECT_EQ(std::distance(after, fs::directory_iterator()), files_before);
}

TEST(StorageDataFolder, SecondOpenInTheSameProcessIsBusy) {
  testing::TempDir tmp;
  auto first = open_or_die(tmp.str());
  ASSERT_NE(first, nullptr);
  expect_error(DataFolder::open(tmp.str()), StatusCode::kBusy,
               "data folder " + tmp.str() +
                   " is locked by another DataFolder in this process (pid " +
                   std::to_string(getpid()) + ")");
  first.reset();  // releases the lock
  EXPECT_NE(open_or_die(tmp.str()), nullptr);
}

TEST(StorageDataFolder, OpenWhileAnotherProcessHoldsItIsBusy) {
  testing::TempDir tmp;
  auto held = open_or_die(tmp.str());
  ASSERT_NE(held, nullptr);
  std::string parent_pid = std::to_string(getpid());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: only plain exit codes, no gtest assertions.
    auto r = DataFolder::open(tmp.str());
    std::string want =
        "data folder " + tmp.str() + " is locked by another process (pid " + parent_pid + ")";
    bool ok = !r.ok() && r.status().code() == StatusCode::kBusy && r.status().message() == want;
    std::_Exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child was not refused with the expected message";
}

TEST(StorageDataFolder, LockIsReleasedForOtherProcesses) {
  testing::TempDir tmp;
  ASSERT_NE(open_or_die(tmp.str()), nullptr);  // opened and closed
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) std::_Exit(DataFolder::open(tmp.str()).ok() ? 0 : 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(StorageDataFolder, OpenStorageUsesTheStorageFolder) {
  testing::TempDir tmp;
  auto folder = open_or_die(tmp.str());
  ASSERT_NE(folder, nullptr);
  {
    auto engine = folder->open_storage(testing::small_rocksdb_options());
    ASSERT_TRUE(engine.ok()) << engine.status().to_string();
    ASSERT_TRUE((*engine)->put(Keyspace::kMeta, "k", "v", WriteMode::kDurable).ok());
  }
  EXPECT_TRUE(fs::exists(folder->storage_dir() + "/CURRENT"));
  auto engine = folder->open_storage(testing::small_rocksdb_options());
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(*(*engine)->get(Keyspace::kMeta, "k"), "v");
}

}  // namespace
}  // namespace tidal
