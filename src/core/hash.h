// BLAKE3 hashing (Debian's reference C implementation, compiled into the build
// with its x86-64 assembly). Used for WAL frame checksums and for the content
// hashes that deduplicate retried events.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tidal {

using Hash128 = std::array<uint8_t, 16>;
using Hash256 = std::array<uint8_t, 32>;

// The full 32-byte BLAKE3 of `a` (API key hashes).
Hash256 blake3_256(std::string_view a);

// The first 16 bytes of BLAKE3(a || b); `b` may be empty.
Hash128 blake3_128(std::string_view a, std::string_view b = {});

// The first 8 bytes of BLAKE3(a || b), little-endian, as an integer; `b` may be
// empty. Hashing two parts avoids copying a header and a payload together.
uint64_t blake3_64(std::string_view a, std::string_view b = {});

}  // namespace tidal
