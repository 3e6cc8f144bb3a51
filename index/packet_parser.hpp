// index/packet_parser.hpp -- what of a packet is findable: addresses, ports,
// protocol, VLAN ids and MPLS labels, with stenotype's semantics.
//
// Walks Ethernet, any depth of 802.1Q/802.1ad/QinQ tags, MPLS label stacks
// (incl. an Ethernet pseudowire behind a control word), IPv4 (IHL, options,
// fragments) and IPv6 (extension headers, fragments), then TCP/UDP ports.
// It never reads past the captured length, whatever the bytes say, and
// allocates nothing: the result is a fixed-size struct.
#pragma once

#include <cstddef>
#include <cstdint>

#include "stenotype/block_format.hpp"

namespace stenotype::index {

struct packet_attributes {
  static constexpr int max_tags = 8; // deeper stacks are cut there (indexed: the first 8)

  std::uint8_t vlan_count = 0;
  std::uint16_t vlans[max_tags];       ///< 12-bit VLAN ids, outermost first
  std::uint8_t mpls_count = 0;
  std::uint32_t mpls[max_tags];        ///< 20-bit labels, outermost first

  std::uint8_t ip_version = 0;         ///< 0 (none), 4 or 6
  std::uint8_t src_ip[16], dst_ip[16]; ///< first 4 bytes for IPv4, network order
  bool has_protocol = false;
  std::uint8_t protocol = 0;           ///< IP protocol / IPv6 final next header
  bool has_ports = false;
  std::uint16_t src_port = 0, dst_port = 0; ///< host order
};

/// Parses `frame` (`caplen` captured bytes, Ethernet). `stripped_vlan` is a
/// tag the kernel removed into tp_vlan_tci (-1: none); it is the outermost.
void parse_packet(const std::uint8_t* frame, std::size_t caplen, int stripped_vlan,
                  packet_attributes& out);

/// Parses a captured packet: its frame and the tag the NIC stripped, if any
/// (io::stripped_vlan_id). The indexer and the query's per-packet re-check
/// both parse through here, so a packet matches what its index says.
inline void parse_packet(const io::packet_ref& p, packet_attributes& out) {
  parse_packet(p.frame, p.caplen, io::stripped_vlan_id(p), out);
}

} // namespace stenotype::index
