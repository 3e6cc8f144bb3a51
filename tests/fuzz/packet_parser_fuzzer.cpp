// libFuzzer target: the packet attribute parser on arbitrary frames.
// The first byte picks whether a kernel-stripped VLAN tag is present.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/packet_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const int stripped = data[0] & 1 ? data[0] >> 1 : -1;
  // An exactly-sized copy, so ASan sees any read past the captured length.
  std::vector<std::uint8_t> frame(data + 1, data + size);
  stenotype::index::packet_attributes a;
  stenotype::index::parse_packet(frame.data(), frame.size(), stripped, a);
  if (a.vlan_count > stenotype::index::packet_attributes::max_tags
      || a.mpls_count > stenotype::index::packet_attributes::max_tags)
    __builtin_trap();
  return 0;
}
