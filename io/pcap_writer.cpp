#include "io/pcap_writer.hpp"

#include "io/wire_frame.hpp"

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
  const wire_frame w = wire_frame::of(p);
  record_header r{p.sec, precision_ == pcap_precision::nano ? p.nsec : p.nsec / 1000, w.caplen, w.wire_len};
  if (std::fwrite(&r, sizeof r, 1, out_) != 1 || !w.write_to(out_))
    return false;
  ++packets_;
  return true;
}

} // namespace stenotype::io
