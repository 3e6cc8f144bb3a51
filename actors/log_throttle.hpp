// actors/log_throttle.hpp -- at most a few lines a minute about one kind of
// event, however often it happens.
//
// A refused connection or a bad request is worth a line in the log, but a
// scanner hammering the query port must not flood it: each kind of event
// gets `burst` lines per `window`; the next line after a quiet spell says
// how many were left out. Thread-safe (request threads share one).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace stenotype {

class log_throttle {
public:
  using clock = std::chrono::steady_clock;

  explicit log_throttle(unsigned burst = 10, clock::duration window = std::chrono::minutes(1))
    : burst_(burst), window_(window) {}

  /// Whether to log now. When true, `suppressed` is set to the number of
  /// events left out since the last line (0 usually).
  bool admit(std::uint64_t& suppressed, clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    if (now - window_start_ >= window_) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= burst_) {
      ++suppressed_;
      return false;
    }
    ++in_window_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

  /// " (N similar lines left out)" or "".
  static std::string note(std::uint64_t suppressed) {
    return suppressed ? " (" + std::to_string(suppressed) + " similar lines left out)" : std::string();
  }

private:
  std::mutex mutex_;
  unsigned burst_;
  clock::duration window_;
  clock::time_point window_start_{};
  unsigned in_window_ = 0;
  std::uint64_t suppressed_ = 0;
};

} // namespace stenotype
