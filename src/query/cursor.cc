#include "query/cursor.h"

#include <algorithm>

#include "core/coding.h"
#include "core/hash.h"
#include "query/printer.h"

namespace tidal::query {

namespace {

constexpr uint8_t kCursorVersion = 1;

char base64url(uint32_t v) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return kAlphabet[v & 63];
}

}  // namespace

std::string encode_cursor(const Cursor& c) {
  std::string raw;
  raw.push_back(static_cast<char>(kCursorVersion));
  put_fixed64_le(&raw, c.fingerprint);
  put_double_le(&raw, c.last.key);
  put_fixed32_le(&raw, c.last.id);
  put_fixed64_le(&raw, c.seed);
  put_fixed32_le(&raw, static_cast<uint32_t>(blake3_64(raw)));
  std::string out;
  for (size_t i = 0; i < raw.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(raw[i]) << 16;
    if (i + 1 < raw.size()) v |= static_cast<uint8_t>(raw[i + 1]) << 8;
    if (i + 2 < raw.size()) v |= static_cast<uint8_t>(raw[i + 2]);
    const size_t chars = std::min<size_t>(4, raw.size() - i + 1);
    for (size_t k = 0; k < chars; ++k) out.push_back(base64url(v >> (18 - 6 * k)));
  }
  return out;
}

Result<Cursor> decode_cursor(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::Invalid(
        Subsystem::kQuery, "cursor",
        text.size() > 64 ? std::string(text.substr(0, 64)) + "..." : std::string(text),
        "is not a cursor this database issued (" + std::string(why) +
            "); pass the cursor of the previous page unchanged");
  };
  constexpr size_t kSize = 1 + 8 + 8 + 4 + 8 + 4;
  // Exactly the characters encode_cursor writes for kSize bytes: a trailing
  // character would otherwise decode to nothing and pass.
  if (text.size() != (kSize * 8 + 5) / 6) return bad("wrong length");
  std::string raw;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '-')
      v = 62;
    else if (ch == '_')
      v = 63;
    else
      return bad("a character outside base64url");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      raw.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (raw.size() != kSize) return bad("wrong length");
  if (static_cast<uint32_t>(blake3_64(std::string_view(raw).substr(0, kSize - 4))) !=
      decode_fixed32_le(raw.data() + kSize - 4)) {
    return bad("checksum mismatch");
  }
  ByteReader r(raw);
  uint8_t version = 0;
  Cursor c;
  r.read_u8(&version);
  if (version != kCursorVersion) return bad("unknown version");
  r.read_fixed64_le(&c.fingerprint);
  r.read_double_le(&c.last.key);
  r.read_fixed32_le(&c.last.id);
  r.read_fixed64_le(&c.seed);
  return c;
}

uint64_t fingerprint_of(const Statement& s) {
  Statement t = s;
  t.cursor.reset();
  t.limit.reset();
  t.explain = false;
  t.vector.clear();
  return blake3_64(to_tql(t), std::string_view(reinterpret_cast<const char*>(s.vector.data()),
                                               s.vector.size() * sizeof(float)));
}

}  // namespace tidal::query
