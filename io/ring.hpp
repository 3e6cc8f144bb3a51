// io/ring.hpp -- one AF_PACKET TPACKET_V3 receive ring.
//
// The kernel packs packets into fixed-size blocks of a memory-mapped ring and
// hands a block to us when it is full or older than the retire timeout. We
// never copy a packet: a ready block is written to disk straight from the
// ring and given back to the kernel (`release`) when every consumer is done.
// The ring itself is a plain object with no threads; the reader actor drives
// it (actors/reader.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "stenotype/block_handle.hpp"
#include "stenotype/options.hpp"

namespace stenotype::io {

/// Kernel counters since the previous call (PACKET_STATISTICS resets them).
struct ring_stats {
  std::uint64_t packets = 0; ///< received by the socket, incl. drops
  std::uint64_t drops = 0;   ///< no room in the ring
  std::uint64_t freezes = 0; ///< times the queue froze (ring full)
};

class ring final : public block_source {
public:
  /// Opens the socket, binds it to the interface, sets up the ring, filter
  /// and fanout group. Throws std::runtime_error with a one-line reason
  /// (missing interface, EPERM, ...). Needs CAP_NET_RAW (+ CAP_IPC_LOCK for
  /// large rings); call before dropping privileges.
  ring(const capture_options& opts, int thread);
  ~ring() override;
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  std::size_t block_size() const { return block_size_; }

  /// The next block in ring order if the kernel has handed it over, else an
  /// empty span; `index` receives its position in the ring. Blocks are taken
  /// in order and may be released in any order.
  std::span<std::uint8_t> try_next(std::uint32_t& index);

  std::atomic<std::uint32_t>& lease_count(std::uint32_t index) override { return leases_[index]; }

  /// Waits up to `timeout` for the next block to become ready (no fixed sleep:
  /// poll() wakes us when the kernel retires a block). Throws
  /// std::runtime_error when the interface has disappeared; while it is
  /// merely down, waits out the timeout instead of spinning on the error.
  void wait(std::chrono::milliseconds timeout);

  /// Hands block `index` back to the kernel. Safe from any thread.
  void release(std::uint32_t index) override;

  /// Number of packets the kernel has put into the block it is filling now
  /// (0 when it holds none); used to decide whether shutdown must wait for it.
  std::uint32_t pending_packets() const;

  /// Stops the kernel from putting further packets into the ring (installs a
  /// drop-all filter); the blocks it holds are still retired on their timer.
  void stop_intake();

  ring_stats read_stats();
  std::uint64_t polls() const { return polls_; }
  /// Blocks handed out and not yet given back: how far consumers lag.
  std::uint32_t on_loan() const { return on_loan_.load(std::memory_order_relaxed); }

private:
  std::uint8_t* block_at(std::uint32_t i) const { return map_ + std::size_t{i} * block_size_; }
  bool next_ready() const; // the kernel has retired the block we take next
  void check_bound(); // throws when the device is gone

  std::string iface_;
  int fd_ = -1;
  std::uint8_t* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t block_size_ = 0;
  std::uint32_t block_count_ = 0;
  std::uint32_t next_ = 0; // index of the next block we expect
  // Blocks taken and not yet released. A held block still reads as
  // TP_STATUS_USER, so without this a full ring would hand it out twice.
  std::unique_ptr<std::atomic<bool>[]> held_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> leases_;
  std::uint64_t polls_ = 0;
  std::atomic<std::uint32_t> on_loan_{0};
  bool link_error_ = false; // saw ENETDOWN: the link is down or the device going
};

/// Installs `prog` as a classic BPF filter on `fd`; throws on failure.
void attach_filter(int fd, const std::vector<bpf_instruction>& prog);

} // namespace stenotype::io
