// Byte coding: fixed-width integers (big- and little-endian), varints, and a
// bounds-checked reader. Big-endian is used where byte order must equal numeric
// order (storage keys); little-endian and varints where it need not (values,
// WAL payloads).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tidal {

inline void put_fixed32_be(std::string* dst, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  dst->append(b, 4);
}

inline void put_fixed64_be(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  dst->append(b, 8);
}

inline void put_fixed16_le(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  dst->append(b, 2);
}

inline void put_fixed32_le(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 4);
}

inline void put_fixed64_le(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 8);
}

inline void encode_fixed32_le(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline void encode_fixed64_le(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline uint32_t decode_fixed32_be(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

inline uint64_t decode_fixed64_be(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | u[i];
  return v;
}

inline uint16_t decode_fixed16_le(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}

inline uint32_t decode_fixed32_le(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}

inline uint64_t decode_fixed64_le(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

// LEB128: 7 bits per byte, low bits first, high bit set on all but the last.
inline void put_varint64(std::string* dst, uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  dst->append(b, static_cast<size_t>(n));
}

inline int varint_length(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// ZigZag maps signed integers to unsigned so small magnitudes stay small.
inline uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void put_varsint64(std::string* dst, int64_t v) {
  put_varint64(dst, zigzag_encode(v));
}

inline void put_double_le(std::string* dst, double v) {
  put_fixed64_le(dst, std::bit_cast<uint64_t>(v));
}

// A varint length followed by that many bytes.
inline void put_length_prefixed(std::string* dst, std::string_view s) {
  put_varint64(dst, s.size());
  dst->append(s.data(), s.size());
}

// Reads values written by the put_* functions from a byte range, checking
// bounds. Every read returns false (and leaves the output unspecified) when
// the input is too short or malformed; the reader is then exhausted.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }
  std::string_view rest() const { return in_; }

  bool read_u8(uint8_t* v) {
    if (in_.empty()) return fail();
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool read_fixed32_le(uint32_t* v) {
    if (in_.size() < 4) return fail();
    *v = decode_fixed32_le(in_.data());
    in_.remove_prefix(4);
    return true;
  }
  bool read_fixed64_le(uint64_t* v) {
    if (in_.size() < 8) return fail();
    *v = decode_fixed64_le(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  bool read_fixed64_be(uint64_t* v) {
    if (in_.size() < 8) return fail();
    *v = decode_fixed64_be(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  bool read_varint64(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && !in_.empty(); shift += 7) {
      auto byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      // The tenth byte may carry only the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) return fail();
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return fail();
  }
  bool read_varint32(uint32_t* v) {
    uint64_t w;
    if (!read_varint64(&w) || w > UINT32_MAX) return fail();
    *v = static_cast<uint32_t>(w);
    return true;
  }
  bool read_varsint64(int64_t* v) {
    uint64_t w;
    if (!read_varint64(&w)) return false;
    *v = zigzag_decode(w);
    return true;
  }
  bool read_double_le(double* v) {
    uint64_t w;
    if (!read_fixed64_le(&w)) return false;
    *v = std::bit_cast<double>(w);
    return true;
  }
  bool read_bytes(size_t n, std::string_view* out) {
    if (in_.size() < n) return fail();
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool read_length_prefixed(std::string_view* out) {
    uint64_t n;
    if (!read_varint64(&n)) return false;
    return read_bytes(n, out);
  }

 private:
  bool fail() {
    in_ = {};
    return false;
  }
  std::string_view in_;
};

}  // namespace tidal
