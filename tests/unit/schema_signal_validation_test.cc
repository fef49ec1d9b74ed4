// Every rule a signal type declaration must follow, and the message that says
// which field broke it.
#include <cmath>
#include <limits>

#include "schema_test_util.h"

namespace tidal::schema_test {
namespace {

TEST(SchemaSignalValidation, NameMustBeAnIdentifier) {
  for (const char* bad : {"", "View", "1view", "_view", "view-count", "vi ew"}) {
    EXPECT_SCHEMA_INVALID(build_with(signal(bad)), "signals[0].name", bad,
                          "must match ^[a-z][a-z0-9_]{0,63}$");
  }
  // Bytes outside printable ASCII are shown escaped.
  EXPECT_SCHEMA_INVALID(build_with(signal("caf\xc3\xa9")), "signals[0].name", "caf\\xc3\\xa9",
                        "must match");
}

TEST(SchemaSignalValidation, NameLengthLimitIs64) {
  std::string longest(64, 'a');
  EXPECT_TRUE(build_with(signal(longest)).ok());
  std::string too_long(65, 'a');
  EXPECT_SCHEMA_INVALID(build_with(signal(too_long)), "signals[0].name", too_long,
                        "at most 63 lowercase letters");
}

TEST(SchemaSignalValidation, DuplicateNames) {
  Result<Schema> r = SchemaBuilder()
                         .add_signal(signal("view"))
                         .add_signal(signal("like"))
                         .add_signal(signal("view"))
                         .build();
  EXPECT_SCHEMA_INVALID(r, "signals[2].name", "view", "is already declared by signals[0]");
}

TEST(SchemaSignalValidation, ReservedNames) {
  for (const char* word : {"hot", "new", "trending", "where", "and", "limit", "window", "for_you",
                           "similarity", "true", "null", "max", "most_viewed", "decay"}) {
    EXPECT_SCHEMA_INVALID(build_with(signal(word)), "signals[0].name", word,
                          "is reserved (TQL reads it as a keyword, sort mode or function)");
  }
  // The default signal names are not reserved.
  for (const char* ok : {"view", "like", "skip", "share", "completion", "dwell_time", "hotness"}) {
    EXPECT_TRUE(build_with(signal(ok)).ok()) << ok;
  }
}

TEST(SchemaSignalValidation, HalfLifeRange) {
  SignalTypeSpec spec = signal("view");
  spec.half_life = Duration(0);
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.half_life", "0s",
                        "must be between 1s and 3650d");
  spec.half_life = std::chrono::milliseconds(999);
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.half_life", "999ms",
                        "must be between 1s and 3650d");
  spec.half_life = -hours(1);
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.half_life", "-1h",
                        "must be between 1s and 3650d");
  spec.half_life = days(3650) + Duration(1);
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.half_life", "3650d1us",
                        "must be between 1s and 3650d");
  spec.half_life = seconds(1);
  EXPECT_TRUE(build_with(spec).ok());
  spec.half_life = days(3650);
  EXPECT_TRUE(build_with(spec).ok());
}

TEST(SchemaSignalValidation, WindowRange) {
  SignalTypeSpec spec = signal("view");
  spec.windows = {hours(1), seconds(30)};
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.windows[1]", "30s",
                        "must be between 1m and 365d");
  spec.windows = {days(366)};
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.windows[0]", "366d",
                        "must be between 1m and 365d");
  spec.windows = {minutes(1), days(365)};
  EXPECT_TRUE(build_with(spec).ok());
}

TEST(SchemaSignalValidation, WindowsAreWholeMinutes) {
  SignalTypeSpec spec = signal("view");
  spec.windows = {seconds(90)};
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.windows[0]", "1m30s",
                        "must be a whole number of minutes");
}

TEST(SchemaSignalValidation, AtMostEightDistinctWindows) {
  SignalTypeSpec spec = signal("view");
  spec.windows.clear();
  for (int i = 1; i <= 8; ++i) spec.windows.push_back(minutes(i));
  spec.windows.push_back(minutes(3));  // a duplicate does not count
  EXPECT_TRUE(build_with(spec).ok());
  spec.windows.push_back(minutes(9));
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.windows",
                        "[1m, 2m, 3m, 4m, 5m, 6m, 7m, 8m, 9m]", "at most 8 distinct windows");
}

