// Schema::diff: one sentence per difference, for every kind of difference.
#include "schema/schema_rep.h"
#include "schema_test_util.h"

namespace tidal::schema_test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The stored schema of these tests: the defaults plus one attribute of each
// kind of interest.
SchemaBuilder stored_builder() {
  AttributeSpec category = attribute("category", AttributeType::kKeyword);
  category.filterable = true;
  AttributeSpec embedding = attribute("embedding", AttributeType::kVector);
  embedding.vector_dim = 128;
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem, category)
      .add_attribute(EntityKind::kItem, attribute("title", AttributeType::kText))
      .add_attribute(EntityKind::kItem, embedding)
      .add_attribute(EntityKind::kUser, attribute("age", AttributeType::kInt));
  return b;
}

// The stored schema with the signal spec `name` changed by `change`.
Schema with_signal_changed(std::string_view name, void (*change)(SignalTypeSpec*)) {
  SchemaBuilder b;
  for (SignalTypeSpec spec : default_signal_specs()) {
    if (spec.name == name) change(&spec);
    b.add_signal(spec);
  }
  Schema stored = build_ok(stored_builder());
  for (EntityKind kind : kEntityKinds) {
    for (const AttributeDefinition& a : stored.attributes(kind)) b.add_attribute(kind, to_spec(a));
  }
  return build_ok(b);
}

TEST(SchemaDiff, EqualSchemasHaveNoDifferences) {
  Schema a = build_ok(stored_builder());
  Schema b = build_ok(stored_builder());
  EXPECT_THAT(a.diff(b), IsEmpty());
  EXPECT_THAT(a.diff(a), IsEmpty());
}

TEST(SchemaDiff, VersionIsNotContent) {
  Schema v1 = build_ok(stored_builder());
  Schema v2 = build_ok(SchemaBuilder(v1).add_signal(signal("save")));
  Schema v2_again = build_ok(stored_builder().add_signal(signal("save")));
  EXPECT_EQ(v2.version(), 2u);
  EXPECT_EQ(v2_again.version(), 1u);
  EXPECT_THAT(v2.diff(v2_again), IsEmpty());
  EXPECT_EQ(v2, v2_again);
}

TEST(SchemaDiff, SignalAddedAndRemoved) {
  Schema stored = build_ok(stored_builder());
  Schema given = build_ok(stored_builder().add_signal(signal("save")));
  EXPECT_THAT(stored.diff(given),
              ElementsAre("signal \"save\" is in the given schema but not the stored one"));
  EXPECT_THAT(given.diff(stored),
              ElementsAre("signal \"save\" is in the stored schema but not the given one"));
}

