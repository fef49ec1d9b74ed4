// The stored form of a schema: round trips, and every way stored bytes can be
// wrong.
#include "core/coding.h"
#include "schema_test_util.h"

namespace tidal::schema_test {
namespace {

Schema rich_schema() {
  AttributeSpec embedding = attribute("embedding", AttributeType::kVector);
  embedding.vector_dim = 384;
  embedding.metric = VectorMetric::kDot;
  AttributeSpec category = attribute("category", AttributeType::kKeyword);
  category.filterable = true;
  AttributeSpec duration = attribute("duration", AttributeType::kInt);
  duration.filterable = duration.sortable = true;
  AttributeSpec interests = attribute("interests", AttributeType::kTags);
  interests.filterable = true;
  AttributeSpec body = attribute("body", AttributeType::kText);
  body.text = TextOptions{
      .stemmer = "english", .stop_words = "english", .boost = 2.5, .k1 = 1.2, .b = 0.75};
  Schema v1 = build_ok(
      SchemaBuilder::with_default_signals()
          .add_attribute(EntityKind::kItem, category)
          .add_attribute(EntityKind::kItem, attribute("title", AttributeType::kText))
          .add_attribute(EntityKind::kItem, duration)
          .add_attribute(EntityKind::kItem, embedding)
          .add_attribute(EntityKind::kItem, body)
          .add_attribute(EntityKind::kUser, interests)
          .add_attribute(EntityKind::kCreator, attribute("verified", AttributeType::kBool)));
  return build_ok(SchemaBuilder(v1).add_attribute(EntityKind::kUser,
                                                  attribute("born", AttributeType::kTimestamp)));
}

TEST(SchemaCodec, RoundTrip) {
  Schema s = rich_schema();
  std::string bytes = s.encode();
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 2);
  Result<Schema> back = Schema::decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->version(), 2u);
  EXPECT_TRUE(s.diff(*back).empty());
  EXPECT_EQ(back->encode(), bytes);
  for (size_t i = 0; i < s.signals().size(); ++i) {
    EXPECT_EQ(back->signals()[i].lambda_per_second, s.signals()[i].lambda_per_second);
  }
  EXPECT_EQ(back->find_attribute(EntityKind::kItem, "embedding")->metric, VectorMetric::kDot);
  EXPECT_EQ(back->find_attribute(EntityKind::kItem, "body")->text.stemmer, "english");
  EXPECT_EQ(back->find_attribute(EntityKind::kItem, "body")->text.boost, 2.5);
  EXPECT_EQ(back->find_attribute(EntityKind::kItem, "title")->text, TextOptions{});
}

// A format 1 schema (written before text options existed) is read with the
// default options for its text attributes.
TEST(SchemaCodec, FormatOneTextAttributesGetDefaults) {
  std::string v1(1, '\x01');
  put_varint64(&v1, 1);  // version
  put_varint64(&v1, 0);  // signals
  put_varint64(&v1, 1);  // item attributes
  put_length_prefixed(&v1, "title");
  v1 += std::string{'\x01', '\x00'};  // text, no flags
  put_varint64(&v1, 0);               // vector_dim
  v1.push_back('\0');                 // metric
  put_varint64(&v1, 0);               // user attributes
  put_varint64(&v1, 0);               // creator attributes
  Result<Schema> s = Schema::decode(v1);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->find_attribute(EntityKind::kItem, "title")->text, TextOptions{});
}

TEST(SchemaCodec, EmptySchemaRoundTrips) {
  Result<Schema> back = Schema::decode(Schema().encode());
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, Schema());
  EXPECT_EQ(back->version(), 1u);
}

TEST(SchemaCodec, EveryTruncationIsCorruption) {
  std::string bytes = rich_schema().encode();
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<Schema> r = Schema::decode(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << n;
    EXPECT_EQ(r.status().subsystem(), Subsystem::kSchema);
  }
  EXPECT_THAT(Schema::decode(bytes.substr(0, 5)).status().message(), HasSubstr("truncated"));
  EXPECT_THAT(Schema::decode("").status().message(), HasSubstr("stored schema is empty"));
}

