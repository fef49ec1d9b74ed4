// Properties of the storage key layout (storage/key_encoding.h).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <tuple>

#include "storage/key_encoding.h"

namespace tidal {
namespace {

// Ids drawn mostly from a small range so that equal ids (and so the tag and
// suffix tie-breaks) come up often.
rc::Gen<uint64_t> gen_id() {
  return rc::gen::weightedOneOf<uint64_t>(
      {{3, rc::gen::inRange<uint64_t>(0, 4)}, {1, rc::gen::arbitrary<uint64_t>()}});
}

rc::Gen<uint8_t> gen_tag() {
  return rc::gen::weightedOneOf<uint8_t>(
      {{3, rc::gen::inRange<uint8_t>(1, 6)}, {1, rc::gen::arbitrary<uint8_t>()}});
}

rc::Gen<std::string> gen_bytes(int max_len) {
  return rc::gen::mapcat(rc::gen::inRange(0, max_len + 1), [](int n) {
    return rc::gen::container<std::string>(
        static_cast<size_t>(n),
        rc::gen::weightedOneOf<char>(
            {{2, rc::gen::element<char>('\0', '\x01', 'a', '\x7f', '\x80', '\xfe', '\xff')},
             {1, rc::gen::arbitrary<char>()}}));
  });
}

int sign(int c) {
  return (c > 0) - (c < 0);
}

RC_GTEST_PROP(StorageKeyEncodingProp, ByteOrderIsIdTagSuffixOrder, ()) {
  uint64_t id1 = *gen_id(), id2 = *gen_id();
  uint8_t tag1 = *gen_tag(), tag2 = *gen_tag();
  std::string s1 = *gen_bytes(6), s2 = *gen_bytes(6);
  std::string k1 = encode_entity_key(EntityId(id1), static_cast<KeyTag>(tag1), s1);
  std::string k2 = encode_entity_key(EntityId(id2), static_cast<KeyTag>(tag2), s2);
  // std::string compares bytes as unsigned, like memcmp and like RocksDB.
  auto tuple_order = std::tie(id1, tag1, s1) <=> std::tie(id2, tag2, s2);
  int expected = tuple_order < 0 ? -1 : (tuple_order > 0 ? 1 : 0);
  RC_ASSERT(sign(k1.compare(k2)) == expected);
}

RC_GTEST_PROP(StorageKeyEncodingProp, EncodeDecodeRoundTrip, ()) {
  uint64_t id = *gen_id();
  uint8_t tag = *gen_tag();
  std::string suffix = *gen_bytes(12);
  std::string key = encode_entity_key(EntityId(id), static_cast<KeyTag>(tag), suffix);
  auto decoded = decode_entity_key(key);
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(decoded->id == EntityId(id));
  RC_ASSERT(decoded->tag == tag);
  RC_ASSERT(decoded->suffix == suffix);
  RC_ASSERT(key.starts_with(entity_tag_prefix(EntityId(id), static_cast<KeyTag>(tag))));
  RC_ASSERT(key.starts_with(entity_prefix(EntityId(id))));
}

// [prefix, prefix_successor(prefix)) is exactly the set of strings that start
// with prefix (an empty successor meaning no upper bound).
RC_GTEST_PROP(StorageKeyEncodingProp, PrefixSuccessorBoundsExactlyThePrefixRange, ()) {
  std::string prefix = *gen_bytes(4);
  std::string s = *rc::gen::weightedOneOf<std::string>(
      {{1, gen_bytes(6)},
       {2, rc::gen::map(gen_bytes(3), [prefix](const std::string& t) { return prefix + t; })}});
  std::string succ = prefix_successor(prefix);
  bool in_range = prefix <= s && (succ.empty() || s < succ);
  RC_ASSERT(in_range == s.starts_with(prefix));
}

}  // namespace
}  // namespace tidal
