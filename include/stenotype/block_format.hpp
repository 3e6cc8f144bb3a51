// stenotype/block_format.hpp -- reading TPACKET_V3 blocks, from the ring or a file.
//
// A packet file is nothing but the ring's blocks written out whole (see
// docs/FILE_FORMAT.md), so one bounds-checked walker serves the indexer, the
// offline tools and the tests. Every field that the kernel (or a damaged file)
// supplies is checked against the block's size before it is used: a bad
// offset ends the walk, it never reads outside the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <linux/if_packet.h>

namespace stenotype::io {

/// One packet inside a block, as the kernel described it.
struct packet_ref {
  std::uint32_t offset;    ///< of its tpacket3_hdr, from the block start
  std::uint32_t sec;       ///< capture time
  std::uint32_t nsec;
  std::uint32_t caplen;    ///< bytes of `frame`
  std::uint32_t wire_len;  ///< length on the wire
  std::uint32_t status;    ///< tp_status (TP_STATUS_VLAN_VALID, ...)
  std::uint16_t vlan_tci;  ///< valid when status has TP_STATUS_VLAN_VALID
  std::uint16_t vlan_tpid; ///< valid when status has TP_STATUS_VLAN_TPID_VALID
  const std::uint8_t* frame;
};

/// The block header fields we use. Layout: struct tpacket_block_desc with
/// struct tpacket_hdr_v1 (48 bytes).
struct block_header {
  std::uint32_t version;
  std::uint32_t num_pkts;
  std::uint32_t offset_to_first_pkt;
  std::uint32_t blk_len;
  std::uint64_t seq_num;
  std::uint32_t first_sec, first_nsec;
  std::uint32_t last_sec, last_nsec;
};

inline constexpr std::size_t block_header_size = sizeof(tpacket_block_desc);
static_assert(block_header_size == 48);

/// Whether the NIC stripped the frame's outer VLAN tag into the packet header
/// (vlan_tci, and vlan_tpid if TP_STATUS_VLAN_TPID_VALID). Every reader takes
/// that tag as the frame's outermost: indexed and queried by its id, put back
/// into the frame on pcap output.
inline bool has_stripped_vlan(const packet_ref& p) { return (p.status & TP_STATUS_VLAN_VALID) != 0; }

/// The 12-bit id of that stripped tag, or -1 when the frame is as on the wire.
inline int stripped_vlan_id(const packet_ref& p) { return has_stripped_vlan(p) ? (p.vlan_tci & 0x0fff) : -1; }

/// Whether packet header `h` describes a frame inside the `room` bytes from
/// the header's start: the frame after the header, no longer than the packet
/// was. The kernel's headers always do; a damaged file's may not.
inline bool packet_fits(const tpacket3_hdr& h, std::size_t room) {
  return h.tp_mac >= sizeof(tpacket3_hdr) && h.tp_snaplen <= h.tp_len
         && std::size_t{h.tp_mac} + h.tp_snaplen <= room;
}

/// The packet described by header `h`, which starts at `at`, `offset` bytes
/// into its block. Check packet_fits first.
inline packet_ref make_packet_ref(const tpacket3_hdr& h, std::uint32_t offset, const std::uint8_t* at) {
  return {offset, h.tp_sec, h.tp_nsec, h.tp_snaplen, h.tp_len, h.tp_status,
          static_cast<std::uint16_t>(h.hv1.tp_vlan_tci), static_cast<std::uint16_t>(h.hv1.tp_vlan_tpid),
          at + h.tp_mac};
}

/// Reads the header of the block at `data` (at least 48 bytes). Returns false
/// when the header cannot describe a valid block of `size` bytes: wrong
/// version or first packet outside the block. An all-zero block
/// (preallocated space never written) is invalid.
inline bool read_block_header(std::span<const std::uint8_t> block, block_header& out) {
  if (block.size() < block_header_size)
    return false;
  tpacket_block_desc desc;
  std::memcpy(&desc, block.data(), sizeof desc);
  const auto& h = desc.hdr.bh1;
  out.version = desc.version;
  out.num_pkts = h.num_pkts;
  out.offset_to_first_pkt = h.offset_to_first_pkt;
  out.blk_len = h.blk_len;
  out.seq_num = h.seq_num;
  out.first_sec = h.ts_first_pkt.ts_sec;
  out.first_nsec = h.ts_first_pkt.ts_nsec;
  out.last_sec = h.ts_last_pkt.ts_sec;
  out.last_nsec = h.ts_last_pkt.ts_nsec;
  if (out.version != TPACKET_V3 && out.version != 1) // 1 = TPACKET_V3's block desc version
    return false;
  if (out.num_pkts == 0)
    return true;
  // blk_len is not required to fit: the packets of a block cut short (a
  // truncated file) that lie wholly inside it are still readable.
  return out.offset_to_first_pkt >= block_header_size && out.offset_to_first_pkt < block.size();
}

/// How far ahead of the packet being visited for_each_packet prefetches.
inline constexpr std::size_t prefetch_distance = 1024;

/// Calls `fn(const packet_ref&)` for each packet of the block, in order.
/// Returns the number of packets visited; it is less than num_pkts when a
/// header points outside the block (a damaged block), and the walk stops there.
template <class F>
std::uint32_t for_each_packet(std::span<const std::uint8_t> block, F&& fn) {
  block_header bh;
  if (!read_block_header(block, bh))
    return 0;
  const std::size_t size = block.size();
  std::size_t off = bh.offset_to_first_pkt;
  std::uint32_t visited = 0;
  for (; visited < bh.num_pkts; ++visited) {
    if (off + sizeof(tpacket3_hdr) > size)
      break;
    // A block just retired by the kernel was written by another core and
    // sits in its cache; asking for the lines ahead overlaps those transfers.
    if (off + prefetch_distance < size)
      __builtin_prefetch(block.data() + off + prefetch_distance);
    tpacket3_hdr hdr;
    std::memcpy(&hdr, block.data() + off, sizeof hdr);
    if (!packet_fits(hdr, size - off))
      break;
    packet_ref p = make_packet_ref(hdr, static_cast<std::uint32_t>(off), block.data() + off);
    fn(p);
    if (hdr.tp_next_offset == 0) {
      ++visited;
      break;
    }
    off += hdr.tp_next_offset;
  }
  return visited;
}

} // namespace stenotype::io
