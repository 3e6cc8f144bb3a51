#include "index/block_indexer.hpp"

#include "stenotype/block_format.hpp"
#include "io/packet_file_reader.hpp"

#include <stdexcept>

namespace stenotype::index {

std::uint32_t index_block(index_builder& builder, std::span<const std::uint8_t> block,
                          std::uint64_t block_offset) {
  const auto block_number = static_cast<std::uint32_t>(block_offset / builder.summary().block_size);
  builder.note_blocks(block_number + 1);
  // Parsed in batches: the builder overlaps the batch's flow lookups.
  constexpr std::size_t batch = 16;
  packet_entry pending[batch];
  std::size_t n = 0;
  const std::uint32_t count = io::for_each_packet(block, [&](const io::packet_ref& p) {
    if ((block_offset + p.offset) % (1u << position_shift) != 0)
      return; // not where the kernel puts packets: a damaged block; positions could not be stored
    packet_entry& e = pending[n++];
    parse_packet(p, e.attrs);
    e.position = block_offset + p.offset;
    e.block = block_number;
    e.ts_ns = std::uint64_t{p.sec} * 1000000000u + p.nsec;
    if (n == batch) {
      builder.add(pending, n);
      n = 0;
    }
  });
  builder.add(pending, n);
  return count;
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