TEST(SchemaSignalValidation, NoWindowsIsAllowedWithoutVelocity) {
  SignalTypeSpec spec = signal("view");
  spec.windows.clear();
  EXPECT_TRUE(build_with(spec).ok());
}

TEST(SchemaSignalValidation, VelocityNeedsAWindow) {
  SignalTypeSpec spec = signal("view");
  spec.windows.clear();
  spec.velocity = true;
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.velocity", "true",
                        "needs at least one window");
}

TEST(SchemaSignalValidation, LearningRate) {
  SignalTypeSpec spec = signal("view");
  spec.learning_rate = -0.01;
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.learning_rate", "-0.01",
                        "must be a finite number between 0 and 1");
  spec.learning_rate = std::numeric_limits<double>::infinity();
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.learning_rate", "inf",
                        "must be a finite number between 0 and 1");
  spec.learning_rate = 1.5;
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.learning_rate", "1.5",
                        "must be a finite number between 0 and 1");
  spec.learning_rate = std::numeric_limits<double>::quiet_NaN();
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.learning_rate", "nan", "finite");
  for (double ok : {0.0, 0.5, 1.0}) {
    spec.learning_rate = ok;
    EXPECT_TRUE(build_with(spec).ok()) << ok;
  }
}

TEST(SchemaSignalValidation, AffinityDelta) {
  SignalTypeSpec spec = signal("view");
  spec.affinity_delta = -1000.5;
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.affinity_delta", "-1000.5",
                        "must be a finite number between -1000 and 1000");
  spec.affinity_delta = std::numeric_limits<double>::infinity();
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.affinity_delta", "inf",
                        "must be a finite number between -1000 and 1000");
  for (double ok : {-1000.0, 0.0, 1000.0}) {
    spec.affinity_delta = ok;
    EXPECT_TRUE(build_with(spec).ok()) << ok;
  }
}

TEST(SchemaSignalValidation, UnknownEnumValues) {
  SignalTypeSpec spec = signal("view");
  spec.polarity = static_cast<Polarity>(7);
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.polarity", "7",
                        "unknown polarity; expected positive or negative");
  spec = signal("view");
  spec.value_kind = static_cast<ValueKind>(9);
  EXPECT_SCHEMA_INVALID(build_with(spec), "signals.view.value_kind", "9",
                        "unknown value kind; expected count or sum");
}

TEST(SchemaSignalValidation, AtMost1024SignalTypes) {
  SchemaBuilder builder;
  for (int i = 0; i < 1024; ++i)
    builder.add_signal(signal(std::string("s").append(std::to_string(i))));
  Result<Schema> ok = builder.build();
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->signals().back().id, 1023);
  builder.add_signal(signal("s1024"));
  EXPECT_SCHEMA_INVALID(builder.build(), "signals", "1025",
                        "at most 1024 signal types may be declared");
}

TEST(SchemaSignalValidation, FieldsOfAnUnusableNameAreNamedByPosition) {
  SignalTypeSpec spec = signal("Bad");
  spec.half_life = Duration(0);
  Result<Schema> r = build_with(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("signals[0].half_life = \"0s\""));
}

TEST(SchemaSignalValidation, EveryErrorIsReportedOneLineEach) {
  SignalTypeSpec a = signal("view");
  a.half_life = Duration(0);
  a.learning_rate = 2;
  SignalTypeSpec b = signal("hot");
  Result<Schema> r = SchemaBuilder().add_signal(a).add_signal(b).build();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "signals.view.half_life");
  EXPECT_EQ(r.status().message(),
            "signals.view.half_life = \"0s\": must be between 1s and 3650d\n"
            "signals.view.learning_rate = \"2\": must be a finite number between 0 and 1\n"
            "signals[1].name = \"hot\": is reserved (TQL reads it as a keyword, sort mode or "
            "function)");
}

TEST(SchemaSignalValidation, LongErrorListsAreCut) {
  SchemaBuilder builder;
  for (int i = 0; i < 40; ++i) builder.add_signal(signal("Bad" + std::to_string(i)));
  Result<Schema> r = builder.build();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("signals[31].name"));
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("signals[32].name")));
  EXPECT_THAT(r.status().message(), HasSubstr("(and 8 more errors)"));
}

}  // namespace
}  // namespace tidal::schema_test
