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
#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <string>

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
  std::uint32_t offset_to_priv; ///< where the private area (our block mark) starts
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

/// Decodes the header fields of the block at `block` (false when shorter
/// than a header); checks nothing.
inline bool decode_block_header(std::span<const std::uint8_t> block, block_header& out) {
  if (block.size() < block_header_size)
    return false;
  tpacket_block_desc desc;
  std::memcpy(&desc, block.data(), sizeof desc);
  const auto& h = desc.hdr.bh1;
  out.version = desc.version;
  out.offset_to_priv = desc.offset_to_priv;
  out.num_pkts = h.num_pkts;
  out.offset_to_first_pkt = h.offset_to_first_pkt;
  out.blk_len = h.blk_len;
  out.seq_num = h.seq_num;
  out.first_sec = h.ts_first_pkt.ts_sec;
  out.first_nsec = h.ts_first_pkt.ts_nsec;
  out.last_sec = h.ts_last_pkt.ts_sec;
  out.last_nsec = h.ts_last_pkt.ts_nsec;
  return true;
}

/// Whether a decoded header can describe a valid block of `block_size`
/// bytes: the right version, the first packet inside the block and where the
/// kernel puts packets (a multiple of 8), blk_len past the first packet. An
/// all-zero block (preallocated space never written) is invalid.
inline bool valid_block_header(const block_header& h, std::size_t block_size) {
  if (h.version != TPACKET_V3 && h.version != 1) // 1 = TPACKET_V3's block desc version
    return false;
  if (h.num_pkts == 0)
    return true;
  // blk_len is not required to fit: the packets of a block cut short (a
  // truncated file) that lie wholly inside it are still readable.
  return h.offset_to_first_pkt >= block_header_size && h.offset_to_first_pkt < block_size
         && h.offset_to_first_pkt % 8 == 0 && h.blk_len > h.offset_to_first_pkt;
}

/// Reads and checks (valid_block_header) the header of the block `block`.
inline bool read_block_header(std::span<const std::uint8_t> block, block_header& out) {
  return decode_block_header(block, out) && valid_block_header(out, block.size());
}

/// How far ahead of the packet being visited for_each_packet prefetches.
inline constexpr std::size_t prefetch_distance = 1024;

/// Calls `fn(const packet_ref&)` for each packet of the block, in order.
/// Returns the number of packets visited; it is less than num_pkts when a
/// header points outside the block or past blk_len, or when the chain does
/// not step past the packet it leaves (a next header inside the frame would
/// be payload read as structure): a damaged block, and the walk stops there.
template <class F>
std::uint32_t for_each_packet(std::span<const std::uint8_t> block, F&& fn) {
  block_header bh;
  if (!read_block_header(block, bh))
    return 0;
  // The kernel accounts every packet in blk_len; nothing it wrote lies beyond.
  const std::size_t size = std::min<std::size_t>(block.size(), bh.blk_len);
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
    // The kernel steps to the next 8-byte boundary past the frame (V3_ALIGNMENT).
    if (hdr.tp_next_offset < std::size_t{hdr.tp_mac} + hdr.tp_snaplen || hdr.tp_next_offset % 8 != 0) {
      ++visited;
      break;
    }
    off += hdr.tp_next_offset;
  }
  return visited;
}

// ---------------------------------------------------------------------------
// The block mark: how a reader knows a file's block size without guessing.
//
// A packet file is a bare sequence of blocks; nothing in Google stenotype's
// format says how large they are, and looking for block headers inside a file
// reads frame bytes as structure: a sender can put a perfect header in a
// payload. So every block we write carries a mark in TPACKET_V3's private
// area (tp_sizeof_priv), between the block header and the first packet,
// which the kernel reserves and never fills: the capture's reader writes it
// into each ring block it takes (the block is ours then), block_builder into
// each block it builds. Block 0 of a file starts at byte 0, so its mark is
// where no frame can be; every block must carry the same one.
//
// Layout (little-endian, at offset_to_priv = 48): 8 bytes "STENOBLK", u32 mark
// version (1), u32 block size in bytes. Google stenographer's server reads
// packets from offset_to_first_pkt and is unaffected (docs/FILE_FORMAT.md).

/// The mark's fields.
struct block_mark {
  std::uint32_t version = 0;
  std::uint32_t block_size = 0;
  bool operator==(const block_mark&) const = default;
};

inline constexpr std::size_t block_mark_size = 16; ///< tp_sizeof_priv
inline constexpr std::uint32_t block_mark_version = 1;
inline constexpr char block_mark_magic[8] = {'S', 'T', 'E', 'N', 'O', 'B', 'L', 'K'};
/// Where the first packet of a marked block starts: header, then the mark.
inline constexpr std::size_t marked_first_packet = block_header_size + block_mark_size;
static_assert(marked_first_packet % 8 == 0);

/// Block sizes a packet file can have: what the capture accepts (a multiple
/// of the page, here 4 KiB, at most 128 MiB) and stenoimport writes.
inline constexpr std::size_t min_block_size = 4096, max_block_size = std::size_t{128} << 20;
inline constexpr bool valid_block_size(std::uint64_t n) {
  return n >= min_block_size && n <= max_block_size && n % min_block_size == 0;
}

