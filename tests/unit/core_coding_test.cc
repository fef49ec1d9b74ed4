#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/clock.h"
#include "core/coding.h"
#include "core/duration.h"
#include "core/hash.h"

namespace tidal {
namespace {

TEST(CodingTest, FixedWidthLayouts) {
  std::string s;
  put_fixed32_be(&s, 0x01020304);
  put_fixed64_be(&s, 0x0102030405060708ULL);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  std::string l;
  put_fixed32_le(&l, 0x01020304);
  EXPECT_EQ(l, std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(decode_fixed32_be(s.data()), 0x01020304u);
  EXPECT_EQ(decode_fixed64_be(s.data() + 4), 0x0102030405060708ULL);
  EXPECT_EQ(decode_fixed32_le(l.data()), 0x01020304u);
}

TEST(CodingTest, VarintBoundaries) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383},
                     uint64_t{16384}, uint64_t{UINT32_MAX}, std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    put_varint64(&s, v);
    EXPECT_EQ(static_cast<int>(s.size()), varint_length(v));
    ByteReader r(s);
    uint64_t got = 0;
    ASSERT_TRUE(r.read_varint64(&got));
    EXPECT_EQ(got, v);
    EXPECT_TRUE(r.empty());
  }
}

TEST(CodingTest, MalformedVarintsAreRejected) {
  // Truncated: continuation bit set on the last byte.
  ByteReader a(std::string_view("\x80\x80", 2));
  uint64_t v;
  EXPECT_FALSE(a.read_varint64(&v));
  // Eleven bytes.
  std::string eleven(10, '\xff');
  eleven += '\x01';
  ByteReader b(eleven);
  EXPECT_FALSE(b.read_varint64(&v));
  // Tenth byte overflowing 64 bits.
  std::string over(9, '\xff');
  over += '\x02';
  ByteReader c(over);
  EXPECT_FALSE(c.read_varint64(&v));
  // varint32 above 2^32.
  std::string big;
  put_varint64(&big, uint64_t{1} << 33);
  ByteReader d(big);
  uint32_t v32;
  EXPECT_FALSE(d.read_varint32(&v32));
}

TEST(CodingTest, ReaderStopsAtEnd) {
  std::string s;
  put_length_prefixed(&s, "hello");
  put_double_le(&s, -2.5);
  put_varsint64(&s, -12345);
  ByteReader r(s);
  std::string_view str;
  double d;
  int64_t i;
  ASSERT_TRUE(r.read_length_prefixed(&str));
  EXPECT_EQ(str, "hello");
  ASSERT_TRUE(r.read_double_le(&d));
  EXPECT_EQ(d, -2.5);
  ASSERT_TRUE(r.read_varsint64(&i));
  EXPECT_EQ(i, -12345);
  uint8_t b;
  EXPECT_FALSE(r.read_u8(&b));
  // A length prefix larger than what follows fails and exhausts the reader.
  std::string bad;
  put_varint64(&bad, 100);
  bad += "abc";
  ByteReader r2(bad);
  EXPECT_FALSE(r2.read_length_prefixed(&str));
  EXPECT_TRUE(r2.empty());
}

TEST(DurationTest, ParsesUnitsAndSums) {
  EXPECT_EQ(parse_duration("6h", "w").value(), std::chrono::hours(6));
  EXPECT_EQ(parse_duration("90m", "w").value(), std::chrono::minutes(90));
  EXPECT_EQ(parse_duration("1h30m", "w").value(), std::chrono::minutes(90));
  EXPECT_EQ(parse_duration("7d", "w").value(), std::chrono::hours(24 * 7));
  EXPECT_EQ(parse_duration("2w", "w").value(), std::chrono::hours(24 * 14));
  EXPECT_EQ(parse_duration("250ms", "w").value(), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("5us", "w").value(), Duration(5));
  EXPECT_EQ(parse_duration("1m5s", "w").value(), std::chrono::seconds(65));
}

TEST(DurationTest, RejectsWithFieldAndRule) {
  for (const char* bad : {"", "6", "h", "6x", "-1h", "6 h", "1.5h", "99999999999999999999d"}) {
    auto r = parse_duration(bad, "windows[0]", Subsystem::kSchema);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "windows[0]");
    EXPECT_EQ(r.status().subsystem(), Subsystem::kSchema);
    EXPECT_NE(r.status().message().find("windows[0] = \""), std::string::npos);
  }
}

TEST(DurationTest, FormatsShortestExact) {
  EXPECT_EQ(format_duration(std::chrono::hours(6)), "6h");
  EXPECT_EQ(format_duration(std::chrono::minutes(90)), "1h30m");
  EXPECT_EQ(format_duration(std::chrono::hours(24 * 7)), "7d");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1s500ms");
  EXPECT_EQ(format_duration(Duration(0)), "0s");
  EXPECT_EQ(format_duration(-std::chrono::seconds(3)), "-3s");
  for (int64_t us : {int64_t{1}, int64_t{999}, int64_t{86400000000}, int64_t{123456789012}}) {
    EXPECT_EQ(parse_duration(format_duration(Duration(us)), "d").value(), Duration(us));
  }
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(from_micros(1000));
  EXPECT_EQ(to_micros(clock.now()), 1000);
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(to_micros(clock.now()), 1001000);
  clock.set(from_micros(5));
  EXPECT_EQ(to_micros(clock.now()), 5);
  Timestamp a = SystemClock::instance()->now();
  EXPECT_GT(to_micros(a), 1'600'000'000'000'000);  // after 2020
}

TEST(HashTest, Blake3KnownAnswer) {
  // BLAKE3("") = af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262
  Hash128 h = blake3_128("");
  EXPECT_EQ(h[0], 0xaf);
  EXPECT_EQ(h[1], 0x13);
  EXPECT_EQ(h[8], 0xa0);
  EXPECT_EQ(h[15], 0x49);
  EXPECT_EQ(blake3_64(""), 0xa6a1f9f5b94913afULL);
  EXPECT_EQ(blake3_64("ab", "cd"), blake3_64("abcd"));
  EXPECT_NE(blake3_64("abcd"), blake3_64("abce"));
}

}  // namespace
}  // namespace tidal
