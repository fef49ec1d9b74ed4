// The meta keyspace is shared by every part that stores small facts; their
// keys live in storage/meta_keys.h. A key that is a prefix of another's would
// make a prefix scan of one part read the other's keys.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "storage/meta_keys.h"

namespace tidal {
namespace {

TEST(MetaKeysTest, NoKeyIsAPrefixOfAnother) {
  std::set<std::string_view> seen;
  for (std::string_view a : meta_keys::kAll) {
    EXPECT_TRUE(seen.insert(a).second) << "\"" << a << "\" twice";
    for (std::string_view b : meta_keys::kAll) {
      if (a == b) continue;
      EXPECT_FALSE(b.starts_with(a)) << "\"" << a << "\" is a prefix of \"" << b << "\"";
    }
  }
  EXPECT_EQ(seen.size(), std::size(meta_keys::kAll));
}

}  // namespace
}  // namespace tidal
