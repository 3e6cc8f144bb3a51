#include "index/block_indexer.hpp"

#include "stenotype/block_format.hpp"
#include "io/packet_file_reader.hpp"

#include <stdexcept>

namespace stenotype::index {

std::uint32_t index_block(index_builder& builder, std::span<const std::uint8_t> block,
                          std::uint64_t block_offset) {
  const auto block_number = static_cast<std::uint32_t>(block_offset / builder.summary().block_size);
  builder.note_blocks(block_number + 1);
  packet_attributes attrs;
  return io::for_each_packet(block, [&](const io::packet_ref& p) {
    if ((block_offset + p.offset) % (1u << position_shift) != 0)
      return; // not where the kernel puts packets: a damaged block; positions could not be stored
    parse_packet(p, attrs);
    builder.add(block_offset + p.offset, block_number,
                std::uint64_t{p.sec} * 1000000000u + p.nsec, attrs);
  });
}

std::uint64_t index_packet_file(const std::string& path, index_builder& builder) {
  io::packet_file_reader reader{path, builder.summary().block_size};
  // An index numbers blocks by the builder's size: a file of other blocks
  // (its block mark says so) would get an index that fits nothing.
  // (An empty file, as an idle stenographer-format capture writes, has no blocks to disagree.)
  if (reader.file_size() > 0 && reader.block_size() != builder.summary().block_size)
    throw std::runtime_error(path + " has blocks of " + std::to_string(reader.block_size() / 1024)
                             + " KiB (its block mark), not " + std::to_string(builder.summary().block_size / 1024)
                             + " KiB");
  std::uint64_t damaged = 0;
  reader.for_each_block([&](std::span<const std::uint8_t> block, std::uint64_t offset) {
    io::block_header bh;
    if (!io::read_block_header(block, bh) || index_block(builder, block, offset) != bh.num_pkts)
      ++damaged;
  });
  return damaged;
}

} // namespace stenotype::index
