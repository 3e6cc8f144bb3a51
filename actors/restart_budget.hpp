// actors/restart_budget.hpp -- how often a failed component may be replaced.
//
// A component whose cause of failure persists (a full or read-only index
// directory) must not turn into a hot restart loop: each restart within
// the window waits twice as long as the one before, and after `max`
// restarts within the window the next failure is final. Pure: time is
// passed in, so the policy is tested without waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "stenotype/error.hpp"

namespace stenotype {

class restart_budget {
public:
  using clock = std::chrono::steady_clock;

  restart_budget(std::uint32_t max, std::chrono::seconds window, std::chrono::seconds first_delay);

  /// Asks for one more restart after a failure at `now`. Returns the delay
  /// before it (first_delay, doubled for each restart still in the window),
  /// or nothing when `max` restarts already happened within the window.
  std::optional<std::chrono::seconds> admit(clock::time_point now);

  std::uint32_t max() const { return max_; }
  std::chrono::seconds window() const { return window_; }

private:
  std::uint32_t max_;
  std::chrono::seconds window_, first_delay_;
  std::deque<clock::time_point> recent_; // admitted restarts within the window
};

/// Whether replacing a failed component can help at all: a setting it
/// cannot accept stays unacceptable, and a hung component has not ended.
constexpr bool restart_can_help(errc code) {
  return code != errc::bad_option && code != errc::hung_component;
}

} // namespace stenotype
