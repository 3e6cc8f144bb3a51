// io/ring.hpp -- one AF_PACKET TPACKET_V3 receive ring.
//
// The kernel packs packets into fixed-size blocks of a memory-mapped ring and
// hands a block to us when it is full or older than the retire timeout. We
// never copy a packet: a ready block is written to disk straight from the
// ring and given back to the kernel (`release`) when every consumer is done.
// The ring itself is a plain object with no threads; the reader actor drives
// it through the packet_source interface (actors/reader.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/packet_source.hpp"
#include "stenotype/options.hpp"

namespace stenotype::io {

class ring final : public packet_source {
public:
  /// Opens the socket, binds it to the interface, sets up the ring, filter
  /// and fanout group. Throws std::runtime_error with a one-line reason
  /// (missing interface, EPERM, ...). Needs CAP_NET_RAW (+ CAP_IPC_LOCK for
  /// large rings); call before dropping privileges.
  ring(const capture_options& opts, int thread);
  ~ring() override;
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  /// The next block in ring order if the kernel has handed it over.
  std::span<std::uint8_t> try_next(std::uint32_t& index) override;

  std::atomic<std::uint32_t>& lease_count(std::uint32_t index) override { return leases_[index]; }

  /// Waits up to `timeout` for the next block to become ready (no fixed sleep:
  /// poll() wakes us when the kernel retires a block). Throws
  /// std::runtime_error when the interface has disappeared (once: later
  /// calls wait, so that the blocks the kernel still retires on its timer
  /// can be drained); while it is merely down, waits out the timeout
  /// instead of spinning on the error.
  void wait(std::chrono::milliseconds timeout) override;

  /// Hands block `index` back to the kernel. Safe from any thread.
  void release(std::uint32_t index) override;

  /// Number of packets the kernel has put into the block it is filling now
  /// (0 once that block was taken after stop_intake).
  std::uint32_t pending_packets() const override;

  /// Stops the kernel from putting further packets into the ring (installs a
  /// drop-all filter), then waits for a full RCU grace period
  /// (membarrier(MEMBARRIER_CMD_GLOBAL)): every packet that passed the old
  /// filter is then completely in the ring, and nothing writes packets into
  /// it any more. From then on try_next also hands out the block the kernel
  /// is still filling, as a copy completed as the kernel would retire it
  /// (docs/ARCHITECTURE.md, "Stopping"), and after that block nothing. When
  /// membarrier is not available (nohz_full kernels, old kernels), the
  /// blocks the kernel holds are still retired on its timer, as before.
  void stop_intake() override;

  /// The kernel's counters (PACKET_STATISTICS).
  ring_stats read_stats() override;

private:
  // Block `i` of the ring; index block_count_ is the spare block that
  // receives the copy of the open block at stop.
  std::uint8_t* block_at(std::uint32_t i) const {
    return i == block_count_ ? spare_ : map_ + std::size_t{i} * block_size();
  }
  bool next_ready() const; // the kernel has retired the block we take next
  std::span<std::uint8_t> take_open(std::uint32_t& index); // after a quiet stop_intake
  void check_bound(); // throws when the device is gone

  std::string iface_;
  int fd_ = -1;
  std::uint8_t* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::uint32_t block_count_ = 0;
  std::uint32_t next_ = 0; // index of the next block we expect
  // One block of private, page-aligned memory (O_DIRECT writes it like a ring
  // block), used once: the open block's copy at stop.
  std::uint8_t* spare_ = nullptr;
  bool quiet_ = false;      // stop_intake saw the grace period end: no packet can still land
  bool open_taken_ = false; // the open block was handed out: the ring is done
  // Blocks taken and not yet released. A held block still reads as
  // TP_STATUS_USER, so without this a full ring would hand it out twice.
  std::unique_ptr<std::atomic<bool>[]> held_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> leases_;
  bool link_error_ = false; // saw ENETDOWN: the link is down or the device going
  bool device_gone_ = false; // reported by wait(); later waits just sleep
};

/// Installs `prog` as a classic BPF filter on `fd`; throws on failure.
void attach_filter(int fd, const std::vector<bpf_instruction>& prog);

} // namespace stenotype::io
