// io/block_builder.hpp -- lays out packets as the kernel does in a TPACKET_V3
// block. Used to turn packets that did not come from a ring (pcap import,
// tests, benchmarks) into blocks that the writer, the indexer and every
// reader treat exactly like captured ones.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include <linux/if_packet.h>

#include "stenotype/block_format.hpp"

namespace stenotype::io {

class block_builder {
public:
  /// `marked`: our layout, with the block mark. `unmarked`: Google
  /// stenotype's (and ours before marks), the first packet right after the
  /// header -- for tests of reading such files.
  enum class layout { marked, unmarked };

  /// Builds into `block` (block size bytes, zeroed by reset()).
  explicit block_builder(std::span<std::uint8_t> block, layout l = layout::marked)
    : block_(block), first_(l == layout::marked ? first_offset : unmarked_first_offset) {
    reset();
  }

  void reset() {
    std::memset(block_.data(), 0, block_.size());
    count_ = 0;
    next_ = first_;
    last_ = 0;
  }

  /// Appends one packet; false when it does not fit (start a new block).
  /// `vlan_tci` with `vlan_valid` mimics a tag the NIC stripped.
  bool add(std::uint32_t sec, std::uint32_t nsec, std::span<const std::uint8_t> frame,
           std::uint32_t wire_len, std::uint16_t vlan_tci = 0, bool vlan_valid = false) {
    const std::size_t total = align(mac_offset + frame.size());
    if (next_ + total > block_.size())
      return false;
    tpacket3_hdr h{};
    h.tp_sec = sec;
    h.tp_nsec = nsec;
    h.tp_snaplen = static_cast<std::uint32_t>(frame.size());
    h.tp_len = wire_len < frame.size() ? static_cast<std::uint32_t>(frame.size()) : wire_len;
    h.tp_status = TP_STATUS_USER | (vlan_valid ? TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID : 0);
    h.tp_mac = mac_offset;
    h.tp_net = mac_offset + 14u;
    h.hv1.tp_vlan_tci = vlan_tci;
    h.hv1.tp_vlan_tpid = vlan_valid ? 0x8100 : 0;
    h.tp_next_offset = static_cast<std::uint32_t>(total);
    std::memcpy(block_.data() + next_, &h, sizeof h);
    std::memcpy(block_.data() + next_ + mac_offset, frame.data(), frame.size());
    if (count_ == 0)
      first_ts_ = {sec, nsec};
    last_ts_ = {sec, nsec};
    last_ = next_;
    next_ += total;
    ++count_;
    return true;
  }

  /// Writes the block header and our block mark (as the capture does for
  /// ring blocks); the last packet's next offset becomes 0.
  std::uint32_t finish(std::uint64_t seq) {
    if (count_ > 0) {
      std::uint32_t zero = 0;
      std::memcpy(block_.data() + last_ + offsetof(tpacket3_hdr, tp_next_offset), &zero, 4);
    }
    tpacket_block_desc d{};
    d.version = TPACKET_V3;
    d.offset_to_priv = block_header_size;
    d.hdr.bh1.block_status = TP_STATUS_USER;
    d.hdr.bh1.num_pkts = count_;
    d.hdr.bh1.offset_to_first_pkt = static_cast<std::uint32_t>(first_);
    d.hdr.bh1.blk_len = static_cast<std::uint32_t>(next_);
    d.hdr.bh1.seq_num = seq;
    d.hdr.bh1.ts_first_pkt.ts_sec = first_ts_.sec;
    d.hdr.bh1.ts_first_pkt.ts_nsec = first_ts_.nsec;
    d.hdr.bh1.ts_last_pkt.ts_sec = last_ts_.sec;
    d.hdr.bh1.ts_last_pkt.ts_nsec = last_ts_.nsec;
    std::memcpy(block_.data(), &d, sizeof d);
    write_block_mark(block_); // (no room for it in the unmarked layout: nothing written)
    return count_;
  }

  std::uint32_t count() const { return count_; }

  /// The largest frame a block of `block_size` bytes can hold.
  static constexpr std::size_t max_frame(std::size_t block_size) {
    return block_size - first_offset - mac_offset - 8;
  }

  /// The kernel's layout with our private area (tp_sizeof_priv): header,
  /// block mark, then the packets, each with its frame at a 16-byte aligned
  /// offset past the tpacket3_hdr and sockaddr_ll (TPACKET_ALIGN).
  static constexpr std::size_t first_offset = marked_first_packet;
  static constexpr std::size_t unmarked_first_offset = block_header_size;
  // As the kernel places an Ethernet frame: the network header at
  // TPACKET_ALIGN(TPACKET3_HDRLEN + 16) = 96, the MAC header 14 bytes before.
  static constexpr std::uint16_t mac_offset = 82;

private:
  struct ts { std::uint32_t sec = 0, nsec = 0; };
  // The kernel's V3_ALIGNMENT: packets start at multiples of 8.
  static constexpr std::size_t align(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

  std::span<std::uint8_t> block_;
  std::size_t first_;
  std::uint32_t count_ = 0;
  std::size_t next_ = first_offset;
  std::size_t last_ = 0;
  ts first_ts_, last_ts_;
};

} // namespace stenotype::io
