// io/memory_blocks.hpp -- a block_source over ordinary (page-aligned) memory:
// blocks for the writer and indexer without a NIC (import, tests, benchmarks).
#pragma once

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "stenotype/block_handle.hpp"

namespace stenotype::io {

class memory_blocks final : public block_source {
public:
  memory_blocks(std::size_t count, std::size_t block_size)
    : count_(count), size_(block_size),
      data_(static_cast<std::uint8_t*>(std::aligned_alloc(4096, count * block_size))),
      leases_(std::make_unique<std::atomic<std::uint32_t>[]>(count)),
      free_(std::make_unique<std::atomic<bool>[]>(count)) {
    if (!data_)
      throw std::bad_alloc();
    for (std::size_t i = 0; i < count; ++i)
      free_[i] = true;
  }
  ~memory_blocks() override { std::free(data_); }

  std::span<std::uint8_t> block(std::size_t i) { return {data_ + i * size_, size_}; }
  std::size_t count() const { return count_; }
  bool is_free(std::size_t i) const { return free_[i].load(std::memory_order_acquire); }
  void mark_taken(std::size_t i) { free_[i].store(false, std::memory_order_relaxed); }

  std::atomic<std::uint32_t>& lease_count(std::uint32_t i) override { return leases_[i]; }
  void release(std::uint32_t i) override { free_[i].store(true, std::memory_order_release); }

private:
  std::size_t count_, size_;
  std::uint8_t* data_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> leases_;
  std::unique_ptr<std::atomic<bool>[]> free_;
};

} // namespace stenotype::io
