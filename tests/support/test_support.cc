#include "support/test_support.h"

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

std::filesystem::path shared_data_dir() {
  return TIDAL_SHARED_DATA_DIR;
}

std::filesystem::path binary_dir() {
  return TIDAL_BINARY_DIR;
}

}  // namespace tidal::testing
