// tests/support/wait.hpp -- polling for a condition the test cannot be told of.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace stenotype::test {

/// Polls `done` every 200 ms until it holds (true) or `limit` has passed (false).
inline bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

} // namespace stenotype::test
