// actors/protocol.hpp -- the messages the pipeline's own actors exchange.
//
// The pipeline per capture thread:
//
//     reader --block--> writer --written--> indexer
//        \___________block____________________/^
//
// Beside the threads, one retention actor per capture deletes the oldest
// complete files to keep the disk within its limits; it hears of every
// written file (through the supervisor) and frees space when a writer finds
// the disk full.
//
// The reader owns the ring, decides which file each block lands in (so the
// writer and indexer agree on file boundaries) and sends each block handle to
// both -- and, opt-in, to analysis actors that subscribed to blocks. A block
// returns to the kernel when all have dropped it. The supervisor monitors
// everyone, restarts indexers and reports the capture's outcome.
//
// Each interface is one actor's protocol, one commented line per message,
// extended with the status protocol every component answers. None of this
// is public: embedding applications and the control port see only the
// capture_actor of stenotype/protocol.hpp, which the supervisor extends.
#pragma once

#include <cstdint>

#include "stenotype/protocol.hpp"

namespace stenotype {

// --- internal atoms ----------------------------------------------------------
using close_atom = caf::atom_constant<caf::atom("close")>;
using eos_atom = caf::atom_constant<caf::atom("eos")>;
using watchdog_atom = caf::atom_constant<caf::atom("watchdog")>;
using indexer_atom = caf::atom_constant<caf::atom("indexer")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using free_atom = caf::atom_constant<caf::atom("free")>;
using missed_atom = caf::atom_constant<caf::atom("missed")>;

/// The retention actor of the whole capture (actors/retention.hpp).
using retention_actor = caf::typed_actor<
  // A packet file is complete (forwarded by the supervisor): check the limits now.
  caf::reacts_to<written_atom, file_event>,
  // ENOSPC on the filesystem holding this path (a writer's PKT<n>, an
  // indexer's IDX<n>): delete the oldest complete file there now, each
  // thread's newest included, and answer true -- retry the write; false:
  // nothing of ours is left there to delete (or retention is off, or the
  // deletion failed) -- fail as without retention. One file per request:
  // a retry that fails again asks again, so the exchange always ends.
  caf::replies_to<free_atom, std::string>::with<bool>,
  // The filesystem holding this path has less than N bytes left (a writer
  // reserved its next preallocation step): delete the oldest complete files
  // there, each thread's newest included, until N bytes are free again. No
  // answer: the writer goes on meanwhile.
  caf::reacts_to<free_atom, std::string, std::uint64_t>,
  caf::reacts_to<stop_atom>>:: // the writers are gone: a last check, then quit
  extend_with<status_api>;

/// The indexer of one capture thread: blocks to one index file per packet file.
using indexer_actor = caf::typed_actor<
  caf::reacts_to<block_atom, std::uint64_t, std::uint64_t, io::block_handle>, // index block at (file, offset)
  // The block at (file, offset) was kept from it (it held its budget of
  // blocks, actors/index_budget.hpp), and so will the rest of that file be:
  // index the file from its packet file once written.
  caf::reacts_to<missed_atom, std::uint64_t, std::uint64_t>,
  caf::reacts_to<close_atom, std::uint64_t>, // file complete in the plan: build its index (hidden)
  caf::reacts_to<written_atom, file_event>,  // packet file is durable: publish its index (or build it from the file)
  caf::reacts_to<eos_atom>,                  // no more blocks: publish what is left and quit
  caf::reacts_to<stop_atom>>::               // the writer is gone: quit, unpublished indexes stay hidden
  extend_with<status_api>;

/// The writer of one capture thread: blocks to files on disk.
using writer_actor = caf::typed_actor<
  caf::reacts_to<block_atom, std::uint64_t, std::uint64_t, io::block_handle>, // write block at (file, offset)
  caf::reacts_to<close_atom, std::uint64_t>, // file complete in the plan: finish, sync, rename
  caf::reacts_to<eos_atom>,                  // no more blocks: finish everything and quit
  caf::reacts_to<subscribe_atom, caf::actor>, // send (written_atom, file_event) for each finished file
  caf::reacts_to<indexer_atom, indexer_actor>>:: // indexer restarted: tell this one about finished files
  extend_with<status_api>;

/// The reader of one capture thread: the ring's owner.
using reader_actor = caf::typed_actor<
  caf::reacts_to<stop_atom>, // stop intake, hand over every captured block, then eos downstream
  // Lend every block to the actor (capture_actor's block subscription, for
  // this thread): at most N at a time, N = 0 unsubscribes.
  caf::reacts_to<subscribe_atom, caf::actor, std::uint32_t>,
  caf::reacts_to<indexer_atom, indexer_actor>>:: // indexer restarted: send blocks to this one from now on
  extend_with<status_api>;

/// The supervisor: the capture's public handle plus what only the pipeline sends it.
using supervisor_actor = capture_actor::extend<
  caf::reacts_to<written_atom, file_event>, // from writers: a packet file is complete
  caf::reacts_to<watchdog_atom>,            // (to itself) does every component still answer?
  caf::reacts_to<restart_atom, int, int>>;  // (to itself) replace the failed component (role, thread) now

} // namespace stenotype
