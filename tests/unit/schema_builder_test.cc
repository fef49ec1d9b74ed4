// Building schemas: the defaults, derived fields, ids, migrations, lookups and
// enum names.
#include <cmath>
#include <numbers>

#include "schema_test_util.h"

namespace tidal::schema_test {
namespace {

using ::testing::ElementsAre;

TEST(SchemaBuilder, EmptySchemaIsValid) {
  Schema s = build_ok(SchemaBuilder());
  EXPECT_EQ(s.version(), 1u);
  EXPECT_TRUE(s.signals().empty());
  EXPECT_EQ(s, Schema());
  EXPECT_EQ(s.find_signal("view"), nullptr);
}

TEST(SchemaBuilder, DefaultSignals) {
  Schema s = build_ok(SchemaBuilder::with_default_signals());
  ASSERT_EQ(s.signals().size(), 6u);
  struct Expected {
    const char* name;
    Duration half_life;
    std::vector<Duration> windows;
    bool velocity;
    Polarity polarity;
    ValueKind value_kind;
    double learning_rate;
    double affinity_delta;
  };
  const Expected expected[] = {
      {"view",
       hours(6),
       {hours(1), hours(24), days(7)},
       true,
       Polarity::kPositive,
       ValueKind::kCount,
       0.02,
       0.1},
      {"like",
       hours(12),
       {hours(1), hours(24), days(7)},
       true,
       Polarity::kPositive,
       ValueKind::kCount,
       0.1,
       1.0},
      {"skip", hours(6), {hours(24)}, false, Polarity::kNegative, ValueKind::kCount, 0.05, -0.5},
      {"share",
       hours(12),
       {hours(1), hours(24)},
       true,
       Polarity::kPositive,
       ValueKind::kCount,
       0.15,
       2.0},
      {"completion",
       hours(12),
       {hours(24)},
       false,
       Polarity::kPositive,
       ValueKind::kCount,
       0.08,
       0.5},
      {"dwell_time",
       hours(12),
       {hours(24)},
       false,
       Polarity::kPositive,
       ValueKind::kSum,
       0.02,
       0.0},
  };
  for (size_t i = 0; i < 6; ++i) {
    const SignalTypeDefinition& d = s.signals()[i];
    SCOPED_TRACE(d.name);
    EXPECT_EQ(d.name, expected[i].name);
    EXPECT_EQ(d.id, i);
    EXPECT_EQ(d.half_life, expected[i].half_life);
    EXPECT_EQ(d.windows, expected[i].windows);
    EXPECT_EQ(d.velocity, expected[i].velocity);
    EXPECT_EQ(d.polarity, expected[i].polarity);
    EXPECT_EQ(d.value_kind, expected[i].value_kind);
    EXPECT_EQ(d.learning_rate, expected[i].learning_rate);
    EXPECT_EQ(d.affinity_delta, expected[i].affinity_delta);
    EXPECT_EQ(s.find_signal(expected[i].name), &d);
  }
  EXPECT_EQ(default_signal_specs().size(), 6u);
}

TEST(SchemaBuilder, LambdaIsLn2OverHalfLife) {
  for (Duration h : {Duration(seconds(1)), Duration(hours(6)), Duration(hours(12)),
                     Duration(std::chrono::microseconds(1234567891)), days(3650)}) {
    SignalTypeSpec spec = signal("view");
    spec.half_life = h;
    Result<Schema> r = build_with(spec);
    ASSERT_TRUE(r.ok());
    double expected = std::numbers::ln2 / (static_cast<double>(h.count()) / 1e6);
    double got = r->signals()[0].lambda_per_second;
    EXPECT_LT(std::fabs(got - expected) / expected, 1e-12) << h.count();
    // After one half-life the decay factor is one half.
    EXPECT_NEAR(std::exp(-got * static_cast<double>(h.count()) / 1e6), 0.5, 1e-12);
  }
}

TEST(SchemaBuilder, WindowsAreDedupedAndSorted) {
  SignalTypeSpec spec = signal("view");
  spec.windows = {days(7), hours(1), hours(24), hours(1), days(7), minutes(60)};
  Result<Schema> r = build_with(spec);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_THAT(r->signals()[0].windows, ElementsAre(hours(1), hours(24), days(7)));
}

TEST(SchemaBuilder, IdsAreDenseInDeclarationOrder) {
  Schema s = build_ok(SchemaBuilder()
                          .add_signal(signal("b"))
                          .add_signal(signal("a"))
                          .add_attribute(EntityKind::kItem, attribute("z", AttributeType::kInt))
                          .add_attribute(EntityKind::kUser, attribute("y", AttributeType::kInt))
                          .add_attribute(EntityKind::kItem, attribute("x", AttributeType::kBool)));
  EXPECT_EQ(s.find_signal("b")->id, 0);
  EXPECT_EQ(s.find_signal("a")->id, 1);
  EXPECT_EQ(s.find_attribute(EntityKind::kItem, "z")->id, 0);
  EXPECT_EQ(s.find_attribute(EntityKind::kItem, "x")->id, 1);
  EXPECT_EQ(s.find_attribute(EntityKind::kUser, "y")->id, 0);
  EXPECT_EQ(s.find_attribute(EntityKind::kUser, "z"), nullptr);
  EXPECT_TRUE(s.attributes(EntityKind::kCreator).empty());
}

TEST(SchemaBuilder, ExtendingKeepsIdsAndBumpsVersion) {
  Schema v1 = build_ok(SchemaBuilder::with_default_signals().add_attribute(
      EntityKind::kItem, attribute("category", AttributeType::kKeyword)));
  EXPECT_EQ(v1.version(), 1u);

  Schema v2 =
      build_ok(SchemaBuilder(v1)
                   .add_signal(signal("save"))
                   .add_attribute(EntityKind::kItem, attribute("title", AttributeType::kText))
                   .add_attribute(EntityKind::kUser, attribute("age", AttributeType::kInt)));
  EXPECT_EQ(v2.version(), 2u);
  ASSERT_EQ(v2.signals().size(), 7u);
  for (size_t i = 0; i < v1.signals().size(); ++i) EXPECT_EQ(v2.signals()[i], v1.signals()[i]);
  EXPECT_EQ(v2.find_signal("save")->id, 6);
  EXPECT_EQ(v2.find_attribute(EntityKind::kItem, "category")->id, 0);
  EXPECT_EQ(v2.find_attribute(EntityKind::kItem, "title")->id, 1);
  EXPECT_EQ(v2.find_attribute(EntityKind::kUser, "age")->id, 0);

  Schema v3 = build_ok(SchemaBuilder(v2).add_signal(signal("report")));
  EXPECT_EQ(v3.version(), 3u);
  EXPECT_EQ(v3.find_signal("save")->id, 6);
  EXPECT_EQ(v3.find_signal("report")->id, 7);
}

TEST(SchemaBuilder, ExtendingWithNothingReturnsTheBase) {
  Schema v1 = build_ok(SchemaBuilder::with_default_signals());
  Schema same = build_ok(SchemaBuilder(v1));
  EXPECT_EQ(same.version(), 1u);
  EXPECT_EQ(same, v1);
}

TEST(SchemaBuilder, ExtendingCannotRedeclare) {
  Schema v1 = build_ok(SchemaBuilder::with_default_signals());
  Result<Schema> r = SchemaBuilder(v1).add_signal(signal("like")).build();
  EXPECT_SCHEMA_INVALID(
      r, "signals[6].name", "like",
      "is already declared by signals[1] in the schema being extended (version 1)");
  Schema with_attr = build_ok(
      SchemaBuilder(v1).add_attribute(EntityKind::kUser, attribute("age", AttributeType::kInt)));
  r = SchemaBuilder(with_attr)
          .add_attribute(EntityKind::kUser, attribute("age", AttributeType::kFloat))
          .build();
  EXPECT_SCHEMA_INVALID(r, "attributes.user[1].name", "age",
                        "is already declared by attributes.user[0] in the schema being extended "
                        "(version 2)");
}

TEST(SchemaBuilder, FailedExtensionLeavesTheBaseAlone) {
  Schema v1 = build_ok(SchemaBuilder::with_default_signals());
  SignalTypeSpec bad = signal("save");
  bad.half_life = Duration(0);
  EXPECT_FALSE(SchemaBuilder(v1).add_signal(bad).build().ok());
  EXPECT_EQ(v1.signals().size(), 6u);
  EXPECT_EQ(v1.version(), 1u);
}

TEST(SchemaBuilder, CopiesShareAndCompareEqual) {
  Schema a = build_ok(SchemaBuilder::with_default_signals());
  Schema b = a;
  EXPECT_EQ(&a.signals(), &b.signals());
  EXPECT_EQ(a, b);
  // Equal content built twice is equal too.
  EXPECT_EQ(a, build_ok(SchemaBuilder::with_default_signals()));
  EXPECT_FALSE(a == Schema());
}

TEST(SchemaEnumNames, RoundTrip) {
  for (Polarity p : {Polarity::kPositive, Polarity::kNegative}) {
    EXPECT_EQ(parse_polarity(polarity_name(p)).value(), p);
  }
  for (ValueKind v : {ValueKind::kCount, ValueKind::kSum}) {
    EXPECT_EQ(parse_value_kind(value_kind_name(v)).value(), v);
  }
  for (int t = 0; t <= 7; ++t) {
    auto type = static_cast<AttributeType>(t);
    EXPECT_EQ(parse_attribute_type(attribute_type_name(type)).value(), type);
  }
  for (VectorMetric m : {VectorMetric::kCosine, VectorMetric::kDot, VectorMetric::kL2}) {
    EXPECT_EQ(parse_vector_metric(vector_metric_name(m)).value(), m);
  }
  for (EntityKind k : kEntityKinds) EXPECT_EQ(parse_entity_kind(entity_kind_name(k)).value(), k);
  EXPECT_EQ(attribute_type_name(AttributeType::kKeyword), "keyword");
  EXPECT_EQ(attribute_type_name(AttributeType::kTimestamp), "timestamp");
  EXPECT_EQ(vector_metric_name(VectorMetric::kL2), "l2");
  EXPECT_EQ(entity_kind_name(EntityKind::kCreator), "creator");
  EXPECT_EQ(polarity_name(static_cast<Polarity>(9)), "unknown");
}

TEST(SchemaEnumNames, UnknownNamesListTheAccepted) {
  Result<AttributeType> t = parse_attribute_type("string", "attributes.item.title.type");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().field(), "attributes.item.title.type");
  EXPECT_EQ(t.status().message(),
            "attributes.item.title.type = \"string\": unknown attribute type; expected one of "
            "keyword, text, int, float, bool, timestamp, tags, vector");
  EXPECT_THAT(parse_polarity("Positive").status().message(),
              HasSubstr("polarity = \"Positive\": unknown polarity; expected one of positive, "
                        "negative"));
  EXPECT_THAT(parse_value_kind("avg").status().message(), HasSubstr("expected one of count, sum"));
  EXPECT_THAT(parse_vector_metric("euclid").status().message(),
              HasSubstr("expected one of cosine, dot, l2"));
  EXPECT_THAT(
      parse_entity_kind("items").status().message(),
      HasSubstr("kind = \"items\": unknown entity kind; expected one of item, user, creator"));
}

}  // namespace
}  // namespace tidal::schema_test
