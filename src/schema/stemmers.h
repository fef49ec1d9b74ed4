// The stemmers a text attribute may name: the Snowball algorithms of this
// build's libstemmer. Schema validation checks names against this list and
// text/ runs the algorithms; neither needs the other.
#pragma once

#include <string>
#include <vector>

namespace tidal {

// libstemmer's algorithms, in its own order (an index names one).
const std::vector<std::string>& stemmer_algorithms();

// The same names, ascending.
std::vector<std::string> stemmer_names();

}  // namespace tidal
