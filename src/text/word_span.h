// WordSpan: where one word lies in a text, as a segmenter found it.
#pragma once

#include <cstddef>

namespace tidal::text {

// Bytes [begin, begin + size) of the text handed to the analyzer.
struct WordSpan {
  size_t begin = 0;
  size_t size = 0;
};

}  // namespace tidal::text
