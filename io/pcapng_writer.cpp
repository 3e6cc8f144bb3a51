#include "io/pcapng_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "io/wire_frame.hpp"

namespace stenotype::io {
namespace {

// Block types and option codes of the pcapng specification
// (draft-ietf-opsawg-pcapng).
constexpr std::uint32_t section_header_block = 0x0a0d0d0a;
constexpr std::uint32_t interface_description_block = 1;
constexpr std::uint32_t enhanced_packet_block = 6;
constexpr std::uint32_t byte_order_magic = 0x1a2b3c4d;
constexpr std::uint16_t opt_end = 0, if_name = 2, if_description = 3, if_tsresol = 9;

constexpr std::uint32_t padded(std::size_t n) { return static_cast<std::uint32_t>((n + 3) & ~std::size_t{3}); }

void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
  b.insert(b.end(), p, p + 4);
}
void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
  b.insert(b.end(), p, p + 2);
}
void put_option(std::vector<std::uint8_t>& b, std::uint16_t code, const void* value, std::size_t len) {
  put16(b, code);
  put16(b, static_cast<std::uint16_t>(len));
  const auto* p = static_cast<const std::uint8_t*>(value);
  b.insert(b.end(), p, p + len);
  b.resize(b.size() + (padded(len) - len), 0);
}

// Fills in the block's two length fields and writes it.
bool write_block(std::FILE* out, std::vector<std::uint8_t>& b) {
  const auto total = static_cast<std::uint32_t>(b.size() + 4);
  std::memcpy(b.data() + 4, &total, 4);
  put32(b, total);
  return std::fwrite(b.data(), 1, b.size(), out) == b.size();
}

} // namespace

pcapng_writer::pcapng_writer(std::FILE* out) : out_(out) {
  std::vector<std::uint8_t> b;
  put32(b, section_header_block);
  put32(b, 0); // total length, filled in
  put32(b, byte_order_magic);
  put16(b, 1); // version 1.0
  put16(b, 0);
  put32(b, 0xffffffff); // section length: not given
  put32(b, 0xffffffff);
  write_block(out_, b); // (an error shows at the first packet or the flush)
}

long pcapng_writer::add_interface(const pcapng_interface& i) {
  std::vector<std::uint8_t> b;
  put32(b, interface_description_block);
  put32(b, 0);
  put16(b, i.link_type);
  put16(b, 0); // reserved
  put32(b, i.snaplen);
  if (!i.name.empty())
    put_option(b, if_name, i.name.data(), std::min<std::size_t>(i.name.size(), 0xffff));
  if (!i.description.empty())
    put_option(b, if_description, i.description.data(), std::min<std::size_t>(i.description.size(), 0xffff));
  const std::uint8_t nanoseconds = 9; // 10^-9 s
  put_option(b, if_tsresol, &nanoseconds, 1);
  put_option(b, opt_end, nullptr, 0);
  if (!write_block(out_, b))
    return -1;
  return static_cast<long>(interfaces_++);
}

bool pcapng_writer::write(std::uint32_t interface_id, const packet_ref& p) {
  if (interface_id >= interfaces_) {
    errno = EINVAL;
    return false;
  }
  const wire_frame w = wire_frame::of(p);
  const std::uint64_t ts = std::uint64_t{p.sec} * 1000000000u + p.nsec;
  const std::uint32_t data_len = padded(w.caplen);
  struct {
    std::uint32_t type = enhanced_packet_block, total, interface, ts_high, ts_low, caplen, len;
  } h;
  h.total = 28 + data_len + 4;
  h.interface = interface_id;
  h.ts_high = static_cast<std::uint32_t>(ts >> 32);
  h.ts_low = static_cast<std::uint32_t>(ts);
  h.caplen = w.caplen;
  h.len = w.wire_len;
  static constexpr std::uint8_t zeros[4] = {};
  if (std::fwrite(&h, sizeof h, 1, out_) != 1 || !w.write_to(out_)
      || std::fwrite(zeros, 1, data_len - w.caplen, out_) != data_len - w.caplen
      || std::fwrite(&h.total, 4, 1, out_) != 1)
    return false;
  ++packets_;
  return true;
}

} // namespace stenotype::io
