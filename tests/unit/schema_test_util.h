// Helpers shared by the schema tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tidal/schema.h"

namespace tidal::schema_test {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

inline Duration days(int64_t n) {
  return hours(24 * n);
}

// A valid signal spec to vary one field of.
inline SignalTypeSpec signal(std::string name) {
  return SignalTypeSpec{.name = std::move(name), .half_life = hours(6), .windows = {hours(24)}};
}

inline AttributeSpec attribute(std::string name, AttributeType type) {
  return AttributeSpec{.name = std::move(name), .type = type};
}

inline Result<Schema> build_with(SignalTypeSpec spec) {
  return SchemaBuilder().add_signal(std::move(spec)).build();
}

inline Result<Schema> build_with(EntityKind kind, AttributeSpec spec) {
  return SchemaBuilder().add_attribute(kind, std::move(spec)).build();
}

inline Schema build_ok(const SchemaBuilder& builder) {
  Result<Schema> r = builder.build();
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r.value() : Schema();
}

// Asserts `r` failed with InvalidArgument about `field`, with a message that
// names the field, shows `value` quoted and contains `rule`.
#define EXPECT_SCHEMA_INVALID(r, field_name, value, rule)                                  \
  do {                                                                                     \
    const auto& r_ = (r);                                                                  \
    ASSERT_FALSE(r_.ok()) << "expected a schema error about " << (field_name);             \
    EXPECT_EQ(r_.status().code(), ::tidal::StatusCode::kInvalidArgument);                  \
    EXPECT_EQ(r_.status().subsystem(), ::tidal::Subsystem::kSchema);                       \
    EXPECT_EQ(r_.status().field(), (field_name));                                          \
    EXPECT_THAT(r_.status().message(),                                                     \
                ::testing::HasSubstr(std::string(field_name) + " = \"" + (value) + "\"")); \
    EXPECT_THAT(r_.status().message(), ::testing::HasSubstr(rule));                        \
  } while (0)

}  // namespace tidal::schema_test
