#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "core/coding.h"

namespace tidal {
namespace {

RC_GTEST_PROP(CodingProp, VarintRoundTrip, (uint64_t v, int64_t s)) {
  std::string buf;
  put_varint64(&buf, v);
  put_varsint64(&buf, s);
  ByteReader r(buf);
  uint64_t v2;
  int64_t s2;
  RC_ASSERT(r.read_varint64(&v2));
  RC_ASSERT(r.read_varsint64(&s2));
  RC_ASSERT(v2 == v);
  RC_ASSERT(s2 == s);
  RC_ASSERT(r.empty());
}

RC_GTEST_PROP(CodingProp, BigEndianByteOrderIsNumericOrder, (uint64_t a, uint64_t b)) {
  std::string ea, eb;
  put_fixed64_be(&ea, a);
  put_fixed64_be(&eb, b);
  RC_ASSERT((ea < eb) == (a < b));
  RC_ASSERT(decode_fixed64_be(ea.data()) == a);
}

RC_GTEST_PROP(CodingProp, ReaderNeverReadsPastEnd, (const std::string& junk)) {
  // Any byte string: every read either succeeds within bounds or fails.
  ByteReader r(junk);
  size_t before = r.remaining();
  std::string_view sv;
  while (!r.empty()) {
    uint64_t v;
    if (!r.read_varint64(&v)) break;
    if (!r.read_length_prefixed(&sv)) break;
    RC_ASSERT(r.remaining() < before);
    before = r.remaining();
  }
}

}  // namespace
}  // namespace tidal
