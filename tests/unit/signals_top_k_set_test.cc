#include <gtest/gtest.h>

#include "signals/top_k_set.h"

namespace tidal::signals {
namespace {

std::string items(const std::vector<ScoredItem>& v) {
  std::string out;
  for (const ScoredItem& s : v) out += std::to_string(s.item) + "=" + std::to_string(s.score) + " ";
  return out;
}

TEST(TopKSet, KeepsTheBestAsScoresRise) {
  TopKSet set(3);
  set.offer(1, 1);
  set.offer(2, 2);
  set.offer(3, 3);
  set.offer(4, 0.5);  // worse than every item inside: not kept
  EXPECT_EQ(items(set.top(10)), "3=3.000000 2=2.000000 1=1.000000 ");
  set.offer(1, 5);  // an increase of an item inside
  EXPECT_EQ(items(set.top(10)), "1=5.000000 3=3.000000 2=2.000000 ");
  set.offer(4, 2.5);  // evicts the worst
  EXPECT_EQ(items(set.top(10)), "1=5.000000 3=3.000000 4=2.500000 ");
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(items(set.top(1)), "1=5.000000 ");
}

TEST(TopKSet, TiesGoToTheSmallerIndex) {
  TopKSet set(2);
  set.offer(7, 1);
  set.offer(5, 1);
  set.offer(9, 1);  // ties with the worst, larger index: not kept
  EXPECT_EQ(items(set.top(5)), "5=1.000000 7=1.000000 ");
  set.offer(2, 1);  // ties with the worst, smaller index: evicts 7
  EXPECT_EQ(items(set.top(5)), "2=1.000000 5=1.000000 ");
}

TEST(TopKSet, RebuildAndRescale) {
  TopKSet set(3);
  set.offer(100, 9);
  set.rebuild({{1, 1}, {2, 4}, {3, 4}, {4, 0}, {5, 2}});
  EXPECT_EQ(items(set.top(10)), "2=4.000000 3=4.000000 5=2.000000 ");
  set.rescale(0.5);
  EXPECT_EQ(items(set.top(10)), "2=2.000000 3=2.000000 5=1.000000 ");
  set.rescale(1e-320);  // 1e-320 × 2 is subnormal but > 0; 1e-320 × 1 too
  EXPECT_EQ(set.size(), 3u);
  set.rescale(1e-10);  // underflows to 0: they leave
  EXPECT_EQ(set.size(), 0u);
  TopKSet none(0);
  none.offer(1, 1);
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace tidal::signals
