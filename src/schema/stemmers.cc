#include "schema/stemmers.h"

#include <libstemmer.h>

#include <algorithm>

namespace tidal {

const std::vector<std::string>& stemmer_algorithms() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const char** n = sb_stemmer_list(); *n != nullptr; ++n) out.emplace_back(*n);
    return out;
  }();
  return names;
}

std::vector<std::string> stemmer_names() {
  std::vector<std::string> names = stemmer_algorithms();
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tidal
