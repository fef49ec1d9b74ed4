// Running a rapidcheck property a number of cases of its own choosing.
//
// ctest sets RC_PARAMS=max_success=1000 for every property test, which suits
// cheap properties; a property whose case builds a database sets its own
// count instead. RC_PARAMS's max_success may only lower it, the environment
// variable `env` (e.g. TIDAL_ORACLE_CASES=N) sets it, and RC_PARAMS="seed=N"
// picks the seed.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

namespace tidal::testing {

template <typename Testable>
void check_cases(int cases, const char* env, Testable&& testable) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  if (const char* n = std::getenv(env)) {
    params.maxSuccess = std::max(1, std::atoi(n));
  } else {
    params.maxSuccess = std::min(params.maxSuccess, cases);
  }
  rc::detail::TestResult result = rc::detail::checkTestable(std::forward<Testable>(testable),
                                                            rc::detail::TestMetadata(), params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  const bool passed = result.template is<rc::detail::SuccessResult>();
  EXPECT_TRUE(passed) << message.str();
  if (passed) std::printf("%s", message.str().c_str());  // the case count and the tags
}

// A number in [0, n) with the same odds at every size.
template <typename T>
T roll(T n) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(0, n));
}

}  // namespace tidal::testing
