// actors/clock.hpp -- wall-clock and monotonic microseconds.
#pragma once

#include <cstdint>
#include <time.h>

namespace stenotype {

inline std::uint64_t micros(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u
         + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

/// Microseconds since the epoch: file names.
inline std::uint64_t wall_micros() { return micros(CLOCK_REALTIME); }
/// Microseconds of a clock that never steps: intervals.
inline std::uint64_t steady_micros() { return micros(CLOCK_MONOTONIC); }

} // namespace stenotype
