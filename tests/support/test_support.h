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

// ../shared/data, where the real third-party data sets live.
std::filesystem::path shared_data_dir();

// The build folder (for tests that run the real `tidal` binary).
std::filesystem::path binary_dir();

}  // namespace tidal::testing
