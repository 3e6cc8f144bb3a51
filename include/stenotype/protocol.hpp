// stenotype/protocol.hpp -- every message the pipeline's actors exchange.
//
// The pipeline per capture thread:
//
//     reader --block--> writer --written--> indexer
//        \___________block____________________/^
//
// The reader owns the ring, decides which file each block lands in (so the
// writer and indexer agree on file boundaries) and sends each block handle to
// both -- and, opt-in, to analysis actors that subscribed to blocks. A block
// returns to the kernel when all have dropped it. The supervisor monitors
// everyone and reports the capture's outcome.
//
// Each interface below is one actor's protocol, one commented line per
// message. Readers, writers and indexers run blocking loops on threads of
// their own (CAF `detached`); their handles are typed views (actor_cast) of
// those actors. Every component answers `status_atom` with a caf::settings
// (the shared status protocol).
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
using close_atom = caf::atom_constant<caf::atom("close")>;
using eos_atom = caf::atom_constant<caf::atom("eos")>;
using written_atom = caf::atom_constant<caf::atom("written")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using watchdog_atom = caf::atom_constant<caf::atom("watchdog")>;
using indexer_atom = caf::atom_constant<caf::atom("indexer")>;

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

/// The indexer of one capture thread: blocks to one index file per packet file.
using indexer_actor = caf::typed_actor<
  caf::reacts_to<block_atom, std::uint64_t, std::uint64_t, io::block_handle>, // index block at (file, offset)
  caf::reacts_to<close_atom, std::uint64_t>, // file complete in the plan: build its index (hidden)
  caf::reacts_to<written_atom, file_event>,  // packet file is durable: publish its index (or build it from the file)
  caf::reacts_to<eos_atom>,                  // no more blocks: publish what is left and quit
  caf::reacts_to<stop_atom>,                 // the writer is gone: quit, unpublished indexes stay hidden
  caf::replies_to<status_atom>::with<caf::settings>>;

/// The writer of one capture thread: blocks to files on disk.
using writer_actor = caf::typed_actor<
  caf::reacts_to<block_atom, std::uint64_t, std::uint64_t, io::block_handle>, // write block at (file, offset)
  caf::reacts_to<close_atom, std::uint64_t>, // file complete in the plan: finish, sync, rename
  caf::reacts_to<eos_atom>,                  // no more blocks: finish everything and quit
  caf::reacts_to<subscribe_atom, caf::actor>, // send (written_atom, file_event) for each finished file
  caf::reacts_to<indexer_atom, indexer_actor>, // indexer restarted: tell this one about finished files
  caf::replies_to<status_atom>::with<caf::settings>>;

/// The reader of one capture thread: the ring's owner.
using reader_actor = caf::typed_actor<
  caf::reacts_to<stop_atom>, // stop intake, hand over every captured block, then eos downstream
  // Opt-in: lend every block to the actor as (block_atom, int thread,
  // io::block_handle), read-only and uncopied, at most N (> 0) at a time;
  // while N are out the actor misses blocks (counted as `skipped`) rather
  // than hold back the capture. N = 0 unsubscribes; so does the actor's exit.
  caf::reacts_to<subscribe_atom, caf::actor, std::uint32_t>,
  caf::reacts_to<indexer_atom, indexer_actor>, // indexer restarted: send blocks to this one from now on
  caf::replies_to<status_atom>::with<caf::settings>>;

/// The supervisor: the pipeline's single point of contact.
using supervisor_actor = caf::typed_actor<
  caf::reacts_to<stop_atom>,                 // graceful stop: everything flushed and renamed
  caf::reacts_to<written_atom, file_event>,  // from writers: a packet file is complete
  caf::reacts_to<watchdog_atom>,             // (to itself) does every component still answer?
  caf::reacts_to<indexer_atom, int>,         // (to itself) restart the failed indexer of thread N now
  // Answers when the capture ended cleanly; a failed capture answers with
  // its error instead (an errc: why, and which component), a hung
  // component (errc::hung_component) as soon as the watchdog finds it.
  caf::replies_to<wait_atom>::with<void>,
  caf::replies_to<status_atom>::with<caf::settings>>; // status of all components

} // namespace stenotype

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stenotype::io::block_handle)
