// tests/support/skip.hpp -- a test case that cannot run here says so to CTest.
//
// Catch2 2 has no SKIP: a test case that returns early passes. SKIP_TEST
// records the skip instead, and the test mains (unit/main.cpp,
// integration/main.cpp) then exit with `skip_exit_code` when nothing failed,
// which CTest reports as "Skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
#pragma once

#include <catch2/catch.hpp>

namespace stenotype::test {

// CTest's SKIP_RETURN_CODE, defined once in tests/CMakeLists.txt.
inline constexpr int skip_exit_code = STENOTYPE_TEST_SKIP_CODE;

/// Test cases of this run that skipped.
inline int skipped_test_cases = 0;

/// Catch2's result (failed test cases, or its own error code) with the skip
/// folded in: `skip_exit_code` only when every test case that ran passed and
/// one skipped.
inline int exit_code(int catch_result) {
  if (catch_result != 0)
    return catch_result == skip_exit_code ? 1 : catch_result; // failures never read as a skip
  return skipped_test_cases > 0 ? skip_exit_code : 0;
}

} // namespace stenotype::test

/// In a Catch2 test case: skip the rest of it, with `reason` as a warning.
#define SKIP_TEST(reason)                                                      \
  do {                                                                         \
    WARN("skipped: " << reason);                                               \
    ++::stenotype::test::skipped_test_cases;                                   \
    return;                                                                    \
  } while (0)
