// Every rule an attribute declaration must follow, and the message that says
// which field broke it.
#include <cmath>

#include "schema_test_util.h"

namespace tidal::schema_test {
namespace {

TEST(SchemaAttributeValidation, NameMustBeAnIdentifier) {
  const std::string too_long(65, 'x');
  for (const std::string& name : {std::string(), std::string("Title"), std::string("9lives"),
                                  std::string("title!"), too_long}) {
    EXPECT_SCHEMA_INVALID(build_with(EntityKind::kUser, attribute(name, AttributeType::kInt)),
                          "attributes.user[0].name", name, "must match ^[a-z][a-z0-9_]{0,63}$");
  }
}

TEST(SchemaAttributeValidation, DuplicateNamesWithinAKind) {
  Result<Schema> r =
      SchemaBuilder()
          .add_attribute(EntityKind::kItem, attribute("category", AttributeType::kKeyword))
          .add_attribute(EntityKind::kItem, attribute("title", AttributeType::kText))
          .add_attribute(EntityKind::kItem, attribute("category", AttributeType::kTags))
          .build();
  EXPECT_SCHEMA_INVALID(r, "attributes.item[2].name", "category",
                        "is already declared by attributes.item[0]");
}

TEST(SchemaAttributeValidation, SameNameInDifferentKindsIsFine) {
  Result<Schema> r =
      SchemaBuilder()
          .add_attribute(EntityKind::kItem, attribute("language", AttributeType::kKeyword))
          .add_attribute(EntityKind::kUser, attribute("language", AttributeType::kKeyword))
          .add_attribute(EntityKind::kCreator, attribute("language", AttributeType::kKeyword))
          .build();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  for (EntityKind kind : kEntityKinds) {
    const AttributeDefinition* a = r->find_attribute(kind, "language");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->kind, kind);
    EXPECT_EQ(a->id, 0);
  }
}

TEST(SchemaAttributeValidation, ReservedNames) {
  for (const char* word :
       {"id", "key", "kind", "creator", "created_at", "updated_at", "registered", "score"}) {
    for (EntityKind kind : kEntityKinds) {
      std::string field = "attributes." + std::string(entity_kind_name(kind)) + "[0].name";
      EXPECT_SCHEMA_INVALID(build_with(kind, attribute(word, AttributeType::kKeyword)), field, word,
                            "is reserved (every entity has id, key and kind, every item has "
                            "creator and created_at");
    }
  }
}

TEST(SchemaAttributeValidation, TextOptions) {
  AttributeSpec spec = attribute("body", AttributeType::kText);
  spec.text.stemmer = "klingon";
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.body.stemmer",
                        "klingon", "unknown stemmer; expected one of: none, ");
  spec.text = TextOptions{.stop_words = "german"};
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.body.stop_words",
                        "german", "unknown stop word list; expected none or english");
  spec.text = TextOptions{.boost = 0};
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.body.boost", "0",
                        "must be above 0 and at most 1000");
  spec.text = TextOptions{.k1 = std::nan("")};
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.body.k1", "nan",
                        "must be at least 0 and at most 10");
  spec.text = TextOptions{.b = 1.5};
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.body.b", "1.5",
                        "must be at least 0 and at most 1");
  spec.text =
      TextOptions{.stemmer = "english", .stop_words = "english", .boost = 3, .k1 = 1.2, .b = 0.75};
  Result<Schema> ok = build_with(EntityKind::kItem, spec);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->find_attribute(EntityKind::kItem, "body")->text, spec.text);

  AttributeSpec keyword = attribute("lang", AttributeType::kKeyword);
  keyword.text.stemmer = "english";
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, keyword), "attributes.item.lang.text",
                        "keyword", "only text attributes have text options");
}

TEST(SchemaAttributeValidation, VectorDimension) {
  AttributeSpec spec = attribute("embedding", AttributeType::kVector);
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.embedding.vector_dim",
                        "0", "a vector attribute needs a dimension between 1 and 4096");
  spec.vector_dim = 4097;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.embedding.vector_dim",
                        "4097", "a vector attribute needs a dimension between 1 and 4096");
  spec.vector_dim = 4096;
  EXPECT_TRUE(build_with(EntityKind::kItem, spec).ok());
  spec.vector_dim = 1;
  Result<Schema> r = build_with(EntityKind::kItem, spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attributes(EntityKind::kItem)[0].metric, VectorMetric::kCosine);  // the default
}

