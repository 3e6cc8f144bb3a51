// io/wire_frame.hpp -- a captured packet as it was on the wire.
//
// The kernel may strip the outer VLAN tag into tp_vlan_tci (stenographer's
// issue #211); every output format puts it back after the two MAC
// addresses, as libpcap does. The frame is then three pieces -- the MACs,
// the tag, the rest -- written one after the other, without a copy.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "stenotype/block_format.hpp"

namespace stenotype::io {

struct wire_frame {
  const std::uint8_t* head;  ///< the frame, or its MAC addresses when a tag goes in between
  std::uint32_t head_len;
  std::uint8_t tag[4];       ///< TPID and TCI, network order
  std::uint32_t tag_len;     ///< 4 when the tag is put back, else 0
  const std::uint8_t* rest;
  std::uint32_t rest_len;
  std::uint32_t caplen;      ///< bytes of all three pieces
  std::uint32_t wire_len;    ///< the packet's length on the wire

  static wire_frame of(const packet_ref& p) {
    wire_frame w{};
    w.head = p.frame;
    const bool tagged = has_stripped_vlan(p) && p.caplen >= 12;
    if (!tagged) {
      w.head_len = p.caplen;
      w.caplen = p.caplen;
      w.wire_len = p.wire_len;
      return w;
    }
    const std::uint16_t tpid = htons((p.status & TP_STATUS_VLAN_TPID_VALID) && p.vlan_tpid ? p.vlan_tpid : 0x8100);
    const std::uint16_t tci = htons(p.vlan_tci);
    std::memcpy(w.tag, &tpid, 2);
    std::memcpy(w.tag + 2, &tci, 2);
    w.head_len = 12;
    w.tag_len = 4;
    w.rest = p.frame + 12;
    w.rest_len = p.caplen - 12;
    w.caplen = p.caplen + 4;
    w.wire_len = p.wire_len + 4;
    return w;
  }

  /// Writes the pieces to `out`; false on a write error (errno set).
  bool write_to(std::FILE* out) const {
    return std::fwrite(head, 1, head_len, out) == head_len
           && (tag_len == 0 || std::fwrite(tag, 1, tag_len, out) == tag_len)
           && (rest_len == 0 || std::fwrite(rest, 1, rest_len, out) == rest_len);
  }
};

/// The bytes of `p` as written, its stripped tag put back.
inline std::uint32_t wire_frame_bytes(const packet_ref& p) { return wire_frame::of(p).caplen; }

} // namespace stenotype::io
