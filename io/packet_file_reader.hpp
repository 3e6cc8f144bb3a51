// io/packet_file_reader.hpp -- reads a packet file (ours or Google
// stenotype's: the same raw TPACKET_V3 blocks) block by block with pread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stenotype/block_format.hpp"

namespace stenotype::io {

class packet_file_reader {
public:
  /// Opens `path`; throws std::runtime_error naming it. The block size is
  /// taken from `block_size`, or detected when 0 (see detect_block_size).
  explicit packet_file_reader(const std::string& path, std::size_t block_size = 0);
  ~packet_file_reader();
  packet_file_reader(const packet_file_reader&) = delete;
  packet_file_reader& operator=(const packet_file_reader&) = delete;

  std::size_t block_size() const { return block_size_; }
  std::uint64_t file_size() const { return size_; }

  /// Calls fn(packet, file offset of its header) for every packet, in file
  /// order. Damaged blocks are skipped and counted in damaged_blocks().
  void for_each_packet(const std::function<void(const packet_ref&, std::uint64_t)>& fn);

  /// Calls fn(block bytes, file offset) for every block in order; the last
  /// one may be short in a truncated file. The span is valid during the call.
  void for_each_block(const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& fn);

  std::uint64_t damaged_blocks() const { return damaged_; }

private:
  int fd_ = -1;
  std::string path_;
  std::uint64_t size_ = 0;
  std::size_t block_size_ = 0;
  std::uint64_t damaged_ = 0;
  std::vector<std::uint8_t> buf_;
};

/// The block size of a packet file: the distance from the first block to the
/// next valid block header, trying powers of two from 4 KiB up to 1 MiB
/// (stenotype's default), and 1 MiB for a file of a single block.
std::size_t detect_block_size(int fd, std::uint64_t file_size);

} // namespace stenotype::io
