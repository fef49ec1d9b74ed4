// ChunkedArray: growth by a far index makes every lower index readable.
#include <gtest/gtest.h>

#include <memory>

#include "signals/chunked_array.h"

namespace tidal::signals {
namespace {

TEST(ChunkedArray, EnsureFarIndexMakesLowerChunksReadable) {
  using Array = ChunkedArray<int>;
  auto a = std::make_unique<Array>();
  const uint32_t far = 3 * Array::kChunkSize + 5;
  a->ensure(far);
  EXPECT_EQ(a->size(), far + 1);
  for (uint32_t i = 0; i < a->size(); i += 997) EXPECT_EQ((*a)[i], 0) << i;
  (*a)[3] = 7;
  a->ensure(2);  // already valid: nothing changes
  EXPECT_EQ((*a)[3], 7);
  a->ensure(5 * Array::kChunkSize);
  EXPECT_EQ((*a)[4 * Array::kChunkSize + 1], 0);
  EXPECT_EQ((*a)[3], 7);
}

}  // namespace
}  // namespace tidal::signals
