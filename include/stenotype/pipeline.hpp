// stenotype/pipeline.hpp -- the capture pipeline as a library.
//
// An application with its own caf::actor_system (CAF 0.17) embeds a capture:
//
//     stenotype::capture_options opts;
//     opts.iface = "eth1";
//     opts.dir = "/var/lib/stenotype";
//     auto capture = stenotype::spawn_pipeline(system, opts);   // throws on setup errors
//     self->send(capture, subscribe_atom::value, written_atom::value, my_actor); // file events
//     self->send(capture, stop_atom::value);                      // later: flush and stop
//     self->request(capture, caf::infinite, wait_atom::value).receive(...);
//
// Rings are opened inside spawn_pipeline, in the caller's thread, so this is
// the call that needs CAP_NET_RAW; afterwards privileges may be dropped.
// The actors run on threads of their own and do not block the scheduler.
#pragma once

#include <functional>

#include <caf/actor_system.hpp>

#include "stenotype/options.hpp"
#include "stenotype/protocol.hpp"

namespace stenotype {

/// Validates `opts`, creates DIR/PKT<n> and DIR/IDX<n>, recovers what a
/// crash left there, opens one ring per thread, calls `before_start` (the
/// place to drop privileges: rings are open, no file is written yet), and
/// spawns the actors. Returns the capture's handle, valid for the
/// capture's whole life (restarted components stay behind it). Throws a
/// one-line std::exception when any of that fails -- a stenotype::failure
/// with its code where there is one (bad_option for options validate()
/// rejects, permission, interface_gone, ...); nothing is left running then.
capture_actor spawn_pipeline(caf::actor_system& system, const capture_options& opts,
                             const std::function<void()>& before_start = {});

} // namespace stenotype