TEST(SchemaCodec, TrailingBytesAreCorruption) {
  std::string bytes = rich_schema().encode() + "x";
  Result<Schema> r = Schema::decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("unexpected bytes after the last attribute"));
}

TEST(SchemaCodec, NewerFormatIsNotSupported) {
  std::string bytes = rich_schema().encode();
  bytes[0] = 3;
  Result<Schema> r = Schema::decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(r.status().message(), HasSubstr("format 3; this build reads formats 1 and 2"));
  bytes[0] = 0;
  EXPECT_EQ(Schema::decode(bytes).status().code(), StatusCode::kCorruption);
}

// Hand-made encodings, to reach the checks a real encoder never trips.
std::string header(uint64_t version, uint64_t signals) {
  std::string out(1, '\x01');
  put_varint64(&out, version);
  put_varint64(&out, signals);
  return out;
}

std::string no_attributes() {
  return std::string(3, '\0');
}

TEST(SchemaCodec, VersionZeroIsCorruption) {
  Result<Schema> r = Schema::decode(header(0, 0) + no_attributes());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("version 0 out of range"));
}

TEST(SchemaCodec, HugeCountsAreCorruptionNotAllocation) {
  Result<Schema> r = Schema::decode(header(1, uint64_t{1} << 40));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("signal_count 1099511627776 exceeds the limit"));
}

std::string one_signal(std::string_view name, int64_t half_life_us, uint8_t flags) {
  std::string out = header(1, 1);
  put_length_prefixed(&out, name);
  put_varsint64(&out, half_life_us);
  put_varint64(&out, 1);
  put_varsint64(&out, 3600LL * 1000000);
  out.push_back(static_cast<char>(flags));
  out.push_back(0);  // polarity
  out.push_back(0);  // value kind
  put_double_le(&out, 0.5);
  put_double_le(&out, 1.0);
  return out + no_attributes();
}

TEST(SchemaCodec, HandMadeSignalDecodes) {
  Result<Schema> r = Schema::decode(one_signal("view", 6 * 3600LL * 1000000, 1));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->find_signal("view")->velocity);
}

TEST(SchemaCodec, UnknownFlagBitsAreCorruption) {
  Result<Schema> r = Schema::decode(one_signal("view", 6 * 3600LL * 1000000, 0x81));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("unknown flag bits in signals[0].flags"));
}

TEST(SchemaCodec, StoredSchemaBreakingARuleIsCorruption) {
  Result<Schema> r = Schema::decode(one_signal("hot", 0, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("stored schema breaks a rule: "));
  EXPECT_THAT(r.status().message(), HasSubstr("signals[0].name = \"hot\": is reserved"));
  EXPECT_THAT(r.status().message(), HasSubstr("signals[0].half_life = \"0s\""));
}

TEST(SchemaCodec, MetricOnANonVectorAttributeIsCorruption) {
  std::string out = header(1, 0);
  put_varint64(&out, 1);
  put_length_prefixed(&out, "title");
  out.push_back(static_cast<char>(AttributeType::kText));
  out.push_back(0);  // flags
  put_varint64(&out, 0);
  out.push_back(2);  // metric l2
  out += std::string(2, '\0');
  Result<Schema> r = Schema::decode(out);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("attributes.item.title.metric = \"l2\""));
}

TEST(SchemaCodec, EveryByteFlipIsAnErrorOrAValidSchema) {
  // Not every flip is detectable (there is no checksum here: the storage
  // layer has one), but none may crash, and whatever decodes is valid.
  std::string bytes = rich_schema().encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string mutated = bytes;
      mutated[i] = static_cast<char>(mutated[i] ^ (1 << bit));
      Result<Schema> r = Schema::decode(mutated);
      if (r.ok()) {
        Result<Schema> again = Schema::decode(r->encode());
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(*again, *r);
      }
    }
  }
}

}  // namespace
}  // namespace tidal::schema_test
