#include <gtest/gtest.h>

#include <string>

#include "storage/key_encoding.h"

namespace tidal {
namespace {

using namespace std::string_literals;

TEST(StorageKeyEncoding, LayoutIsIdSeparatorTagSuffix) {
  std::string key = encode_entity_key(EntityId(0x0102030405060708), KeyTag::kSignalState, "xyz");
  EXPECT_EQ(key, "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x02xyz"s);
  EXPECT_EQ(key.size(), kEntityKeyHeaderSize + 3);
}

TEST(StorageKeyEncoding, RoundTrip) {
  for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{1} << 63, ~uint64_t{0}}) {
    for (std::string suffix : {""s, "a"s, "\x00\xff\x00"s}) {
      std::string key = encode_entity_key(EntityId(id), KeyTag::kEvent, suffix);
      auto decoded = decode_entity_key(key);
      ASSERT_TRUE(decoded.has_value());
      EXPECT_EQ(decoded->id, EntityId(id));
      EXPECT_EQ(decoded->tag, static_cast<uint8_t>(KeyTag::kEvent));
      EXPECT_EQ(decoded->suffix, suffix);
    }
  }
}

TEST(StorageKeyEncoding, DecodeRejectsShortKeysAndBadSeparator) {
  EXPECT_FALSE(decode_entity_key("").has_value());
  EXPECT_FALSE(decode_entity_key("\0\0\0\0\0\0\0\0\0"s).has_value());  // 9 bytes
  EXPECT_FALSE(decode_entity_key("\0\0\0\0\0\0\0\0\x01\x01"s).has_value());
  EXPECT_TRUE(decode_entity_key("\0\0\0\0\0\0\0\0\0\x01"s).has_value());
}

TEST(StorageKeyEncoding, IdsSortNumerically) {
  EXPECT_LT(encode_entity_key(EntityId(255), KeyTag::kAttributes),
            encode_entity_key(EntityId(256), KeyTag::kAttributes));
  EXPECT_LT(encode_entity_key(EntityId(1), KeyTag::kKeyMapping, "\xff\xff"),
            encode_entity_key(EntityId(2), KeyTag::kAttributes));
}

TEST(StorageKeyEncoding, PrefixesAreKeyPrefixes) {
  EntityId id(42);
  std::string key = encode_entity_key(id, KeyTag::kRelationship, "s");
  EXPECT_TRUE(key.starts_with(entity_prefix(id)));
  EXPECT_TRUE(key.starts_with(entity_tag_prefix(id, KeyTag::kRelationship)));
  EXPECT_FALSE(key.starts_with(entity_tag_prefix(id, KeyTag::kAttributes)));
  EXPECT_EQ(entity_prefix(id).size(), 9u);
  EXPECT_EQ(entity_tag_prefix(id, KeyTag::kAttributes).size(), kEntityKeyHeaderSize);
  EXPECT_EQ(encode_entity_key(id, KeyTag::kAttributes), entity_tag_prefix(id, KeyTag::kAttributes));
}

TEST(StorageKeyEncoding, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor(""), "");
  EXPECT_EQ(prefix_successor("\xff"), "");
  EXPECT_EQ(prefix_successor("\xff\xff\xff"), "");
  EXPECT_EQ(prefix_successor("a"), "b");
  EXPECT_EQ(prefix_successor("\x00"s), "\x01");
  EXPECT_EQ(prefix_successor("a\xff"), "b");
  EXPECT_EQ(prefix_successor("a\xff\xff"), "b");
  EXPECT_EQ(prefix_successor("\x01\xfe\xff"), "\x01\xff");
  EXPECT_EQ(prefix_successor("ab\x00"s), "ab\x01");
}

TEST(StorageKeyEncoding, PrefixSuccessorBoundsEveryExtension) {
  for (std::string prefix : {"a"s, "a\xff"s, "\x00"s, entity_prefix(EntityId(~uint64_t{0}))}) {
    std::string succ = prefix_successor(prefix);
    ASSERT_FALSE(succ.empty());
    EXPECT_GT(succ, prefix);
    EXPECT_LT(prefix + "\xff\xff\xff\xff", succ);
    EXPECT_FALSE(succ.starts_with(prefix));
  }
}

}  // namespace
}  // namespace tidal
