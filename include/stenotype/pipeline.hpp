// stenotype/pipeline.hpp -- the capture pipeline as a library.
//
// An application with its own caf::actor_system (CAF 0.17) embeds a capture:
//
//     stenotype::capture_options opts;
//     opts.iface = "eth1";
//     opts.dir = "/var/lib/stenotype";
//     auto p = stenotype::spawn_pipeline(system, opts);   // throws on setup errors
//     self->monitor(p.supervisor);
//     self->send(p.supervisor, stenotype::stop_atom::value); // later: flush and stop
//
// Rings are opened inside spawn_pipeline, in the caller's thread, so this is
// the call that needs CAP_NET_RAW; afterwards privileges may be dropped.
// The actors run on threads of their own and do not block the scheduler.
#pragma once

#include <functional>
#include <vector>

#include <caf/actor_system.hpp>

#include "stenotype/options.hpp"
#include "stenotype/protocol.hpp"

namespace stenotype {

struct pipeline {
  supervisor_actor supervisor;          ///< stop, wait, status for the whole capture
  std::vector<reader_actor> readers;    ///< one per thread
  std::vector<writer_actor> writers;    ///< one per thread
  std::vector<indexer_actor> indexers;  ///< one per thread, empty with --no_index
};

/// Validates `opts`, creates DIR/PKT<n> and DIR/IDX<n>, recovers what a
/// crash left there, opens one ring per thread, calls `before_start` (the
/// place to drop privileges: rings are open, no file is written yet), and
/// spawns the actors. Throws std::runtime_error (one line) when any of that
/// fails; nothing is left running then.
pipeline spawn_pipeline(caf::actor_system& system, const capture_options& opts,
                        const std::function<void()>& before_start = {});

} // namespace stenotype
