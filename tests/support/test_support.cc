#include "support/test_support.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <stdexcept>

namespace tidal::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/tidal-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TmpfsMount::TmpfsMount(const std::string& size) {
  std::filesystem::create_directories(path());
  const std::string options = "size=" + size;
  mounted_ = ::geteuid() == 0 && ::mount("tmpfs", path().c_str(), "tmpfs", 0, options.c_str()) == 0;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(path().c_str(), MNT_DETACH);
}

bool TmpfsMount::resize(const std::string& size) {
  const std::string options = "size=" + size;
  return mounted_ && ::mount("tmpfs", path().c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
}

std::filesystem::path shared_data_dir() {
  return TIDAL_SHARED_DATA_DIR;
}

std::filesystem::path binary_dir() {
  return TIDAL_BINARY_DIR;
}

bool copy_settled(const std::filesystem::path& from, const std::filesystem::path& to) {
  namespace fs = std::filesystem;
  auto listing = [&] {
    std::map<std::string, uintmax_t> files;
    for (const auto& e : fs::recursive_directory_iterator(from)) {
      if (e.is_regular_file()) files[e.path().string()] = e.file_size();
    }
    return files;
  };
  for (int attempt = 0; attempt < 100; ++attempt) {
    try {
      auto before = listing();
      fs::remove_all(to);
      fs::copy(from, to, fs::copy_options::recursive);
      if (listing() == before) return true;
    } catch (const fs::filesystem_error&) {
      // A file vanished under the copy: try again.
    }
  }
  return false;
}

}  // namespace tidal::testing