TEST(SchemaDiff, SignalFields) {
  Schema stored = build_ok(stored_builder());
  struct Case {
    const char* signal;
    void (*change)(SignalTypeSpec*);
    const char* line;
  };
  const Case cases[] = {
      {"view", [](SignalTypeSpec* s) { s->half_life = hours(12); },
       "signal \"view\": half_life differs (stored 6h, given 12h)"},
      {"view",
       [](SignalTypeSpec* s) {
         s->windows = {hours(24), hours(1)};
       },
       "signal \"view\": windows differ (stored [1h, 1d, 7d], given [1h, 1d])"},
      {"like", [](SignalTypeSpec* s) { s->velocity = false; },
       "signal \"like\": velocity differs (stored true, given false)"},
      {"completion", [](SignalTypeSpec* s) { s->polarity = Polarity::kNegative; },
       "signal \"completion\": polarity differs (stored positive, given negative)"},
      {"dwell_time", [](SignalTypeSpec* s) { s->value_kind = ValueKind::kCount; },
       "signal \"dwell_time\": value_kind differs (stored sum, given count)"},
      {"like", [](SignalTypeSpec* s) { s->learning_rate = 0.2; },
       "signal \"like\": learning_rate differs (stored 0.1, given 0.2)"},
      {"skip", [](SignalTypeSpec* s) { s->affinity_delta = -0.75; },
       "signal \"skip\": affinity_delta differs (stored -0.5, given -0.75)"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(stored.diff(with_signal_changed(c.signal, c.change)), ElementsAre(c.line));
  }
}

TEST(SchemaDiff, SeveralDifferencesInOneSignalAreAllListed) {
  Schema stored = build_ok(stored_builder());
  Schema given = with_signal_changed("share", [](SignalTypeSpec* s) {
    s->half_life = hours(1);
    s->velocity = false;
  });
  EXPECT_THAT(stored.diff(given),
              ElementsAre("signal \"share\": half_life differs (stored 12h, given 1h)",
                          "signal \"share\": velocity differs (stored true, given false)"));
}

TEST(SchemaDiff, ReorderedSignalsDifferInId) {
  SchemaBuilder a, b;
  a.add_signal(signal("x")).add_signal(signal("y"));
  b.add_signal(signal("y")).add_signal(signal("x"));
  EXPECT_THAT(build_ok(a).diff(build_ok(b)),
              ElementsAre("signal \"x\": id differs (stored 0, given 1)",
                          "signal \"y\": id differs (stored 1, given 0)"));
}

TEST(SchemaDiff, AttributeAddedAndRemovedPerKind) {
  Schema stored = build_ok(stored_builder());
  for (EntityKind kind : kEntityKinds) {
    Schema given =
        build_ok(stored_builder().add_attribute(kind, attribute("extra", AttributeType::kInt)));
    std::string kind_name(entity_kind_name(kind));
    EXPECT_THAT(stored.diff(given),
                ElementsAre(kind_name + " attribute \"extra\" is in the given schema but not the "
                                        "stored one"));
    EXPECT_THAT(given.diff(stored),
                ElementsAre(kind_name + " attribute \"extra\" is in the stored schema but not the "
                                        "given one"));
  }
}

TEST(SchemaDiff, AttributeFields) {
  auto one = [](EntityKind kind, AttributeSpec spec) {
    return build_ok(SchemaBuilder().add_attribute(kind, spec));
  };
  AttributeSpec keyword = attribute("category", AttributeType::kKeyword);
  AttributeSpec text = attribute("category", AttributeType::kText);
  EXPECT_THAT(
      one(EntityKind::kItem, keyword).diff(one(EntityKind::kItem, text)),
      ElementsAre("item attribute \"category\": type differs (stored keyword, given text)"));

  AttributeSpec filterable = keyword;
  filterable.filterable = true;
  EXPECT_THAT(one(EntityKind::kUser, keyword).diff(one(EntityKind::kUser, filterable)),
              ElementsAre("user attribute \"category\": filterable differs (stored false, given "
                          "true)"));
  AttributeSpec sortable = keyword;
  sortable.sortable = true;
  EXPECT_THAT(one(EntityKind::kCreator, sortable).diff(one(EntityKind::kCreator, keyword)),
              ElementsAre("creator attribute \"category\": sortable differs (stored true, given "
                          "false)"));

  AttributeSpec v128 = attribute("embedding", AttributeType::kVector);
  v128.vector_dim = 128;
  AttributeSpec v256 = v128;
  v256.vector_dim = 256;
  AttributeSpec l2 = v128;
  l2.metric = VectorMetric::kL2;
  EXPECT_THAT(
      one(EntityKind::kItem, v128).diff(one(EntityKind::kItem, v256)),
      ElementsAre("item attribute \"embedding\": vector_dim differs (stored 128, given 256)"));
  EXPECT_THAT(
      one(EntityKind::kItem, v128).diff(one(EntityKind::kItem, l2)),
      ElementsAre("item attribute \"embedding\": metric differs (stored cosine, given l2)"));

  // A type change to vector brings its dimension along.
  EXPECT_THAT(
      one(EntityKind::kItem, attribute("embedding", AttributeType::kFloat))
          .diff(one(EntityKind::kItem, v128)),
      ElementsAre("item attribute \"embedding\": type differs (stored float, given vector)",
                  "item attribute \"embedding\": vector_dim differs (stored 0, given 128)"));
}

TEST(SchemaDiff, AttributeIdDiffers) {
  SchemaBuilder a, b;
  a.add_attribute(EntityKind::kItem, attribute("p", AttributeType::kInt))
      .add_attribute(EntityKind::kItem, attribute("q", AttributeType::kInt));
  b.add_attribute(EntityKind::kItem, attribute("q", AttributeType::kInt))
      .add_attribute(EntityKind::kItem, attribute("p", AttributeType::kInt));
  EXPECT_THAT(build_ok(a).diff(build_ok(b)),
              ElementsAre("item attribute \"p\": id differs (stored 0, given 1)",
                          "item attribute \"q\": id differs (stored 1, given 0)"));
}

TEST(SchemaDiff, OrderIsSignalsThenItemUserCreator) {
  Schema stored = build_ok(SchemaBuilder().add_signal(signal("a")));
  Schema given =
      build_ok(SchemaBuilder()
                   .add_attribute(EntityKind::kCreator, attribute("c", AttributeType::kInt))
                   .add_attribute(EntityKind::kItem, attribute("i", AttributeType::kInt))
                   .add_signal(signal("b")));
  EXPECT_THAT(stored.diff(given),
              ElementsAre("signal \"a\" is in the stored schema but not the given one",
                          "signal \"b\" is in the given schema but not the stored one",
                          "item attribute \"i\" is in the given schema but not the stored one",
                          "creator attribute \"c\" is in the given schema but not the stored one"));
}

}  // namespace
}  // namespace tidal::schema_test
