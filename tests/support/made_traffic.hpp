// tests/support/made_traffic.hpp -- random traffic over every encapsulation
// with the index keys each packet must get, laid out into blocks and indexed:
// the expected answer is computed from how the frames were made, not by the
// code under test.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "index/block_indexer.hpp"
#include "index/index_builder.hpp"
#include "index/keys.hpp"
#include "io/block_builder.hpp"
#include "stenotype/block_format.hpp"
#include "support/frames.hpp"

namespace stenotype::test {

using index::index_builder;
using index::index_key;
using index::ipv4_key;
using index::ipv6_key;
using index::mpls_key;
using index::port_key;
using index::protocol_key;
using index::vlan_key;

struct made_packet {
  std::vector<std::uint8_t> frame;
  std::vector<std::string> keys; // what the index must map to this packet
  std::uint64_t ts_ns;
  int stripped_vlan = -1;
};

inline std::string k(const index_key& key) { return key.str(); }

// Random traffic over every encapsulation, with the expected keys.
inline std::vector<made_packet> make_traffic(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<made_packet> out;
  for (std::size_t i = 0; i < n; ++i) {
    made_packet p;
    p.ts_ns = 1'700'000'000'000'000'000ull + i * 1'000'000ull;
    frame_builder b;
    const int shape = static_cast<int>(rng() % 6);
    if (shape == 1) {
      const auto vl = static_cast<std::uint16_t>(1 + rng() % 4094);
      b.vlan(vl);
      p.keys.push_back(k(vlan_key(vl)));
    }
    if (shape == 2) {
      const std::uint32_t label = rng() % (1 << 20);
      b.mpls(label);
      p.keys.push_back(k(mpls_key(label)));
    }
    if (shape == 3) {
      p.stripped_vlan = static_cast<int>(rng() % 4095);
      p.keys.push_back(k(vlan_key(static_cast<std::uint16_t>(p.stripped_vlan))));
    }
    const std::uint8_t proto = (rng() % 5 == 0) ? 17 : (rng() % 7 == 0 ? 1 : 6);
    if (shape == 4) {
      auto src = stenotype::test::v6(static_cast<std::uint8_t>(rng() % 8));
      auto dst = stenotype::test::v6(static_cast<std::uint8_t>(100 + rng() % 8));
      b.ipv6(src, dst, proto);
      p.keys.push_back(k(ipv6_key(src.data())));
      p.keys.push_back(k(ipv6_key(dst.data())));
    } else if (shape == 5) {
      b.payload(30); // not IP: no keys
    } else {
      std::array<std::uint8_t, 4> src{10, static_cast<std::uint8_t>(rng() % 4), 0, static_cast<std::uint8_t>(rng() % 50)};
      std::array<std::uint8_t, 4> dst{192, 168, 0, static_cast<std::uint8_t>(rng() % 16)};
      b.ipv4(src, dst, proto);
      p.keys.push_back(k(ipv4_key(src.data())));
      p.keys.push_back(k(ipv4_key(dst.data())));
    }
    if (shape != 5) {
      p.keys.push_back(k(protocol_key(proto)));
      if (proto == 1) {
        b.payload(8);
      } else {
        const auto sp = static_cast<std::uint16_t>(1024 + rng() % 60000);
        const std::uint16_t dports[] = {80, 443, 53, 22};
        const auto dp = dports[rng() % 4];
        b.ports(sp, dp);
        p.keys.push_back(k(port_key(sp)));
        p.keys.push_back(k(port_key(dp)));
      }
    }
    b.payload(rng() % 1200);
    p.frame = b.build();
    out.push_back(std::move(p));
  }
  return out;
}

// Lays the packets into blocks of `bs` bytes (appended to `file`, if given)
// and indexes them into `builder`; returns the expected key -> positions.
inline std::map<std::string, std::set<std::uint32_t>> index_traffic(const std::vector<made_packet>& pkts,
                                                     index_builder& builder, std::size_t bs,
                                                     std::vector<std::uint8_t>* file = nullptr) {
  std::map<std::string, std::set<std::uint32_t>> expected;
  std::vector<std::uint8_t> block(bs);
  io::block_builder bb{block};
  std::uint64_t block_no = 0;
  std::vector<std::size_t> in_block;
  auto flush = [&] {
    bb.finish(block_no);
    std::size_t j = 0;
    io::for_each_packet(std::span<const std::uint8_t>(block), [&](const io::packet_ref& p) {
      for (const auto& key : pkts[in_block[j]].keys)
        expected[key].insert(static_cast<std::uint32_t>(block_no * bs + p.offset));
      ++j;
    });
    index::index_block(builder, block, block_no * bs);
    if (file)
      file->insert(file->end(), block.begin(), block.end());
    ++block_no;
    bb.reset();
    in_block.clear();
  };
  for (std::size_t i = 0; i < pkts.size(); ++i) {
    const auto& p = pkts[i];
    auto add = [&] {
      return bb.add(static_cast<std::uint32_t>(p.ts_ns / 1000000000), static_cast<std::uint32_t>(p.ts_ns % 1000000000),
                    p.frame, static_cast<std::uint32_t>(p.frame.size()),
                    static_cast<std::uint16_t>(p.stripped_vlan < 0 ? 0 : p.stripped_vlan), p.stripped_vlan >= 0);
    };
    if (!add()) {
      flush();
      REQUIRE(add());
    }
    in_block.push_back(i);
  }
  flush();
  return expected;
}


} // namespace stenotype::test
