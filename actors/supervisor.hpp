// actors/supervisor.hpp -- monitors the pipeline and reports its outcome.
#pragma once

#include <vector>

#include <caf/actor.hpp>

#include "stenotype/protocol.hpp"

namespace stenotype {

/// The actors of one capture thread; the indexer may be invalid.
struct thread_actors {
  reader_actor reader;
  writer_actor writer;
  indexer_actor indexer;
};

struct supervisor_state {
  std::vector<thread_actors> threads;
  std::size_t alive = 0;           // monitored actors still running
  int exit_code = 0;               // 0 until something fails
  bool stopping = false;
  std::uint64_t files_written = 0;
  std::vector<caf::response_promise> waiters; // answered when all are down
  static inline const char* name = "stenotype-supervisor";
};

/// Monitors every actor in `threads`. A failing actor stops the capture (all
/// readers drain and stop, downstream actors of a dead reader get eos) and
/// makes the outcome non-zero. When all are down, `wait_atom` requests are
/// answered with the outcome and the supervisor quits.
/// With `watchdog_sec` > 0, every component must answer a status request
/// within that time, checked every third of it; one that does not (a hung
/// disk, a stuck thread) is logged and the process exits with status 1 so
/// that the service manager restarts it (hidden files are recovered then).
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::vector<thread_actors> threads, std::uint32_t watchdog_sec);

} // namespace stenotype