namespace detail {
// Where the mark of a block with this header goes, or 0 when the header
// leaves no private area for it (Google stenotype's blocks, older ones of ours).
inline std::size_t mark_offset(const block_header& h, std::size_t block_size) {
  if (h.version != TPACKET_V3 && h.version != 1)
    return 0;
  if (h.offset_to_priv < block_header_size || h.offset_to_priv % 8 != 0
      || std::size_t{h.offset_to_priv} + block_mark_size > h.offset_to_first_pkt
      || h.offset_to_first_pkt > block_size)
    return 0;
  return h.offset_to_priv;
}
} // namespace detail

/// Writes our mark into a block whose header the kernel (or block_builder)
/// wrote; does nothing when the header reserves no private area for it.
/// One 16-byte copy: cheap enough for every ring block.
inline void write_block_mark(std::span<std::uint8_t> block) {
  block_header h{};
  if (!decode_block_header(block, h))
    return;
  const std::size_t at = detail::mark_offset(h, block.size());
  if (at == 0)
    return;
  const auto size = static_cast<std::uint32_t>(block.size());
  std::memcpy(block.data() + at, block_mark_magic, 8);
  std::memcpy(block.data() + at + 8, &block_mark_version, 4);
  std::memcpy(block.data() + at + 12, &size, 4);
}

/// The mark of a block, from its first bytes (at least the header and the
/// private area: marked_first_packet bytes); nullopt when it carries none.
/// The fields are as found: check them with usable().
inline std::optional<block_mark> read_block_mark(std::span<const std::uint8_t> head) {
  block_header h{};
  if (!decode_block_header(head, h))
    return std::nullopt;
  const std::size_t at = detail::mark_offset(h, SIZE_MAX);
  if (at == 0 || at + block_mark_size > head.size()
      || std::memcmp(head.data() + at, block_mark_magic, 8) != 0)
    return std::nullopt;
  block_mark m;
  std::memcpy(&m.version, head.data() + at + 8, 4);
  std::memcpy(&m.block_size, head.data() + at + 12, 4);
  return m;
}

/// A mark this reader understands.
inline bool usable(const block_mark& m) {
  return m.version == block_mark_version && valid_block_size(m.block_size);
}

// ---------------------------------------------------------------------------
// Checking a block of a packet file before anything in it is believed.

/// What is wrong with a block of a packet file.
enum class block_fault : std::uint8_t {
  none,
  bad_header,  ///< not a TPACKET_V3 block header (e.g. never written: zeros)
  wrong_mark,  ///< a marked file's block without the file's mark
  bad_packets, ///< the packet chain ends before num_pkts packets, leaves blk_len or the block
};

inline const char* describe(block_fault f) {
  switch (f) {
    case block_fault::none: return "valid";
    case block_fault::bad_header: return "no valid block header";
    case block_fault::wrong_mark: return "block mark missing or different from block 0's";
    case block_fault::bad_packets: return "packet chain does not match the block header";
  }
  return "?";
}

/// Checks the header (and the mark) of a block of a file, from its first
/// bytes: `head` holds at least marked_first_packet bytes (or the whole
/// block, if shorter). `mark` is the file's mark (block 0's), nullopt for a
/// file without one. On success `out` holds the header.
inline block_fault check_block_header(std::span<const std::uint8_t> head, std::size_t block_size,
                                      const std::optional<block_mark>& mark, block_header& out) {
  if (!decode_block_header(head, out) || !valid_block_header(out, block_size))
    return block_fault::bad_header;
  if (mark && read_block_mark(head) != mark)
    return block_fault::wrong_mark;
  return block_fault::none;
}

/// The verdict on a whole block.
struct block_check {
  block_fault fault = block_fault::none;
  std::uint32_t promised = 0; ///< packets its header announces (0 when unreadable)
  std::uint32_t valid = 0;    ///< packets of its chain that hold (for_each_packet visits these)
};

/// Checks a whole block of a file (`block.size()` is the file's block size):
/// its header, its mark (as check_block_header), and that the packet chain
/// holds exactly the num_pkts packets the header announces, inside blk_len.
/// Calls fn(const packet_ref&) for the packets of the chain that hold (none
/// when the header or mark is bad).
template <class F>
block_check check_block(std::span<const std::uint8_t> block, const std::optional<block_mark>& mark, F&& fn) {
  block_check c;
  block_header h{};
  c.fault = check_block_header(block, block.size(), mark, h);
  if (c.fault != block_fault::none)
    return c;
  c.promised = h.num_pkts;
  c.valid = for_each_packet(block, fn);
  if (c.valid != c.promised)
    c.fault = block_fault::bad_packets;
  return c;
}

inline block_check check_block(std::span<const std::uint8_t> block, const std::optional<block_mark>& mark) {
  return check_block(block, mark, [](const packet_ref&) {});
}

} // namespace stenotype::io
