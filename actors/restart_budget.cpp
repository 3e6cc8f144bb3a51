// actors/restart_budget.cpp -- see restart_budget.hpp.
#include "actors/restart_budget.hpp"

namespace stenotype {

restart_budget::restart_budget(std::uint32_t max, std::chrono::seconds window, std::chrono::seconds first_delay)
  : max_(max), window_(window), first_delay_(first_delay) {}

std::optional<std::chrono::seconds> restart_budget::admit(clock::time_point now) {
  while (!recent_.empty() && now - recent_.front() > window_)
    recent_.pop_front();
  if (recent_.size() >= max_)
    return std::nullopt;
  const auto delay = first_delay_ * (std::int64_t{1} << recent_.size());
  recent_.push_back(now);
  return delay;
}

} // namespace stenotype
