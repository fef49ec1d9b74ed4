// Helpers shared by every test binary.
#pragma once

#include <filesystem>
#include <string>

namespace tidal::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when the TempDir is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // path()/name, as a string.
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A tmpfs of `size` ("24m") mounted on a fresh directory — a small disk that
// fills up — and unmounted with it. Mounting needs root: where it fails,
// mounted() is false and the test should skip.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& size);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  std::string path() const { return dir_.sub("disk"); }
  std::string sub(const std::string& name) const { return path() + "/" + name; }
  // Grows (or shrinks) the disk, as an operator growing a volume would.
  bool resize(const std::string& size);

 private:
  TempDir dir_;
  bool mounted_ = false;
};

// ../shared/data, where the real third-party data sets live.
std::filesystem::path shared_data_dir();

// The build folder (for tests that run the real `tidal` binary).
std::filesystem::path binary_dir();

// Copies `from`, a folder a running database owns, to `to`, retrying until
// no file was added, removed or resized while it was copied (RocksDB may
// still be at work in the background). False when it never settled.
[[nodiscard]] bool copy_settled(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace tidal::testing
