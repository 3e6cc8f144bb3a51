// io/memory_source.hpp -- a packet_source over ordinary memory, fed by the
// program instead of the kernel: the real reader, writer and indexer actors
// without a NIC or root (tests, bench/pipeline_bench.cpp).
//
// It behaves like the ring where the reader can tell: blocks are handed out
// in ring order, a block comes back when its last handle is dropped, and a
// producer that outruns the consumers waits for blocks to come back (the
// kernel would drop; a test wants every block). One producer thread fills
// blocks in place (io/block_builder.hpp), the reader thread takes them, any
// thread gives them back. Per block: one fill, a mutex round and a notify on
// each side; nothing per packet, no allocation after construction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>

#include "io/memory_blocks.hpp"
#include "io/packet_source.hpp"
#include "stenotype/block_format.hpp"

namespace stenotype::io {

class memory_source final : public packet_source {
public:
  memory_source(std::uint32_t count, std::size_t block_size)
    : packet_source(block_size), blocks_(count, block_size),
      ready_(std::make_unique<std::atomic<bool>[]>(count)) {}

  /// Producer side. Waits until the next block of the ring is back, lets
  /// `fill(std::span<std::uint8_t>)` lay out a TPACKET_V3 block in it, and
  /// makes it ready for the reader. The memory keeps what the previous fill
  /// left, so a producer that cycles through fixed contents writes each
  /// block once. Returns false, without calling `fill`, once intake was
  /// stopped or when no block came back within `patience`.
  template <class Fill>
  bool produce(Fill&& fill, std::chrono::milliseconds patience = std::chrono::seconds(60)) {
    const std::uint32_t i = next_fill_;
    {
      std::unique_lock lock{mutex_};
      if (!changed_.wait_for(lock, patience, [&] { return stopped_ || blocks_.is_free(i); }) || stopped_)
        return false;
      blocks_.mark_taken(i);
      filling_ = true;
    }
    const auto block = blocks_.block(i);
    fill(block);
    block_header bh{};
    if (read_block_header(block, bh))
      packets_in_.fetch_add(bh.num_pkts, std::memory_order_relaxed);
    {
      std::lock_guard lock{mutex_};
      ready_[i].store(true, std::memory_order_release);
      filling_ = false;
    }
    changed_.notify_all();
    next_fill_ = static_cast<std::uint32_t>((i + 1) % blocks_.count());
    return true;
  }

  /// Copies `block` (block size bytes) in as the next block.
  bool push(std::span<const std::uint8_t> block,
            std::chrono::milliseconds patience = std::chrono::seconds(60)) {
    return produce([&](std::span<std::uint8_t> to) { std::memcpy(to.data(), block.data(), to.size()); },
                   patience);
  }

  /// Waits until every block produced so far has been taken and given back:
  /// written to disk and indexed, as far as the source can tell.
  bool wait_all_returned(std::chrono::milliseconds patience = std::chrono::seconds(60)) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, patience, [&] {
      for (std::size_t i = 0; i < blocks_.count(); ++i)
        if (!blocks_.is_free(i))
          return false;
      return true;
    });
  }

  std::span<std::uint8_t> try_next(std::uint32_t& index) override {
    if (!ready_[next_take_].load(std::memory_order_acquire))
      return {};
    ready_[next_take_].store(false, std::memory_order_relaxed);
    lent();
    index = next_take_;
    next_take_ = static_cast<std::uint32_t>((index + 1) % blocks_.count());
    return blocks_.block(index);
  }

  void wait(std::chrono::milliseconds timeout) override {
    if (ready_[next_take_].load(std::memory_order_acquire))
      return;
    count_poll();
    std::unique_lock lock{mutex_};
    changed_.wait_for(lock, timeout, [&] { return ready_[next_take_].load(std::memory_order_acquire); });
  }

  /// A block being filled counts as one packet: its count is not known yet,
  /// and the reader only asks whether to wait for it.
  std::uint32_t pending_packets() const override {
    std::lock_guard lock{mutex_};
    return filling_ ? 1 : 0;
  }

  void stop_intake() override {
    {
      std::lock_guard lock{mutex_};
      stopped_ = true;
    }
    changed_.notify_all();
  }

  /// Packets in the blocks produced since the last call; nothing is dropped.
  ring_stats read_stats() override { return {packets_in_.exchange(0, std::memory_order_relaxed), 0, 0}; }

  std::atomic<std::uint32_t>& lease_count(std::uint32_t index) override { return blocks_.lease_count(index); }

  void release(std::uint32_t index) override {
    {
      std::lock_guard lock{mutex_};
      returned();
      blocks_.release(index);
    }
    changed_.notify_all();
  }

private:
  memory_blocks blocks_; // the memory, lease counts, and which blocks are back
  std::unique_ptr<std::atomic<bool>[]> ready_; // filled, not yet taken by the reader
  std::uint32_t next_fill_ = 0; // producer only
  std::uint32_t next_take_ = 0; // reader only
  std::atomic<std::uint64_t> packets_in_{0};
  // Guards the waits of the producer (for a block back) and of the reader
  // (for a block ready); the flags themselves are atomics read without it.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool filling_ = false, stopped_ = false;
};

} // namespace stenotype::io
