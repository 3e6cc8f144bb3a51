// Blocks lent to analysis subscribers: bounded, uncopied, and returned to the
// source only when both the pipeline and the subscriber are done with them.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "io/lease_pool.hpp"
#include "io/memory_blocks.hpp"

using namespace stenotype::io;

namespace {

block_handle take(const std::shared_ptr<memory_blocks>& src, std::uint32_t i) {
  src->mark_taken(i);
  return block_handle{src, i, src->block(i), i, 7};
}

} // namespace

TEST_CASE("a lent block is the same memory, and returns to the source after the last holder") {
  auto src = std::make_shared<memory_blocks>(4, 4096);
  auto pool = std::make_shared<lease_pool>(2);
  auto block = take(src, 1);
  auto lent = pool->lend(block);
  REQUIRE(lent);
  CHECK(lent.data() == block.data());
  CHECK(lent.size() == 4096);
  CHECK(lent.sequence() == 1);
  CHECK(lent.packets() == 7);
  CHECK(pool->outstanding() == 1);

  block.reset(); // the writer and indexer are done
  CHECK_FALSE(src->is_free(1)); // the subscriber still reads it
  auto copy = lent; // copies inside the subscriber count as the same lease
  lent.reset();
  CHECK(pool->outstanding() == 1);
  CHECK_FALSE(src->is_free(1));
  copy.reset();
  CHECK(pool->outstanding() == 0);
  CHECK(src->is_free(1));
}

TEST_CASE("a subscriber holding all its leases misses blocks instead of holding more") {
  auto src = std::make_shared<memory_blocks>(4, 4096);
  auto pool = std::make_shared<lease_pool>(2);
  std::vector<block_handle> held;
  for (std::uint32_t i = 0; i < 2; ++i) {
    auto b = take(src, i);
    held.push_back(pool->lend(b));
    REQUIRE(held.back());
  }
  auto third = take(src, 2);
  CHECK_FALSE(pool->lend(third)); // bounded: the pipeline goes on without it
  CHECK(pool->outstanding() == 2);
  third.reset();
  CHECK(src->is_free(2)); // the skipped block was not kept back
  held[0].reset();        // the subscriber lets one go ...
  auto fourth = take(src, 3);
  auto lent = pool->lend(fourth); // ... and gets the next block
  CHECK(lent);
  CHECK(lent.data() == fourth.data());
}

TEST_CASE("a pool that goes away with blocks still lent keeps them valid") {
  auto src = std::make_shared<memory_blocks>(2, 4096);
  block_handle lent;
  {
    auto pool = std::make_shared<lease_pool>(1);
    auto b = take(src, 0);
    lent = pool->lend(b);
  } // the reader unsubscribed; the lent handle keeps the pool alive
  CHECK_FALSE(src->is_free(0));
  lent.reset();
  CHECK(src->is_free(0));
}
