#include "core/hash.h"

#include <blake3.h>

#include "core/coding.h"

namespace tidal {

Hash128 blake3_128(std::string_view a, std::string_view b) {
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, a.data(), a.size());
  if (!b.empty()) blake3_hasher_update(&h, b.data(), b.size());
  Hash128 out;
  blake3_hasher_finalize(&h, out.data(), out.size());
  return out;
}

uint64_t blake3_64(std::string_view a, std::string_view b) {
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, a.data(), a.size());
  if (!b.empty()) blake3_hasher_update(&h, b.data(), b.size());
  char out[8];
  blake3_hasher_finalize(&h, reinterpret_cast<uint8_t*>(out), sizeof(out));
  return decode_fixed64_le(out);
}

Hash256 blake3_256(std::string_view a) {
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, a.data(), a.size());
  Hash256 out;
  blake3_hasher_finalize(&h, out.data(), out.size());
  return out;
}

}  // namespace tidal
