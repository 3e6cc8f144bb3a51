// actors/indexer.hpp -- the indexer actor: one index file per packet file.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/index_budget.hpp"
#include "actors/protocol.hpp"
#include "stenotype/options.hpp"

namespace stenotype {

struct indexer_init {
  int thread = 0;
  std::string directory; ///< DIR/IDX<n>
  std::uint32_t block_size = 0;
  int nice_level = 0;    ///< --index_nicelevel, applied to this actor's thread
  std::string seccomp = "none"; ///< --seccomp mode for this thread
  std::shared_ptr<const void> directory_locks; ///< held while this indexer may write
  index_format format = index_format::native;  ///< --index_format of the files it writes
  /// Partial indexes of the open file for fresh queries, one per this much
  /// time with new blocks (docs/FILE_FORMAT.md); 0: none.
  std::chrono::milliseconds part_interval{0};
  /// The share of the ring it may hold, shared with the reader (which lends
  /// its blocks from it); null: it hears of shed files only by `missed`.
  std::shared_ptr<index_budget> budget{};
  /// Tests only: runs before each block it is sent is looked at (holds the
  /// indexer back to make the reader shed, without timing).
  std::function<void()> before_block{};
};

/// Body of the detached indexer actor. Indexes every block it is sent; on
/// `close` writes the file's index hidden; publishes (renames) it only when
/// the writer reports the packet file complete (`written`), in whichever
/// order the two arrive. Meanwhile, with `part_interval`, it publishes the
/// open file's index in parts (hidden, written whole, then renamed), and
/// removes them once the file's full index is published. A file the reader
/// shed (`missed`: it held its budget of blocks) is indexed from its packet
/// file once written, like one whose start it did not see. Quits after `eos`
/// once nothing waits for `written`,
/// or at `stop` (the writer is gone: unpublished indexes stay hidden).
void indexer_main(caf::blocking_actor* self, indexer_init init);

/// Spawns an indexer on a thread of its own: the one way one is started,
/// by spawn_pipeline and by the supervisor when it replaces a failed one.
indexer_actor spawn_indexer(caf::actor_system& system, const indexer_init& init);

} // namespace stenotype
