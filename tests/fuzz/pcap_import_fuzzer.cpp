// libFuzzer target: the pcap importer's reading side on arbitrary bytes --
// libpcap parses the file from memory, every packet is laid into blocks as
// stenoimport does and each full block is indexed. (The disk side is the
// capture's own writer, exercised by the integration tests.)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <pcap/pcap.h>
#include <vector>

#include "index/block_indexer.hpp"
#include "io/block_builder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* f = fmemopen(const_cast<std::uint8_t*>(data), size, "rb");
  if (!f)
    return 0;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) // libpcap closes f on failure
    return 0;
  static std::vector<std::uint8_t> block(64 * 1024);
  static stenotype::index::index_builder builder{64 * 1024};
  builder.reset();
  stenotype::io::block_builder bb{block};
  std::uint64_t offset = 0;
  pcap_pkthdr* h;
  const u_char* pkt;
  for (int n = 0; n < 10000 && pcap_next_ex(p, &h, &pkt) == 1; ++n) {
    const auto room = static_cast<std::uint32_t>(stenotype::io::block_builder::max_frame(block.size()));
    const std::uint32_t caplen = h->caplen > room ? room : h->caplen;
    const auto sec = static_cast<std::uint32_t>(h->ts.tv_sec), nsec = static_cast<std::uint32_t>(h->ts.tv_usec);
    if (!bb.add(sec, nsec, {pkt, caplen}, h->len)) {
      bb.finish(0);
      stenotype::index::index_block(builder, block, offset);
      offset += block.size();
      bb.reset();
      bb.add(sec, nsec, {pkt, caplen}, h->len);
    }
  }
  bb.finish(0);
  stenotype::index::index_block(builder, block, offset);
  pcap_close(p);
  return 0;
}
