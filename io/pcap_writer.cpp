#include "io/pcap_writer.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace stenotype::io {
namespace {

struct file_header {
  std::uint32_t magic;
  std::uint16_t major = 2, minor = 4;
  std::int32_t thiszone = 0;
  std::uint32_t sigfigs = 0;
  std::uint32_t snaplen;
  std::uint32_t linktype = 1; // DLT_EN10MB
};

struct record_header {
  std::uint32_t sec, frac, caplen, len;
};

} // namespace

pcap_writer::pcap_writer(std::FILE* out, pcap_precision precision, std::uint32_t snaplen)
  : out_(out), precision_(precision) {
  file_header h{precision == pcap_precision::nano ? 0xa1b23c4du : 0xa1b2c3d4u, 2, 4, 0, 0, snaplen, 1};
  std::fwrite(&h, sizeof h, 1, out_);
}

bool pcap_writer::write(const packet_ref& p) {
  const bool tagged = has_stripped_vlan(p) && p.caplen >= 12;
  const std::uint32_t extra = tagged ? 4 : 0;
  record_header r{p.sec, precision_ == pcap_precision::nano ? p.nsec : p.nsec / 1000,
                  p.caplen + extra, p.wire_len + extra};
  if (std::fwrite(&r, sizeof r, 1, out_) != 1)
    return false;
  if (tagged) {
    const std::uint16_t tpid = htons((p.status & TP_STATUS_VLAN_TPID_VALID) && p.vlan_tpid
                                       ? p.vlan_tpid : 0x8100);
    const std::uint16_t tci = htons(p.vlan_tci);
    std::uint8_t tag[4];
    std::memcpy(tag, &tpid, 2);
    std::memcpy(tag + 2, &tci, 2);
    if (std::fwrite(p.frame, 1, 12, out_) != 12 || std::fwrite(tag, 1, 4, out_) != 4
        || std::fwrite(p.frame + 12, 1, p.caplen - 12, out_) != p.caplen - 12)
      return false;
  } else if (std::fwrite(p.frame, 1, p.caplen, out_) != p.caplen) {
    return false;
  }
  ++packets_;
  return true;
}

} // namespace stenotype::io
