// stenotype/block_handle.hpp -- a filled ring block on loan from the kernel.
//
// The reader hands the same block to the writer and the indexer. The block
// goes back to the kernel only when the last handle to it is dropped, so the
// number of blocks on loan is the pipeline's back-pressure: if the disk falls
// behind, the ring fills and the kernel counts drops, visibly, instead of
// memory growing. Handles are copyable (CAF message types must be) and
// allocation-free: the reference count lives in the ring, one per block.
//
// The indexer's handles, and those of analysis actors that subscribe to
// blocks, are lent from bounded pools (io/lease_pool.hpp) so that they cannot
// hold back more than their share of the ring: past it, the indexer's file
// is indexed from disk later (actors/index_budget.hpp), a subscriber misses
// the block. Walk the packets with stenotype/block_format.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>


namespace stenotype::io {

/// Whatever lends out blocks: the AF_PACKET ring, or a memory pool in tests
/// and benchmarks. One reference count per block index.
class block_source {
public:
  virtual ~block_source() = default;
  /// Reference count of block `index` while on loan.
  virtual std::atomic<std::uint32_t>& lease_count(std::uint32_t index) = 0;
  /// Called once, by the thread that drops the last handle to block `index`.
  virtual void release(std::uint32_t index) = 0;
};

class block_handle {
public:
  block_handle() = default;

  /// Takes the first reference to block `index` of `r` (just taken from the ring).
  block_handle(std::shared_ptr<block_source> r, std::uint32_t index, std::span<const std::uint8_t> data,
               std::uint64_t sequence, std::uint32_t packets)
    : ring_(std::move(r)), index_(index), data_(data), sequence_(sequence), packets_(packets) {
    ring_->lease_count(index_).store(1, std::memory_order_relaxed);
  }

  block_handle(const block_handle& other)
    : ring_(other.ring_), index_(other.index_), data_(other.data_),
      sequence_(other.sequence_), packets_(other.packets_) {
    if (ring_)
      ring_->lease_count(index_).fetch_add(1, std::memory_order_relaxed);
  }

  block_handle(block_handle&& other) noexcept
    : ring_(std::move(other.ring_)), index_(other.index_), data_(other.data_),
      sequence_(other.sequence_), packets_(other.packets_) {}

  block_handle& operator=(block_handle other) noexcept {
    swap(other);
    return *this;
  }

  ~block_handle() { reset(); }

  /// Drops this reference; the last one returns the block to the kernel.
  void reset() {
    if (ring_ && ring_->lease_count(index_).fetch_sub(1, std::memory_order_acq_rel) == 1)
      ring_->release(index_);
    ring_.reset();
  }

  void swap(block_handle& other) noexcept {
    std::swap(ring_, other.ring_);
    std::swap(index_, other.index_);
    std::swap(data_, other.data_);
    std::swap(sequence_, other.sequence_);
    std::swap(packets_, other.packets_);
  }

  explicit operator bool() const { return static_cast<bool>(ring_); }
  std::span<const std::uint8_t> bytes() const { return data_; }
  const std::uint8_t* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }
  /// Position of the block in its thread's stream (0, 1, 2, ...).
  std::uint64_t sequence() const { return sequence_; }
  std::uint32_t packets() const { return packets_; }

private:
  std::shared_ptr<block_source> ring_; // keeps the mapping alive while on loan
  std::uint32_t index_ = 0;
  std::span<const std::uint8_t> data_; // read-only for every holder
  std::uint64_t sequence_ = 0;
  std::uint32_t packets_ = 0;
};

} // namespace stenotype::io
