// libFuzzer target: a (damaged) TPACKET_V3 block from a packet file, walked,
// indexed and written as pcap -- everything a reader does with a block.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "index/block_indexer.hpp"
#include "stenotype/block_format.hpp"
#include "io/pcap_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> block(data, data + size);
  static std::FILE* sink = std::fopen("/dev/null", "wb");
  static stenotype::io::pcap_writer out{sink};
  static stenotype::index::index_builder builder{65536};
  builder.reset();
  stenotype::index::index_block(builder, block, 0);
  stenotype::io::for_each_packet(std::span<const std::uint8_t>(block),
                                 [](const stenotype::io::packet_ref& p) { out.write(p); });
  std::size_t entries = 0;
  builder.for_each_entry([&](std::string_view, std::string_view) { ++entries; });
  return 0;
}
