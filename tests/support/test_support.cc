#include "support/test_support.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
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

}  // namespace tidal::testing
