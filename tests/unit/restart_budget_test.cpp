// The restart budget: back-off doubling within the window, a hard limit,
// and a fresh budget once old restarts leave the window.
#include <catch2/catch.hpp>

#include "actors/restart_budget.hpp"

using namespace stenotype;
using namespace std::chrono_literals;

namespace {

const restart_budget::clock::time_point t0{};

// Three failures at these times (after t0), each admitted with twice the
// delay of the one before.
void three_restarts(restart_budget& b, std::chrono::seconds a, std::chrono::seconds c, std::chrono::seconds d) {
  CHECK(b.admit(t0 + a) == 1s);
  CHECK(b.admit(t0 + c) == 2s);
  CHECK(b.admit(t0 + d) == 4s);
}

} // namespace

TEST_CASE("restarts back off 1 s, 2 s, 4 s, and the fourth failure within the window is final") {
  restart_budget b{3, 60s, 1s};
  three_restarts(b, 0s, 5s, 10s);
  CHECK_FALSE(b.admit(t0 + 20s));
  CHECK_FALSE(b.admit(t0 + 30s)); // a refusal does not count as a restart, nor free one
}

TEST_CASE("restarts that left the window no longer count") {
  restart_budget b{3, 60s, 1s};
  three_restarts(b, 0s, 10s, 20s);
  CHECK_FALSE(b.admit(t0 + 59s));
  // The first restart is now more than 60 s old: one slot, and the delay
  // follows the two restarts still within the window.
  CHECK(b.admit(t0 + 61s) == 4s);
  CHECK_FALSE(b.admit(t0 + 62s));
  // Long quiet: the full budget again, from the first delay.
  CHECK(b.admit(t0 + 200s) == 1s);
}

TEST_CASE("a budget of zero restarts refuses the first failure") {
  restart_budget b{0, 60s, 1s};
  CHECK_FALSE(b.admit(t0));
  CHECK(b.max() == 0);
  CHECK(b.window() == 60s);
}

TEST_CASE("a restart helps unless the component cannot accept its settings or has not ended") {
  CHECK(restart_can_help(errc::no_space));
  CHECK(restart_can_help(errc::permission));
  CHECK(restart_can_help(errc::io_error));
  CHECK(restart_can_help(errc::damaged_index));
  CHECK(restart_can_help(errc::internal));
  CHECK_FALSE(restart_can_help(errc::bad_option));
  CHECK_FALSE(restart_can_help(errc::hung_component));
}
