// stenotype/protocol.hpp -- the capture as an embedding application sees it.
//
// spawn_pipeline() (stenotype/pipeline.hpp) returns one handle, a
// capture_actor: stop it, wait for its outcome, ask its status, subscribe
// to its file events and to its ring blocks. That is the whole public
// protocol; the messages the pipeline's own actors exchange (blocks,
// close, end of stream, watchdog ticks, indexer restarts) are internal
// (actors/protocol.hpp) and cannot be sent through this handle.
//
// Every component answers the status protocol (status_api) with a
// caf::settings of live counters; the capture's answer contains everyone's,
// under the keys of stenotype/status_keys.hpp.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/settings.hpp>
#include <caf/typed_actor.hpp>

#include "stenotype/block_handle.hpp"
#include "stenotype/error_category.hpp"

namespace stenotype {

// --- atoms -------------------------------------------------------------------
using block_atom = caf::atom_constant<caf::atom("block")>;
using written_atom = caf::atom_constant<caf::atom("written")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;

/// A packet file that is complete under its final name.
struct file_event {
  int thread = 0;
  std::uint64_t id = 0;      ///< file name: microseconds since the epoch at creation
  std::string path;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_event& x) {
  return f(caf::meta::type_name("file_event"), x.thread, x.id, x.path, x.bytes, x.blocks);
}

/// The status protocol every component answers.
using status_api = caf::typed_actor<
  caf::replies_to<status_atom>::with<caf::settings>>; // live counters and state

/// A running capture: the handle spawn_pipeline() returns.
using capture_actor = caf::typed_actor<
  caf::reacts_to<stop_atom>, // graceful stop: every captured packet flushed, files renamed and indexed
  // Answers when the capture ended cleanly; a failed capture answers with
  // its error instead (an errc, stenotype/error.hpp: why, and which
  // component), a hung component (errc::hung_component) as soon as the
  // watchdog finds it.
  caf::replies_to<wait_atom>::with<void>,
  // The actor gets (written_atom, file_event) for each packet file any
  // thread completes.
  caf::reacts_to<subscribe_atom, written_atom, caf::actor>,
  // Opt-in: every thread lends every block to the actor as (block_atom,
  // int thread, io::block_handle), read-only and uncopied, at most N (> 0)
  // at a time per thread; while N are out the actor misses blocks (counted
  // as `subscriber-blocks-skipped`) rather than hold back the capture.
  // N = 0 unsubscribes; so does the actor's exit. Local actors only: a
  // block handle is ring memory and cannot cross the network.
  caf::reacts_to<subscribe_atom, block_atom, caf::actor, std::uint32_t>>::
  extend_with<status_api>; // status of all components, one subtree each

} // namespace stenotype

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stenotype::io::block_handle)
