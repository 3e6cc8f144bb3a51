// io/lease_pool.hpp -- lends ring blocks to analysis subscribers, boundedly.
//
// An actor that subscribes to blocks (reader_actor's subscribe message) gets
// read-only handles to the very blocks the writer writes: no copy. But every
// handle it holds keeps a ring block away from the kernel, so a slow analysis
// actor could starve the capture. Each subscriber therefore gets a pool of
// `capacity` leases; when all are out, the reader skips that subscriber for
// the block (and counts it) instead of waiting. The writer and the indexer
// never wait for a subscriber. The indexer's own handles come from such a
// pool too (actors/index_budget.hpp): when it falls behind, the reader sheds
// indexing rather than packets.
//
// The pool is itself a block_source: a lent handle counts its references in
// the pool's slot, and when the subscriber drops the last one the slot
// releases its own reference to the ring block. Allocation-free after
// construction; `lend` is called by the reader only, `release` by whichever
// thread drops the last lent handle.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "stenotype/block_handle.hpp"

namespace stenotype::io {

class lease_pool final : public block_source, public std::enable_shared_from_this<lease_pool> {
public:
  explicit lease_pool(std::uint32_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity), slots_(new slot[capacity_]) {}

  /// A handle to the same block, counted against this pool; an empty handle
  /// when all leases are out (the subscriber is too slow for this block).
  block_handle lend(const block_handle& block) {
    if (outstanding_.load(std::memory_order_relaxed) >= capacity_)
      return {}; // all out: no need to look at every slot
    for (std::uint32_t tried = 0; tried < capacity_; ++tried) {
      const std::uint32_t i = next_;
      next_ = (next_ + 1) % capacity_;
      slot& s = slots_[i];
      if (s.busy.load(std::memory_order_acquire))
        continue;
      s.busy.store(true, std::memory_order_relaxed);
      s.held = block; // one more reference to the ring block
      outstanding_.fetch_add(1, std::memory_order_relaxed);
      return block_handle{shared_from_this(), i, block.bytes(), block.sequence(), block.packets()};
    }
    return {};
  }

  /// Leases currently held by the subscriber (or in its mailbox).
  std::uint32_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }

  std::atomic<std::uint32_t>& lease_count(std::uint32_t index) override { return slots_[index].refs; }

  void release(std::uint32_t index) override {
    slot& s = slots_[index];
    s.held.reset(); // may hand the block back to the kernel
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
    s.busy.store(false, std::memory_order_release); // after `held` is done with
  }

private:
  struct slot {
    std::atomic<std::uint32_t> refs{0};
    std::atomic<bool> busy{false};
    block_handle held;
  };
  std::uint32_t capacity_;
  std::unique_ptr<slot[]> slots_;
  std::uint32_t next_ = 0; // reader only
  std::atomic<std::uint32_t> outstanding_{0};
};

} // namespace stenotype::io
