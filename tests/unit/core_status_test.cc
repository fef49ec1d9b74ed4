#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidal/status.h"

namespace tidal {
namespace {

using ::testing::HasSubstr;

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.field(), "");
}

TEST(StatusTest, InvalidNamesFieldValueAndRule) {
  Status s = Status::Invalid(Subsystem::kSchema, "signals.view.half_life", "0s",
                             "must be between 1s and 3650d");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.subsystem(), Subsystem::kSchema);
  EXPECT_EQ(s.field(), "signals.view.half_life");
  EXPECT_EQ(s.message(), "signals.view.half_life = \"0s\": must be between 1s and 3650d");
  EXPECT_EQ(s.to_string(),
            "schema: invalid argument: signals.view.half_life = \"0s\": must be between 1s and "
            "3650d");
}

TEST(StatusTest, InvalidEscapesAndShortensValues) {
  Status s = Status::Invalid(Subsystem::kQuery, "key", std::string("a\"b\x01", 4), "bad");
  EXPECT_THAT(s.message(), HasSubstr("\"a\\\"b\\x01\""));
  Status big = Status::Invalid(Subsystem::kQuery, "key", std::string(100000, 'x'), "too long");
  EXPECT_LT(big.message().size(), 300u);
  EXPECT_THAT(big.message(), HasSubstr("(100000 bytes)"));
}

TEST(StatusTest, EverySubsystemHasAName) {
  for (Subsystem s : {Subsystem::kCore, Subsystem::kSchema, Subsystem::kWal, Subsystem::kStorage,
                      Subsystem::kQuery, Subsystem::kIo, Subsystem::kServer, Subsystem::kIngest,
                      Subsystem::kEntities}) {
    EXPECT_NE(subsystem_name(s), "unknown");
  }
  EXPECT_EQ(Status::IoError(Subsystem::kServer, "x").to_string(), "server: io error: x");
  EXPECT_EQ(Status::Corruption(Subsystem::kWal, "x").to_string(), "wal: corruption: x");
}

TEST(StatusTest, CopyAndContext) {
  Status a = Status::NotFound(Subsystem::kStorage, "no such key", "key");
  Status b = a;
  EXPECT_EQ(b.to_string(), a.to_string());
  Status c = b.with_context("opening /tmp/x");
  EXPECT_EQ(c.message(), "opening /tmp/x: no such key");
  EXPECT_EQ(c.field(), "key");
  EXPECT_EQ(c.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Status().with_context("ctx").ok());
}

TEST(StatusTest, ErrnoMessage) {
  Status s = Status::IoErrorFromErrno(Subsystem::kIo, "open /nope", ENOENT);
  EXPECT_THAT(s.message(), HasSubstr("open /nope: No such file or directory"));
}

Result<int> half(int x) {
  if (x % 2 != 0) return Status::Invalid(Subsystem::kCore, "x", std::to_string(x), "must be even");
  return x / 2;
}

Status quarter(int x, int* out) {
  TIDAL_ASSIGN_OR_RETURN(int h, half(x));
  TIDAL_ASSIGN_OR_RETURN(int q, half(h));
  *out = q;
  return Status::Ok();
}

TEST(ResultTest, ValueOrStatus) {
  Result<int> r = half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  EXPECT_TRUE(r.status().ok());
  Result<int> e = half(3);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().field(), "x");

  int out = 0;
  EXPECT_TRUE(quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = quarter(6, &out);  // 6 -> 3 -> odd
  EXPECT_EQ(s.message(), "x = \"3\": must be even");
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace tidal
