// actors/writer.hpp -- the writer actor: runs the AIO completion loop.
#pragma once

#include <caf/actor.hpp>
#include <caf/blocking_actor.hpp>

#include "actors/protocol.hpp"
#include "io/block_writer.hpp"

namespace stenotype {

struct writer_init {
  int thread = 0;
  io::writer_config config;
  indexer_actor indexer; // told when a packet file is durable; may be invalid
  std::string seccomp = "none"; // --seccomp mode for this thread
  std::shared_ptr<const void> directory_locks; // held while this writer may write
  retention_actor retention = {}; // asked to free space when the disk is (nearly) full; invalid: retention off
};

/// Body of the detached writer actor. Quits after eos_atom with every file
/// finished; an I/O error is logged (naming the file) and ends the actor with
/// an error, which the supervisor turns into a failed capture. A full disk
/// is such an error only when the retention actor has nothing left to
/// delete there: until then the writer waits for it to free space and
/// writes again (the ring holds the blocks meanwhile).
void writer_main(caf::blocking_actor* self, writer_init init);

} // namespace stenotype
