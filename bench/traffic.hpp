// bench/traffic.hpp -- the benchmark traffic: a fixed, seeded set of frames
// with a realistic index load (see docs/PERFORMANCE.md): 80% TCP / 20% UDP,
// source IP random in 10.0.0.0/8, destination one of 256 in 192.168.0.0/24,
// random source port, destination port one of 16 common ports.
#pragma once

#include <cstdint>
#include <span>
#include <random>
#include <vector>

#include "io/block_builder.hpp"

namespace stenotype::bench {

enum class frame_mix { small64, large1514, imix };

inline std::size_t frame_size(frame_mix mix, std::mt19937& rng) {
  switch (mix) {
    case frame_mix::small64: return 60; // 64 on the wire with the FCS
    case frame_mix::large1514: return 1514;
    default: { // simple IMIX 7:4:1
      const auto r = rng() % 12;
      return r < 7 ? 60 : r < 11 ? 590 : 1514;
    }
  }
}

inline std::vector<std::vector<std::uint8_t>> make_frames(std::size_t count, frame_mix mix,
                                                          unsigned seed = 20261127) {
  static const std::uint16_t ports[16] = {80, 443, 53, 22, 25, 110, 143, 993,
                                          995, 3306, 5432, 8080, 8443, 123, 161, 389};
  std::mt19937 rng(seed);
  std::vector<std::vector<std::uint8_t>> frames;
  frames.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t size = frame_size(mix, rng);
    std::vector<std::uint8_t> f(size, 0);
    const std::uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    std::copy(macs, macs + 12, f.begin());
    f[12] = 0x08;
    f[13] = 0x00;
    const bool tcp = rng() % 10 < 8;
    std::uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    const auto total = static_cast<std::uint16_t>(size - 14);
    ip[2] = static_cast<std::uint8_t>(total >> 8);
    ip[3] = static_cast<std::uint8_t>(total);
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    const std::uint32_t src = rng();
    ip[12] = 10;
    ip[13] = static_cast<std::uint8_t>(src >> 16);
    ip[14] = static_cast<std::uint8_t>(src >> 8);
    ip[15] = static_cast<std::uint8_t>(src);
    ip[16] = 192;
    ip[17] = 168;
    ip[18] = 0;
    ip[19] = static_cast<std::uint8_t>(rng());
    std::uint8_t* l4 = ip + 20;
    const auto sport = static_cast<std::uint16_t>(1024 + rng() % 64000);
    const auto dport = ports[rng() % 16];
    l4[0] = static_cast<std::uint8_t>(sport >> 8);
    l4[1] = static_cast<std::uint8_t>(sport);
    l4[2] = static_cast<std::uint8_t>(dport >> 8);
    l4[3] = static_cast<std::uint8_t>(dport);
    if (tcp)
      l4[12] = 0x50; // data offset 5
    else {
      const auto ulen = static_cast<std::uint16_t>(total - 20);
      l4[4] = static_cast<std::uint8_t>(ulen >> 8);
      l4[5] = static_cast<std::uint8_t>(ulen);
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

/// `distinct` TPACKET_V3 blocks of `block_size` bytes filled with the traffic
/// (`unique_frames` distinct frames, looped): enough different blocks that
/// the caches see a realistic working set.
inline std::vector<std::vector<std::uint8_t>> build_blocks(frame_mix mix, std::size_t distinct,
                                                          std::size_t unique_frames, std::size_t block_size) {
  const auto frames = make_frames(unique_frames, mix);
  std::vector<std::vector<std::uint8_t>> blocks;
  std::size_t next = 0;
  const std::uint32_t t = 1'700'000'000;
  for (std::size_t b = 0; b < distinct; ++b) {
    std::vector<std::uint8_t> block(block_size);
    io::block_builder bb{block};
    for (;;) {
      const auto& f = frames[next % frames.size()];
      if (!bb.add(t, static_cast<std::uint32_t>(next % 1000000) * 1000, f, static_cast<std::uint32_t>(f.size())))
        break;
      ++next;
    }
    bb.finish(b);
    blocks.push_back(std::move(block));
  }
  return blocks;
}

} // namespace stenotype::bench
