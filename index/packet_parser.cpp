#include "index/packet_parser.hpp"

#include <cstring>

namespace stenotype::index {
namespace {

constexpr std::uint16_t eth_ipv4 = 0x0800, eth_ipv6 = 0x86dd, eth_vlan = 0x8100,
                        eth_qinq = 0x88a8, eth_qinq_old = 0x9100, eth_mpls = 0x8847,
                        eth_mpls_mc = 0x8848;

// A bounds-checked cursor over the captured bytes.
struct cursor {
  const std::uint8_t* p;
  std::size_t left;

  bool has(std::size_t n) const { return left >= n; }
  std::uint8_t u8(std::size_t at) const { return p[at]; }
  std::uint16_t u16(std::size_t at) const {
    return static_cast<std::uint16_t>(p[at] << 8 | p[at + 1]);
  }
  std::uint32_t u32(std::size_t at) const {
    return std::uint32_t{p[at]} << 24 | std::uint32_t{p[at + 1]} << 16
           | std::uint32_t{p[at + 2]} << 8 | p[at + 3];
  }
  bool skip(std::size_t n) {
    if (left < n)
      return false;
    p += n;
    left -= n;
    return true;
  }
};

void add_vlan(packet_attributes& out, std::uint16_t tci) {
  if (out.vlan_count < packet_attributes::max_tags)
    out.vlans[out.vlan_count++] = tci & 0x0fff;
}

void parse_ports(cursor c, packet_attributes& out) {
  if (out.protocol != 6 && out.protocol != 17)
    return;
  if (!c.has(4))
    return;
  out.has_ports = true;
  out.src_port = c.u16(0);
  out.dst_port = c.u16(2);
}

void parse_ipv4(cursor c, packet_attributes& out) {
  if (!c.has(20) || (c.u8(0) >> 4) != 4)
    return;
  const std::size_t ihl = static_cast<std::size_t>(c.u8(0) & 0x0f) * 4;
  if (ihl < 20)
    return;
  out.ip_version = 4;
  std::memcpy(out.src_ip, c.p + 12, 4);
  std::memcpy(out.dst_ip, c.p + 16, 4);
  out.has_protocol = true;
  out.protocol = c.u8(9);
  // A non-first fragment carries no transport header: no ports (stenotype
  // read "ports" from payload bytes here, a bug).
  const std::uint16_t frag_offset = c.u16(6) & 0x1fff;
  if (frag_offset != 0 || !c.skip(ihl))
    return;
  parse_ports(c, out);
}

bool is_ipv6_extension(std::uint8_t nh) {
  return nh == 0 || nh == 43 || nh == 60 || nh == 135; // hop-by-hop, routing, dest opts, mobility
}

void parse_ipv6(cursor c, packet_attributes& out) {
  if (!c.has(40) || (c.u8(0) >> 4) != 6)
    return;
  out.ip_version = 6;
  std::memcpy(out.src_ip, c.p + 8, 16);
  std::memcpy(out.dst_ip, c.p + 24, 16);
  std::uint8_t nh = c.u8(6);
  c.skip(40);
  // Each extension header is at least 8 bytes, so this ends within caplen/8 steps.
  for (;;) {
    if (is_ipv6_extension(nh)) {
      if (!c.has(2))
        break;
      const std::size_t len = (static_cast<std::size_t>(c.u8(1)) + 1) * 8;
      const std::uint8_t next = c.u8(0);
      if (!c.skip(len))
        break;
      nh = next;
      continue;
    }
    if (nh == 44) { // fragment header
      if (!c.has(8))
        break;
      const std::uint16_t offset = c.u16(2) >> 3;
      if (offset != 0)
        break; // a later fragment: protocol stays 44, as in stenotype
      nh = c.u8(0);
      c.skip(8);
      continue;
    }
    out.has_protocol = true;
    out.protocol = nh;
    parse_ports(c, out);
    return;
  }
  // Ran out of bytes in the extension headers, or a non-first fragment.
  out.has_protocol = true;
  out.protocol = nh;
}

void parse_ethernet(cursor c, packet_attributes& out, int depth);

void parse_mpls(cursor c, packet_attributes& out, int depth) {
  for (;;) {
    if (!c.has(4))
      return;
    const std::uint32_t entry = c.u32(0);
    if (out.mpls_count < packet_attributes::max_tags)
      out.mpls[out.mpls_count++] = entry >> 12;
    c.skip(4);
    if (entry & 0x100) // bottom of stack
      break;
  }
  if (!c.has(1))
    return;
  switch (c.u8(0) >> 4) {
    case 4: return parse_ipv4(c, out);
    case 6: return parse_ipv6(c, out);
    case 0: // pseudowire control word, then an Ethernet frame
      if (c.skip(4))
        parse_ethernet(c, out, depth + 1);
      return;
    default: return;
  }
}

void parse_ethernet(cursor c, packet_attributes& out, int depth) {
  if (depth > 2 || !c.has(14)) // a pseudowire inside a pseudowire inside ...: stop
    return;
  std::uint16_t type = c.u16(12);
  c.skip(14);
  while (type == eth_vlan || type == eth_qinq || type == eth_qinq_old) {
    if (!c.has(4))
      return;
    add_vlan(out, c.u16(0));
    type = c.u16(2);
    c.skip(4);
  }
  switch (type) {
    case eth_ipv4: return parse_ipv4(c, out);
    case eth_ipv6: return parse_ipv6(c, out);
    case eth_mpls:
    case eth_mpls_mc: return parse_mpls(c, out, depth);
    default: return;
  }
}

} // namespace

void parse_packet(const std::uint8_t* frame, std::size_t caplen, int stripped_vlan,
                  packet_attributes& out) {
  out.vlan_count = 0;
  out.mpls_count = 0;
  out.ip_version = 0;
  out.has_protocol = false;
  out.has_ports = false;
  if (stripped_vlan >= 0)
    add_vlan(out, static_cast<std::uint16_t>(stripped_vlan));
  parse_ethernet(cursor{frame, caplen}, out, 0);
}

} // namespace stenotype::index
