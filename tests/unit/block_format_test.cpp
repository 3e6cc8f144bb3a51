#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "io/block_builder.hpp"
#include "stenotype/block_format.hpp"

using namespace stenotype::io;

namespace {
std::vector<std::uint8_t> frame_of(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> f(size);
  for (std::size_t i = 0; i < size; ++i)
    f[i] = static_cast<std::uint8_t>(seed + i * 7);
  return f;
}
} // namespace

TEST_CASE("a built block walks back packet by packet") {
  std::vector<std::uint8_t> block(64 * 1024);
  block_builder b{block};
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::uint8_t i = 0; i < 20; ++i) {
    frames.push_back(frame_of(60 + i * 70u, i));
    REQUIRE(b.add(100 + i, i * 1000u, frames.back(), static_cast<std::uint32_t>(frames.back().size() + 4)));
  }
  REQUIRE(b.finish(7) == 20);
  block_header bh;
  REQUIRE(read_block_header(block, bh));
  CHECK(bh.num_pkts == 20);
  CHECK(bh.seq_num == 7);
  CHECK(bh.first_sec == 100);
  CHECK(bh.last_sec == 119);
  std::size_t n = 0;
  auto visited = for_each_packet(std::span<const std::uint8_t>(block), [&](const packet_ref& p) {
    REQUIRE(n < frames.size());
    CHECK(p.sec == 100 + n);
    CHECK(p.nsec == n * 1000);
    CHECK(p.caplen == frames[n].size());
    CHECK(p.wire_len == frames[n].size() + 4);
    CHECK(std::memcmp(p.frame, frames[n].data(), p.caplen) == 0);
    ++n;
  });
  CHECK(visited == 20);
  CHECK(n == 20);
}

TEST_CASE("a full block refuses the next packet") {
  std::vector<std::uint8_t> block(4096);
  block_builder b{block};
  auto f = frame_of(1500, 1);
  CHECK(b.add(1, 0, f, 1500));
  CHECK(b.add(1, 0, f, 1500));
  CHECK_FALSE(b.add(1, 0, f, 1500));
  CHECK(b.finish(0) == 2);
}

TEST_CASE("damaged blocks end the walk without reading outside the block") {
  std::vector<std::uint8_t> block(8192);
  block_builder b{block};
  auto f = frame_of(100, 3);
  for (int i = 0; i < 5; ++i)
    REQUIRE(b.add(1, 0, f, 100));
  b.finish(0);
  std::span<const std::uint8_t> whole(block);

  SECTION("all zero (preallocated, never written)") {
    std::vector<std::uint8_t> zero(8192, 0);
    CHECK(for_each_packet(std::span<const std::uint8_t>(zero), [](auto&) { FAIL(); }) == 0);
  }
  SECTION("first packet offset beyond the block") {
    std::uint32_t bad = 9000;
    std::memcpy(block.data() + offsetof(tpacket_block_desc, hdr) + offsetof(tpacket_hdr_v1, offset_to_first_pkt), &bad, 4);
    CHECK(for_each_packet(whole, [](auto&) { FAIL(); }) == 0);
  }
  SECTION("a packet's snaplen runs past the end") {
    // second packet: make its snaplen huge
    block_header bh;
    REQUIRE(read_block_header(whole, bh));
    tpacket3_hdr h;
    std::memcpy(&h, block.data() + bh.offset_to_first_pkt, sizeof h);
    const std::size_t second = bh.offset_to_first_pkt + h.tp_next_offset;
    std::uint32_t huge = 100000;
    std::memcpy(block.data() + second + offsetof(tpacket3_hdr, tp_snaplen), &huge, 4);
    int seen = 0;
    CHECK(for_each_packet(whole, [&](auto&) { ++seen; }) == 1);
    CHECK(seen == 1);
  }
  SECTION("num_pkts larger than the chain") {
    std::uint32_t many = 1000;
    std::memcpy(block.data() + offsetof(tpacket_block_desc, hdr) + offsetof(tpacket_hdr_v1, num_pkts), &many, 4);
    int seen = 0;
    CHECK(for_each_packet(whole, [&](auto&) { ++seen; }) == 5);
    CHECK(seen == 5);
  }
  SECTION("a truncated block (file cut short)") {
    int seen = 0;
    for_each_packet(whole.first(300), [&](auto&) { ++seen; });
    CHECK(seen == 1); // only the first packet (header, mark, 82 + 100 bytes) fits
    CHECK(for_each_packet(whole.first(20), [&](auto&) { ++seen; }) == 0);
  }
}
