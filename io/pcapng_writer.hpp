// io/pcapng_writer.hpp -- pcapng output (the format Wireshark writes).
//
// One section; any number of interfaces, each with its own description
// block (link type, snap length, name, description, nanosecond stamps:
// if_tsresol = 9), added before or between packets; each packet an
// enhanced packet block naming its interface. stenoread writes one
// interface for its data directory; a reader of several sensors or capture
// threads gives each its own, so their packets stay told apart in one
// file. Stripped VLAN tags are put back, as in the pcap output.
// Little-endian (the byte-order magic says so); every block 4-byte aligned.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "stenotype/block_format.hpp"

namespace stenotype::io {

struct pcapng_interface {
  std::string name;               ///< if_name (e.g. "eth1", "sensor-3/thread-0"); empty: none
  std::string description;        ///< if_description; empty: none
  std::uint16_t link_type = 1;    ///< LINKTYPE_ETHERNET
  std::uint32_t snaplen = 262144;
};

class pcapng_writer {
public:
  /// Writes the section header block to `out` (not owned).
  explicit pcapng_writer(std::FILE* out);

  /// Writes an interface description block; returns the interface's id (0,
  /// 1, ... in the order added), or -1 on a write error (errno set).
  long add_interface(const pcapng_interface& i);

  /// Appends one packet of interface `interface_id` as an enhanced packet
  /// block, stamped in nanoseconds. Returns false on a write error (errno
  /// set) or an interface id never added (EINVAL).
  bool write(std::uint32_t interface_id, const packet_ref& p);

  bool flush() { return std::fflush(out_) == 0; }
  std::uint64_t packets() const { return packets_; }

private:
  std::FILE* out_;
  std::uint32_t interfaces_ = 0;
  std::uint64_t packets_ = 0;
};

} // namespace stenotype::io
