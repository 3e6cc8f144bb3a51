// actors/index_budget.hpp -- how many ring blocks the indexer may hold.
//
// The reader hands every block to the writer and the indexer, and a block
// goes back to the kernel only when both dropped it. An indexer that falls
// behind (a starved core, a burst of small packets) would fill the ring, and
// the kernel would drop packets. Packets matter more than a current index:
// the indexer's handles are lent from a bounded pool (io/lease_pool.hpp),
// `--blocks / 2` by default (capture_options::index_max_blocks). When all are
// out, the reader sheds the indexing of the file that block belongs to: the
// indexer gets a `missed` message instead of the block and none of that
// file's later blocks, and indexes the file from its packet file once the
// writer has written it -- the same path as for a file whose start a
// restarted indexer did not see. Every file still gets its complete index,
// later; the writer never waits for the indexer.
//
// One per capture thread, shared by the reader and every incarnation of the
// indexer (the supervisor restarts it with the same indexer_init).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>

#include "io/lease_pool.hpp"

namespace stenotype {

struct index_budget {
  static constexpr std::uint64_t no_file = std::numeric_limits<std::uint64_t>::max();

  explicit index_budget(std::uint32_t max_blocks) : leases(std::make_shared<io::lease_pool>(max_blocks)) {}

  /// The indexer's handles to ring blocks, counted.
  std::shared_ptr<io::lease_pool> leases;
  /// The file whose indexing the reader shed last: the indexer drops the
  /// blocks of it still in its mailbox unread (they were lent before the
  /// shedding; the `missed` message, behind them, says the same, later).
  /// Advisory only: the reader's messages decide, this saves the CPU.
  std::atomic<std::uint64_t> shed_file{no_file};
  /// The reader's sequence number after the last block it kept from the
  /// indexer: with no lease out, the indexer is that far (status next-block).
  std::atomic<std::uint64_t> shed_next{0};
};

/// The budget in force for `max_blocks` (capture_options::index_max_blocks)
/// and a ring of `ring_blocks`: 0 means half the ring (at least 1); more
/// than the ring is the ring (the indexer can never hold more: no shedding).
inline std::uint32_t index_budget_blocks(std::uint32_t max_blocks, std::uint32_t ring_blocks) {
  if (max_blocks == 0)
    max_blocks = ring_blocks / 2;
  if (max_blocks > ring_blocks)
    max_blocks = ring_blocks;
  return max_blocks > 0 ? max_blocks : 1;
}

} // namespace stenotype
