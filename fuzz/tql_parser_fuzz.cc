// libFuzzer target for TQL: the bytes are a query. Whatever parses must
// survive every other path unchanged:
//   text -> parse -> to_json -> parse_json -> equal
//   text -> parse -> to_tql  -> parse      -> equal
// and to_filter of its WHERE must return (a Filter or an error), never crash.
// The same bytes are also fed to parse_json directly.
//
// Run with scripts/fuzz.sh tql [seconds].
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "query/filter.h"
#include "query/json.h"
#include "query/parser.h"
#include "query/printer.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "tql_parser_fuzz: %s\ninput: %.*s\ndetail: %s\n", what,
               static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace tidal::query;

  auto from_json_bytes = parse_json(text);
  if (from_json_bytes.ok()) {
    // Accepted JSON passed validate(): it must print as TQL and read back.
    std::string tql = to_tql(*from_json_bytes);
    auto again = parse(tql);
    if (!again.ok())
      fail("JSON statement does not print as valid TQL", text,
           tql + " -> " + again.status().to_string());
  }

  auto parsed = parse(text);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) fail("parse error without a message", text, "");
    return 0;
  }
  const tidal::Status valid = validate(*parsed);
  if (!valid.ok()) fail("parsed statement fails validate()", text, valid.to_string());

  const std::string json = to_json(*parsed);
  auto back = parse_json(json);
  if (!back.ok())
    fail("to_json output does not parse", text, json + " -> " + back.status().to_string());
  if (!(*back == *parsed)) fail("JSON round trip changed the statement", text, json);

  const std::string tql = to_tql(*parsed);
  auto reparsed = parse(tql);
  if (!reparsed.ok())
    fail("to_tql output does not parse", text, tql + " -> " + reparsed.status().to_string());
  if (!(*reparsed == *parsed)) fail("TQL round trip changed the statement", text, tql);

  if (parsed->where) {
    auto f = to_filter(*parsed->where);
    (void)f;
  }
  return 0;
}
