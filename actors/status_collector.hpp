// actors/status_collector.hpp -- one round of status requests to the components.
//
// Serves both the capture's `status` answer (which wants the answers) and
// the watchdog (which wants to know who stayed silent): every component is
// asked at once, and the round ends when each has answered, timed out or
// turned out to be gone.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/sec.hpp>
#include <caf/settings.hpp>

#include "actors/children.hpp"
#include "stenotype/protocol.hpp"

namespace stenotype {

struct status_results {
  std::vector<std::pair<child_key, caf::settings>> answers;
  std::vector<child_key> silent; ///< did not answer in time: busy or hung
};

/// Counts the replies of one round; calls `done` once, after the last.
class status_round {
public:
  using done_fn = std::function<void(status_results&&)>;

  status_round(std::size_t asked, done_fn done) : pending_(asked), done_(std::move(done)) {
    if (pending_ == 0)
      done_(std::move(results_));
  }

  void answered(const child_key& key, caf::settings s) {
    results_.answers.emplace_back(key, std::move(s));
    settle();
  }
  void failed(const child_key& key, const caf::error& e) {
    if (e == caf::sec::request_timeout)
      results_.silent.push_back(key);
    // Any other error: it ended meanwhile; its down message says how.
    settle();
  }

private:
  void settle() {
    if (--pending_ == 0)
      done_(std::move(results_));
  }

  std::size_t pending_;
  done_fn done_;
  status_results results_;
};

/// Asks every target for its status, each within `timeout`.
template <class Self>
void collect_status(Self* self, const std::vector<std::pair<child_key, status_api>>& targets,
                    caf::timespan timeout, status_round::done_fn done) {
  auto round = std::make_shared<status_round>(targets.size(), std::move(done));
  for (const auto& [key, handle] : targets)
    self->request(handle, timeout, status_atom::value)
      .then([round, k = key](caf::settings& s) { round->answered(k, std::move(s)); },
            [round, k = key](caf::error& e) { round->failed(k, e); });
}

} // namespace stenotype