TEST(SchemaAttributeValidation, VectorCannotBeFilterableOrSortable) {
  AttributeSpec spec = attribute("embedding", AttributeType::kVector);
  spec.vector_dim = 128;
  spec.filterable = true;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.embedding.filterable",
                        "true", "vector attributes cannot be filterable");
  spec.filterable = false;
  spec.sortable = true;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.embedding.sortable",
                        "true", "vector attributes cannot be sortable");
}

TEST(SchemaAttributeValidation, DimensionOnlyForVectors) {
  AttributeSpec spec = attribute("duration", AttributeType::kInt);
  spec.vector_dim = 8;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.duration.vector_dim",
                        "8", "only vector attributes have a dimension; this one is int");
}

TEST(SchemaAttributeValidation, MetricOnlyForVectors) {
  AttributeSpec spec = attribute("title", AttributeType::kText);
  spec.metric = VectorMetric::kDot;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.title.metric", "dot",
                        "only vector attributes have a metric; this one is text");
}

TEST(SchemaAttributeValidation, UnknownMetric) {
  AttributeSpec spec = attribute("embedding", AttributeType::kVector);
  spec.vector_dim = 4;
  spec.metric = static_cast<VectorMetric>(5);
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.embedding.metric",
                        "5", "unknown vector metric; expected cosine, dot or l2");
}

TEST(SchemaAttributeValidation, TextIsNeitherFilterableNorSortable) {
  AttributeSpec spec = attribute("title", AttributeType::kText);
  spec.filterable = true;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.title.filterable",
                        "true",
                        "text attributes cannot be filterable (text is searched, not filtered");
  spec.filterable = false;
  spec.sortable = true;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kItem, spec), "attributes.item.title.sortable",
                        "true", "text attributes cannot be sortable");
}

TEST(SchemaAttributeValidation, TagsAreNotSortable) {
  AttributeSpec spec = attribute("interests", AttributeType::kTags);
  spec.filterable = true;
  EXPECT_TRUE(build_with(EntityKind::kUser, spec).ok());
  spec.sortable = true;
  EXPECT_SCHEMA_INVALID(build_with(EntityKind::kUser, spec), "attributes.user.interests.sortable",
                        "true", "tags attributes cannot be sortable");
}

TEST(SchemaAttributeValidation, ScalarTypesTakeBothFlags) {
  for (AttributeType t : {AttributeType::kKeyword, AttributeType::kInt, AttributeType::kFloat,
                          AttributeType::kBool, AttributeType::kTimestamp}) {
    AttributeSpec spec = attribute("a", t);
    spec.filterable = spec.sortable = true;
    EXPECT_TRUE(build_with(EntityKind::kCreator, spec).ok()) << attribute_type_name(t);
  }
}

TEST(SchemaAttributeValidation, UnknownTypeAndKind) {
  EXPECT_SCHEMA_INVALID(
      build_with(EntityKind::kItem, attribute("x", static_cast<AttributeType>(42))),
      "attributes.item.x.type", "42", "unknown attribute type");
  Result<Schema> r =
      SchemaBuilder()
          .add_attribute(static_cast<EntityKind>(3), attribute("x", AttributeType::kInt))
          .build();
  EXPECT_SCHEMA_INVALID(r, "attributes.kind", "3 (attribute \\\"x\\\")",
                        "unknown entity kind; expected item, user or creator");
}

TEST(SchemaAttributeValidation, AtMost1024PerKind) {
  SchemaBuilder builder;
  for (int i = 0; i < 1025; ++i) {
    builder.add_attribute(EntityKind::kUser, attribute(std::string("a").append(std::to_string(i)),
                                                       AttributeType::kInt));
  }
  builder.add_attribute(EntityKind::kItem, attribute("a", AttributeType::kInt));
  EXPECT_SCHEMA_INVALID(builder.build(), "attributes.user", "1025",
                        "at most 1024 user attributes may be declared");
}

}  // namespace
}  // namespace tidal::schema_test
