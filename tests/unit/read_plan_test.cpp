// The read planning of a query (query/read_plan.hpp) and the lookahead that
// prepares files ahead of the merge (query/lookahead.hpp).
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include "query/lookahead.hpp"
#include "query/read_plan.hpp"
#include "stenotype/block_format.hpp"

using namespace stenotype;
using query::read_range;

namespace {

constexpr std::uint32_t bs = 1u << 20;
constexpr std::uint64_t head = io::marked_first_packet;

query::selection positions(std::vector<std::uint32_t> p) {
  query::selection s;
  s.positions = std::move(p);
  return s;
}

// Every range inside [0, limit), ascending, disjoint, gaps wider than the merge gap.
void check_shape(const query::read_plan& plan, std::uint64_t limit, const query::read_costs& c = {}) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < plan.ranges.size(); ++i) {
    const read_range& r = plan.ranges[i];
    CHECK(r.length > 0);
    CHECK(r.end() <= limit);
    if (i > 0)
      CHECK(r.offset > plan.ranges[i - 1].end() + c.merge_gap);
    sum += r.length;
  }
  CHECK(sum == plan.bytes);
}

} // namespace

TEST_CASE("query read plan: a block's header and nearby candidates are one read, distant ones their own") {
  // Block 2: candidates 1 KiB and 20 KiB in (within the merge gap of the
  // header), and one 600 KiB in.
  const std::uint64_t b2 = 2ull * bs;
  const auto plan = query::plan_reads(positions({std::uint32_t(b2 + 1024), std::uint32_t(b2 + 20480),
                                                 std::uint32_t(b2 + 600 * 1024)}),
                                      8, bs);
  check_shape(plan, 8ull * bs);
  REQUIRE(plan.ranges.size() == 2);
  CHECK(plan.ranges[0] == read_range{b2, 20480 + 2048});
  CHECK(plan.ranges[1] == read_range{b2 + 600 * 1024, 2048});
  CHECK_FALSE(plan.scan);
}

TEST_CASE("query read plan: candidates in far-apart blocks are separate reads, each with its block's header") {
  const auto plan = query::plan_reads(positions({std::uint32_t(bs + 100 * 1024), std::uint32_t(5ull * bs + 4096)}), 8, bs);
  check_shape(plan, 8ull * bs);
  REQUIRE(plan.ranges.size() == 3);
  CHECK(plan.ranges[0] == read_range{bs, head});
  CHECK(plan.ranges[1] == read_range{bs + 100 * 1024, 2048});
  CHECK(plan.ranges[2] == read_range{5ull * bs, 4096 + 2048}); // header and packet: one read
  CHECK(plan.bytes < 16 * 1024);
}

TEST_CASE("query read plan: a block with many candidates, or to scan, is read whole, adjacent ones as one") {
  query::read_costs c;
  std::vector<std::uint32_t> p;
  for (std::uint32_t i = 0; i <= c.whole_block_candidates; ++i) // one more than the threshold, in block 3
    p.push_back(3 * bs + 64 + i * 8192);
  auto sel = positions(p);
  sel.blocks = std::vector<bool>(16, false);
  sel.blocks[4] = true; // a time term: block 4 scanned
  CHECK(query::how_to_read(false, c.whole_block_candidates, c) == query::block_read::packets);
  CHECK(query::how_to_read(false, c.whole_block_candidates + 1, c) == query::block_read::whole);
  CHECK(query::how_to_read(true, 0, c) == query::block_read::whole);
  CHECK(query::how_to_read(false, 0, c) == query::block_read::none);
  const auto plan = query::plan_reads(sel, 16, bs, c);
  check_shape(plan, 16ull * bs, c);
  REQUIRE(plan.ranges.size() == 1);
  CHECK(plan.ranges[0] == read_range{3ull * bs, 2ull * bs});
  CHECK(plan.scan); // two whole blocks in one range: read sequentially
}

