// Catch2's runner, with a skipped test case reported to CTest (support/skip.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support/skip.hpp"

int main(int argc, char** argv) { return stenotype::test::exit_code(Catch::Session().run(argc, argv)); }
