// io/packet_source.hpp -- where the reader actor takes its blocks from.
//
// In a capture that is the AF_PACKET ring (io/ring.hpp); in tests and
// benchmarks it is a ring of ordinary memory fed by the program
// (io/memory_source.hpp), so the real reader, writer and indexer actors run
// without a NIC or root. The reader calls into the source once per block
// and once per wait, never per packet: one virtual call per block is the
// price of the interface.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stenotype/block_handle.hpp"

namespace stenotype::io {

/// Intake counters since the previous call (the ring's PACKET_STATISTICS
/// reset on every read).
struct ring_stats {
  std::uint64_t packets = 0; ///< received by the socket, incl. drops
  std::uint64_t drops = 0;   ///< no room in the ring
  std::uint64_t freezes = 0; ///< times the queue froze (ring full)
};

/// A ring of fixed-size TPACKET_V3 blocks, taken in order by one reader and
/// given back (block_source::release, when the last block_handle to a block
/// is dropped) in any order, from any thread.
class packet_source : public block_source {
public:
  std::size_t block_size() const { return block_size_; }

  /// The next block in ring order if it is ready, else an empty span;
  /// `index` receives its position in the ring (for the block_handle).
  virtual std::span<std::uint8_t> try_next(std::uint32_t& index) = 0;

  /// Waits up to `timeout` for the next block to become ready. Throws
  /// std::runtime_error when the source is gone for good (interface removed).
  virtual void wait(std::chrono::milliseconds timeout) = 0;

  /// Packets in the block being filled now (0 when none): whether a stop
  /// must still wait for one more block.
  virtual std::uint32_t pending_packets() const = 0;

  /// Lets no further packets in; blocks already filled are still handed out
  /// (and, by a source that can do so safely, the partly filled one: then
  /// pending_packets() is 0 once it has been).
  virtual void stop_intake() = 0;

  virtual ring_stats read_stats() = 0;

  /// Waits that did not find a block ready at once.
  std::uint64_t polls() const { return polls_; }

  /// Blocks handed out and not yet given back: how far consumers lag.
  std::uint32_t on_loan() const { return on_loan_.load(std::memory_order_relaxed); }

protected:
  explicit packet_source(std::size_t block_size) : block_size_(block_size) {}

  // Bookkeeping shared by every source: the reader thread counts its polls,
  // whichever thread gives a block back counts it in.
  void count_poll() { ++polls_; }
  void lent() { on_loan_.fetch_add(1, std::memory_order_relaxed); }
  void returned() { on_loan_.fetch_sub(1, std::memory_order_relaxed); }

private:
  std::size_t block_size_;
  std::uint64_t polls_ = 0; // reader thread only
  std::atomic<std::uint32_t> on_loan_{0};
};

} // namespace stenotype::io