TEST_CASE("query read plan: when the reads cover most of their span, the span is scanned, else seeks") {
  // Every other block of 10 selected: the reads cover ~half the span.
  query::selection half;
  half.blocks = std::vector<bool>(10, false);
  for (int b = 0; b < 10; b += 2)
    half.blocks[b] = true;
  const auto scanned = query::plan_reads(half, 10, bs);
  REQUIRE(scanned.ranges.size() == 1);
  CHECK(scanned.ranges[0] == read_range{0, 9ull * bs});
  CHECK(scanned.scan);
  // Every tenth block of 100: seeks.
  query::selection sparse;
  sparse.blocks = std::vector<bool>(100, false);
  for (int b = 0; b < 100; b += 10)
    sparse.blocks[b] = true;
  const auto seeks = query::plan_reads(sparse, 100, bs);
  check_shape(seeks, 100ull * bs);
  CHECK(seeks.ranges.size() == 10);
  CHECK_FALSE(seeks.scan);
  CHECK(seeks.bytes == 10ull * bs);
  // A time term over an index without a block table: the whole file.
  query::selection every;
  every.every_block = true;
  const auto all = query::plan_reads(every, 7, bs);
  REQUIRE(all.ranges.size() == 1);
  CHECK(all.ranges[0] == read_range{0, 7ull * bs});
}

TEST_CASE("query read plan: nothing past the file's whole blocks (an open file's durable extent)") {
  // 4 whole blocks readable; candidates in block 3's last bytes, in block 4
  // and far past (indexed from the ring, not yet durable).
  auto sel = positions({std::uint32_t(4ull * bs - 512), std::uint32_t(4ull * bs + 10), std::uint32_t(9ull * bs)});
  sel.blocks = std::vector<bool>(12, false);
  sel.blocks[6] = true;
  const auto plan = query::plan_reads(sel, 4, bs);
  check_shape(plan, 4ull * bs);
  REQUIRE(plan.ranges.size() == 2);
  CHECK(plan.ranges[0] == read_range{3ull * bs, head});
  CHECK(plan.ranges[1] == read_range{4ull * bs - 512, 512}); // clipped at the block's end
  CHECK(query::plan_reads(sel, 0, bs).ranges.empty());
  CHECK(query::plan_reads(positions({}), 4, bs).ranges.empty());
}

TEST_CASE("query read ahead: asks for the plan in order, at most a window ahead of the reader") {
  query::selection every;
  every.every_block = true;
  query::read_ahead ahead{query::plan_reads(every, 64, bs)}; // one 64 MiB span
  std::vector<read_range> asked;
  auto ask = [&](std::uint64_t o, std::uint64_t n) {
    if (!asked.empty())
      CHECK(o == asked.back().end()); // in order, nothing twice
    asked.push_back({o, n});
  };
  ahead.advance(0, 8ull * bs, ask);
  REQUIRE(!asked.empty());
  CHECK(asked.back().end() == 8ull * bs);
  ahead.advance(0, 8ull * bs, ask); // the window is full: nothing more
  CHECK(asked.back().end() == 8ull * bs);
  for (std::uint64_t at = 0; at < 64; ++at) {
    ahead.advance(at * bs, 16ull * bs, ask);
    CHECK(asked.back().end() == std::min<std::uint64_t>(64, at + 16) * bs);
  }
  CHECK(ahead.planned_before(10ull * bs) == 10ull * bs);

  // Sparse reads: the window counts planned bytes, not file offsets, so a
  // selective file's reads are asked for at once however far apart.
  std::vector<std::uint32_t> p;
  for (std::uint32_t b = 0; b < 60; b += 3)
    p.push_back(b * bs + 300 * 1024);
  query::read_ahead sparse{query::plan_reads(positions(p), 64, bs)};
  std::uint64_t bytes = 0;
  sparse.advance(0, 1u << 20, [&](std::uint64_t, std::uint64_t n) { bytes += n; });
  CHECK(bytes == sparse.plan().bytes);
  CHECK(sparse.plan().ranges.size() == 2 * p.size()); // header and packet of each
}

TEST_CASE("query lookahead: each item prepared once, on its threads, never far ahead of the consumer") {
  for (const std::size_t threads : {0, 1, 4}) {
    constexpr std::size_t n = 50, depth = 3;
    std::vector<std::atomic<int>> prepared(n);
    std::atomic<std::size_t> waited{0}, too_far{0};
    {
      query::lookahead la(n, depth, threads, [&](std::size_t i) {
        if (i >= waited.load() + 1 + depth)
          ++too_far;
        ++prepared[i];
      });
      for (std::size_t i = 0; i < n; ++i) {
        waited = i;
        la.wait(i);
        CHECK(prepared[i].load() == 1);
      }
    }
    for (std::size_t i = 0; i < n; ++i)
      CHECK(prepared[i].load() == 1);
    CHECK(too_far.load() == 0);
  }
  // The consumer stops early: the threads end; items past depth never prepared.
  std::atomic<int> count{0};
  {
    query::lookahead la(1000, 2, 2, [&](std::size_t) { ++count; });
    la.wait(0);
  }
  CHECK(count.load() <= 4);
}
