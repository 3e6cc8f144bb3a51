// tests/support/forged_blocks.hpp -- frames whose payload looks like block
// structure: a perfect block header and packet (IPv4/UDP from 6.6.6.6) at
// every 4 KiB boundary of a block that a frame's payload covers, once laid
// out as the kernel and block_builder lay packets out. A reader that takes
// frame bytes for structure prints packets from 6.6.6.6 that nobody sent.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "io/block_builder.hpp"
#include "support/frames.hpp"

namespace stenotype::test {

inline constexpr std::array<std::uint8_t, 4> forged_source = {6, 6, 6, 6};

/// The bytes of a forged 4 KiB block holding one packet from 6.6.6.6, up to
/// its end: Google stenotype's layout (first packet at 48, what the old
/// block-size detection looked for) or ours (with a block mark saying 4 KiB).
inline std::vector<std::uint8_t> forged_block_unit(io::block_builder::layout l) {
  std::vector<std::uint8_t> block(4096);
  io::block_builder b{block, l};
  frame_builder f;
  f.ipv4(forged_source, {10, 0, 0, 100}, 17).ports(666, 53).payload(18);
  const auto frame = f.build();
  b.add(1700000000, 0, frame, static_cast<std::uint32_t>(frame.size()));
  b.finish(1);
  io::block_header h{};
  io::read_block_header(block, h);
  block.resize(h.blk_len);
  return block;
}

/// Where a frame of each of `sizes` lands in blocks of `block_size` bytes
/// laid out like `l` (block_builder's rule, which is the kernel's): the
/// frame's offset in its block.
inline std::vector<std::size_t> frame_offsets(const std::vector<std::size_t>& sizes, std::size_t block_size,
                                              io::block_builder::layout l) {
  const std::size_t first = l == io::block_builder::layout::marked ? io::block_builder::first_offset
                                                                   : io::block_builder::unmarked_first_offset;
  std::vector<std::size_t> out;
  std::size_t at = first;
  for (std::size_t len : sizes) {
    const std::size_t total = (io::block_builder::mac_offset + len + 7) & ~std::size_t{7};
    if (at + total > block_size)
      at = first;
    out.push_back(at + io::block_builder::mac_offset);
    at += total;
  }
  return out;
}

/// Plants forged units (alternately of both layouts) into `frames` wherever a
/// 4 KiB boundary of a block falls into a frame's payload, past its first
/// `keep` bytes (headers the test needs). Returns how many were planted.
inline std::size_t plant_forged_blocks(std::vector<std::vector<std::uint8_t>>& frames, std::size_t block_size,
                                       io::block_builder::layout l, std::size_t keep = 22) {
  const std::vector<std::uint8_t> units[2] = {forged_block_unit(io::block_builder::layout::unmarked),
                                              forged_block_unit(io::block_builder::layout::marked)};
  std::vector<std::size_t> sizes;
  for (const auto& f : frames)
    sizes.push_back(f.size());
  const auto offsets = frame_offsets(sizes, block_size, l);
  std::size_t planted = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::size_t start = offsets[i], end = start + frames[i].size();
    for (std::size_t boundary = (start / 4096 + 1) * 4096; boundary < end; boundary += 4096) {
      const auto& unit = units[planted % 2];
      const std::size_t at = boundary - start;
      if (at < keep || at + unit.size() > frames[i].size())
        continue;
      std::memcpy(frames[i].data() + at, unit.data(), unit.size());
      ++planted;
    }
  }
  return planted;
}

/// Whether `frame` is one of the forged packets (IPv4 from 6.6.6.6).
inline bool is_forged(const std::uint8_t* frame, std::size_t len) {
  return len >= 34 && frame[12] == 0x08 && frame[13] == 0x00
         && std::memcmp(frame + 26, forged_source.data(), 4) == 0;
}

} // namespace stenotype::test
