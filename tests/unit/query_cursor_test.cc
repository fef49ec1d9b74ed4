// The cursor codec on its own: what a page hands out reads back exactly, and
// anything else is refused naming the field.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "query/cursor.h"
#include "query/parser.h"

namespace tidal::query {
namespace {

TEST(QueryCursorTest, ACursorReadsBackAsWritten) {
  for (double key : {0.0, -1.5, 1e300, -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    Cursor c{.fingerprint = 0x0123456789abcdefULL, .last = {key, 4242}, .seed = 77};
    const std::string text = encode_cursor(c);
    Result<Cursor> back = decode_cursor(text);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->fingerprint, c.fingerprint);
    EXPECT_EQ(back->last.id, 4242u);
    EXPECT_EQ(back->seed, 77u);
    if (std::isnan(key)) {
      EXPECT_TRUE(std::isnan(back->last.key));
    } else {
      EXPECT_EQ(back->last.key, key);
    }
  }
}

TEST(QueryCursorTest, AnythingElseIsRefusedNamingTheField) {
  const std::string good = encode_cursor(Cursor{.fingerprint = 1, .last = {2.0, 3}, .seed = 4});
  std::string altered = good;
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  for (const std::string& text :
       {altered, good.substr(1), good + "A", std::string("a+b"), std::string()}) {
    Result<Cursor> r = decode_cursor(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().field(), "cursor");
    EXPECT_NE(r.status().message().find("pass the cursor of the previous page unchanged"),
              std::string::npos)
        << r.status().to_string();
  }
}

TEST(QueryCursorTest, TheFingerprintIgnoresCursorAndLimitButNotTheQuery) {
  auto fp = [](const char* tql) {
    Result<Statement> s = parse(tql);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return fingerprint_of(*s);
  };
  EXPECT_EQ(fp("RANK items BY hot LIMIT 5"), fp("RANK items BY hot LIMIT 50 CURSOR 'x'"));
  EXPECT_NE(fp("RANK items BY hot LIMIT 5"), fp("RANK items BY top LIMIT 5"));
  EXPECT_NE(fp("NEAREST items TO VECTOR [1, 0] USING v"),
            fp("NEAREST items TO VECTOR [0, 1] USING v"));
}

TEST(QueryCursorTest, OrderIsByKeyDescendingNaNLastThenFirstSeen) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(before({2, 9}, {1, 0}));
  EXPECT_TRUE(before({1, 0}, {1, 9}));
  EXPECT_TRUE(before({-std::numeric_limits<double>::infinity(), 5}, {nan, 0}));
  EXPECT_FALSE(before({nan, 0}, {0, 1}));
  EXPECT_EQ(order_key(3, true), -3);
}

}  // namespace
}  // namespace tidal::query
