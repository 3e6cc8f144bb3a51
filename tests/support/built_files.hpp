// tests/support/built_files.hpp -- packet files built in memory with
// block_builder (as stenoimport does), for tests that need exact files
// without a capture.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "io/block_builder.hpp"

namespace stenotype::test {

/// A packet file of blocks of `block_size` bytes holding `frames` in order
/// (packet i stamped 1700000000 + i s), laid out like `l`.
inline std::vector<std::uint8_t> build_packet_file(const std::vector<std::vector<std::uint8_t>>& frames,
                                                   std::size_t block_size,
                                                   io::block_builder::layout l = io::block_builder::layout::marked) {
  std::vector<std::uint8_t> file, block(block_size);
  io::block_builder b{block, l};
  std::uint64_t seq = 0;
  auto flush = [&] {
    b.finish(seq++);
    file.insert(file.end(), block.begin(), block.end());
    b.reset();
  };
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto sec = static_cast<std::uint32_t>(1700000000 + i);
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
