// actors/supervisor.hpp -- monitors the pipeline, restarts indexers, reports the outcome.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include "actors/children.hpp"
#include "actors/indexer.hpp"
#include "actors/protocol.hpp"
#include "actors/service.hpp"

namespace stenotype {

/// The actors of one capture thread, as wired together; the indexer may be
/// invalid (--no_index).
struct thread_actors {
  reader_actor reader;
  writer_actor writer;
  indexer_actor indexer;
  indexer_init indexer_config; ///< to restart the indexer with
  std::deque<file_event> recent_files; ///< last files written, repeated to a restarted indexer
};

struct supervisor_state {
  std::vector<thread_actors> threads; // the pipeline's wiring, per capture thread
  retention_actor retention;          // of the whole capture; may be invalid
  child_table children;               // every component watched, whatever its role
  caf::error outcome;                 // none until something fails the capture
  bool finished = false;              // outcome final: all down, or a component hung
  bool stopping = false;
  bool services_stopped = false;
  std::uint64_t files_written = 0;
  std::string last_error;             // the most recent failure, "<actor>: <reason>"
  std::optional<errc> last_error_code; // and its code
  std::vector<caf::response_promise> waiters; // `wait` requests, answered with the outcome
  static inline const char* name = "stenotype-supervisor";
};

/// An indexer that fails is restarted after a back-off (1 s, then 2 s, 4 s:
/// a persistent cause -- a full or read-only index directory -- must not
/// turn into a hot loop) at most this often within the window; once more and
/// the capture fails (the service manager restarts the process, whose
/// recovery rebuilds missing indexes). The writer keeps writing while the
/// indexer is replaced; the replacement holds new blocks only while it
/// indexes a missed file from disk.
inline constexpr std::uint32_t max_indexer_restarts = 3;
inline constexpr std::chrono::seconds restart_window{60};
inline constexpr std::chrono::seconds first_restart_delay{1};

/// Monitors every actor in `threads` and the retention actor. A failing
/// reader, writer or retention actor stops the capture (all readers drain
/// and stop, downstream actors of a dead reader get eos) and becomes the
/// outcome; a failing indexer is replaced (see above) unless its code says
/// a restart cannot help -- one that failed for lack of space has the
/// retention actor free space on its filesystem first. The retention actor
/// hears of every written file from here, and is stopped once every writer
/// is down. When all are down,
/// `wait_atom` requests are answered with the outcome and the supervisor
/// quits.
/// The services (actors/service.hpp) are spawned here, watched like the
/// rest but not essential: one that fails or hangs is logged and the
/// capture goes on; they are stopped with the capture (at stop, or when the
/// last essential component is down). A service still hung then makes the
/// outcome errc::hung_component (its thread cannot be ended).
/// With `watchdog_sec` > 0, every component must answer a status request
/// within that time, checked every third of it; one that does not (a hung
/// disk, a stuck thread) is the capture's outcome at once: `wait` answers
/// with errc::hung_component. The supervisor cannot end a hung thread; the
/// application decides (`stenotype` exits 1 for the service manager to
/// restart it; hidden files are recovered then).
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::vector<thread_actors> threads, retention_actor retention, std::vector<service_spec> services,
           std::uint32_t watchdog_sec);

} // namespace stenotype
