// Writing JSON text: strings with the escapes RFC 8259 requires and numbers
// that read back as the same double. Shared by the query language's JSON
// form and the server's responses.
#pragma once

#include <string>
#include <string_view>

namespace tidal {

// Appends `s` as a JSON string (quotes included). Bytes >= 0x80 are copied
// as they are: the caller's text is UTF-8.
void append_json_string(std::string* out, std::string_view s);

// Appends `v` as a JSON number that reads back exactly. Whole numbers beyond
// 2^53 use exponent form (JSON parsers, simdjson among them, reject integers
// wider than 64 bits). NaN and infinities, which JSON cannot hold, are null.
void append_json_number(std::string* out, double v);

}  // namespace tidal
