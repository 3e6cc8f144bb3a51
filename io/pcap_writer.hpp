// io/pcap_writer.hpp -- classic pcap output (linktype Ethernet).
//
// Nanosecond timestamps by default (magic a1b23c4d), microsecond for old
// tools. A VLAN tag that the kernel stripped into tp_vlan_tci is put back
// into the frame, as libpcap does, so the output shows the packet as it was
// on the wire.
#pragma once

#include <cstdint>
#include <cstdio>

#include "stenotype/block_format.hpp"

namespace stenotype::io {

enum class pcap_precision { nano, micro };

class pcap_writer {
public:
  /// Writes the file header to `out` (not owned).
  pcap_writer(std::FILE* out, pcap_precision precision = pcap_precision::nano,
              std::uint32_t snaplen = 262144);

  /// Appends one packet. Returns false on a write error (errno set).
  bool write(const packet_ref& p);

  bool flush() { return std::fflush(out_) == 0; }
  std::uint64_t packets() const { return packets_; }

private:
  std::FILE* out_;
  pcap_precision precision_;
  std::uint64_t packets_ = 0;
};

} // namespace stenotype::io
