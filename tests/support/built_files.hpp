// tests/support/built_files.hpp -- packet files built in memory with
// block_builder (as stenoimport does), for tests that need exact files
// without a capture.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io/block_builder.hpp"
#include "support/frames.hpp"

namespace stenotype::test {

/// IPv4/UDP frames from 10.0.0.(1 + i % 4) port 1000 + i % 10 to
/// 10.0.0.100 port 53, numbered in bytes
/// 42..45 (right after the UDP header; planted structure goes past byte 50),
/// of `size` bytes, or of 200..1400 bytes when `size` is 0.
inline std::vector<std::vector<std::uint8_t>> numbered_frames(std::uint32_t n, std::size_t size = 0) {
  std::vector<std::vector<std::uint8_t>> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    frame_builder b;
    b.ipv4({10, 0, 0, static_cast<std::uint8_t>(1 + i % 4)}, {10, 0, 0, 100}, 17).ports(static_cast<std::uint16_t>(1000 + i % 10), 53);
    auto f = b.build();
    f.resize(size ? size : 200 + (i * 337) % 1200, static_cast<std::uint8_t>(i));
    std::memcpy(f.data() + 42, &i, 4);
    out.push_back(std::move(f));
  }
  return out;
}

/// The number of a numbered frame.
inline long frame_number(const std::vector<std::uint8_t>& f) {
  if (f.size() < 46)
    return -1;
  std::uint32_t n;
  std::memcpy(&n, f.data() + 42, 4);
  return n;
}

/// A packet file of blocks of `block_size` bytes holding `frames` in order
/// (packet i stamped first_sec + i s), laid out like `l`.
inline std::vector<std::uint8_t> build_packet_file(const std::vector<std::vector<std::uint8_t>>& frames,
                                                   std::size_t block_size,
                                                   io::block_builder::layout l = io::block_builder::layout::marked,
                                                   std::uint32_t first_sec = 1700000000) {
  std::vector<std::uint8_t> file, block(block_size);
  io::block_builder b{block, l};
  std::uint64_t seq = 0;
  auto flush = [&] {
    b.finish(seq++);
    file.insert(file.end(), block.begin(), block.end());
    b.reset();
  };
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto sec = static_cast<std::uint32_t>(first_sec + i);
    const auto len = static_cast<std::uint32_t>(frames[i].size());
    if (!b.add(sec, 0, frames[i], len)) {
      flush();
      b.add(sec, 0, frames[i], len);
    }
  }
  if (b.count() > 0)
    flush();
  return file;
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

} // namespace stenotype::test
