// index/flow_part.cpp -- see flow_part.hpp.
#include "index/flow_part.hpp"

#include <algorithm>
#include <cstring>

#include "index/index_file.hpp"
#include "stenotype/error.hpp"

namespace stenotype::index {
namespace {

std::uint32_t get_be32(std::string_view v, std::size_t at) {
  std::uint32_t x = 0;
  for (std::size_t i = 0; i < 4; ++i)
    x = x << 8 | static_cast<std::uint8_t>(v[at + i]);
  return x;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() == prefix.size() + 4 && s.substr(0, prefix.size()) == prefix;
}

// One varint at `at` (< 2^32); false when truncated or too long.
bool next_varint(std::string_view v, std::size_t& at, std::uint32_t& out) {
  std::uint64_t x = 0;
  for (int shift = 0; at < v.size() && shift <= 28; shift += 7) {
    const auto b = static_cast<std::uint8_t>(v[at++]);
    x |= std::uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      if (x > 0xffffffffull)
        return false;
      out = static_cast<std::uint32_t>(x);
      return true;
    }
  }
  return false;
}

constexpr std::size_t fixed_bytes = 20; // the record's fields before its addresses

std::size_t address_bytes(std::uint8_t flags) {
  return (flags & flow_key::ipv4) ? 4 : (flags & flow_key::ipv6) ? 16 : 0;
}

template <class T>
T get_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The size of the record at `at` of `v`, 0 when it does not fit or cannot be one.
std::size_t record_size(std::string_view v, std::size_t at) {
  if (v.size() - at < fixed_bytes)
    return 0;
  const char* p = v.data() + at;
  const auto flags = static_cast<std::uint8_t>(p[0]);
  const auto vlans = static_cast<std::uint8_t>(p[2]), labels = static_cast<std::uint8_t>(p[3]);
  if (vlans > packet_attributes::max_tags || labels > packet_attributes::max_tags
      || ((flags & flow_key::ipv4) && (flags & flow_key::ipv6)))
    return 0;
  const std::size_t size = fixed_bytes + 2 * address_bytes(flags) + 2u * vlans + 4u * labels;
  return v.size() - at < size ? 0 : size;
}

// Decodes a record record_size accepted.
part_flow decode(const char* p) {
  part_flow f;
  f.flags = static_cast<std::uint8_t>(p[0]);
  f.protocol = static_cast<std::uint8_t>(p[1]);
  f.vlan_count = static_cast<std::uint8_t>(p[2]);
  f.mpls_count = static_cast<std::uint8_t>(p[3]);
  f.src_port = get_le<std::uint16_t>(p + 4);
  f.dst_port = get_le<std::uint16_t>(p + 6);
  f.packets = get_le<std::uint32_t>(p + 8);
  f.ords_at = get_le<std::uint32_t>(p + 12);
  f.ords_size = get_le<std::uint32_t>(p + 16);
  const std::size_t addr = address_bytes(f.flags);
  p += fixed_bytes;
  std::memcpy(f.src, p, addr);
  std::memcpy(f.dst, p + addr, addr);
  p += 2 * addr;
  for (int i = 0; i < f.vlan_count; ++i)
    f.vlans[i] = get_le<std::uint16_t>(p + 2 * i);
  p += 2u * f.vlan_count;
  for (int i = 0; i < f.mpls_count; ++i)
    f.mpls[i] = get_le<std::uint32_t>(p + 4 * i);
  return f;
}

} // namespace

flow_part::flow_part(const std::string& path) : path_(path) {
  const index_reader r{path, /*verify=*/false, io::links::refuse}; // blocks are checked as read
  summary_ = r.summary();
  blocks_ = r.blocks();
  auto damaged = [&](const std::string& why) {
    return failure(errc::damaged_index, "damaged partial index " + path + ": " + why);
  };
  std::string flows, slots, meta;
  std::uint32_t next[3] = {0, 0, 0}; // chunks must come numbered from 0 without a gap
  r.for_each_entry([&](std::string_view key, std::string_view value) {
    std::string* to = nullptr;
    int which = 0;
    if (starts_with(key, part_flows_key))
      to = &flows, which = 0;
    else if (starts_with(key, part_ords_key))
      to = &ords_, which = 1;
    else if (starts_with(key, part_slots_key))
      to = &slots, which = 2;
    else if (key == part_meta_key)
      meta.assign(value);
    if (!to)
      return;
    if (get_be32(key, key.size() - 4) != next[which]++)
      throw damaged("a chunk is missing");
    to->append(value);
  });
  if (meta.size() != 12 || get_be32(meta, 0) != part_format_version)
    throw damaged("not a flow part of version " + std::to_string(part_format_version));
  const std::uint32_t nflows = get_be32(meta, 4), packets = get_be32(meta, 8);
  if (packets != summary_.packets)
    throw damaged("it counts " + std::to_string(packets) + " packets, its blocks " + std::to_string(summary_.packets));

  // Positions: strictly ascending, inside the part's blocks.
  std::uint32_t first_block = 0;
  while (first_block < blocks_.size() && blocks_[first_block].packets == 0)
    ++first_block;
  const std::uint64_t lo = std::uint64_t{first_block} * summary_.block_size;
  const std::uint64_t hi = std::uint64_t{summary_.blocks} * summary_.block_size;
  slots_.reserve(packets);
  std::size_t at = 0;
  std::uint64_t slot = 0;
  while (at < slots.size()) {
    std::uint32_t d;
    if (!next_varint(slots, at, d) || (!slots_.empty() && d == 0))
      throw damaged("malformed positions");
    slot = slots_.empty() ? d : slot + d;
    const std::uint64_t offset = slot << position_shift;
    if (offset < lo || offset >= hi)
      throw damaged("a position lies outside its blocks");
    slots_.push_back(static_cast<std::uint32_t>(slot));
  }
  if (slots_.size() != packets)
    throw damaged("it has " + std::to_string(slots_.size()) + " positions for " + std::to_string(packets) + " packets");

  // Records: checked once here, matched where they lie (records_).
  records_ = std::move(flows);
  if (records_.size() > 0xffffffffu)
    throw damaged("too many flow records");
  record_at_.reserve(nflows);
  std::uint64_t counted = 0;
  for (at = 0; at < records_.size();) {
    const std::size_t size = record_size(records_, at);
    const char* p = records_.data() + at;
    const auto n = get_le<std::uint32_t>(p + 8), ords_at = get_le<std::uint32_t>(p + 12),
               ords_size = get_le<std::uint32_t>(p + 16);
    if (size == 0 || n == 0 || std::uint64_t{ords_at} + ords_size > ords_.size())
      throw damaged("malformed flow record");
    counted += n;
    record_at_.push_back(static_cast<std::uint32_t>(at));
    at += size;
  }
  if (record_at_.size() != nflows || counted != packets)
    throw damaged("its flows do not add up to its packets");
}

part_flow flow_part::flow(std::size_t i) const { return decode(records_.data() + record_at_[i]); }

void flow_part::positions_of(std::size_t i, std::vector<std::uint32_t>& out) const {
  const char* r = records_.data() + record_at_[i];
  const auto packets = get_le<std::uint32_t>(r + 8), ords_at = get_le<std::uint32_t>(r + 12),
             ords_size = get_le<std::uint32_t>(r + 16);
  const std::string_view ords = std::string_view(ords_).substr(ords_at, ords_size);
  std::size_t at = 0;
  std::uint32_t ordinal = 0;
  for (std::uint32_t i = 0; i < packets; ++i) {
    std::uint32_t d;
    if (!next_varint(ords, at, d) || (i > 0 && d == 0) || (i > 0 && ordinal + std::uint64_t{d} > 0xffffffffull))
      throw failure(errc::damaged_index, "damaged partial index " + path_ + ": malformed ordinals");
    ordinal = i == 0 ? d : ordinal + d;
    if (ordinal >= slots_.size())
      throw failure(errc::damaged_index, "damaged partial index " + path_ + ": an ordinal past its packets");
    out.push_back(slots_[ordinal] << position_shift);
  }
}

// A query's key range is of one type ([from, to] of equal length, one type
// byte): the record's values of that type are compared as the keys would
// be, big-endian bytes, without making keys. Anything else: its keys made.
bool flow_part::record_matches(const char* r, std::string_view from, std::string_view to) const {
  if (from.empty() || from.size() != to.size() || from[0] != to[0]) {
    bool match = false;
    for_each_flow_key(decode(r), [&](const index_key& k) { match = match || (k.view() >= from && k.view() <= to); });
    return match;
  }
  const std::size_t w = from.size() - 1;
  const char *lo = from.data() + 1, *hi = to.data() + 1;
  // Values of up to 4 bytes as numbers (big-endian bytes compare as their
  // numbers do), IPv6 addresses as bytes.
  const auto number = [](const char* p, std::size_t n) {
    std::uint32_t x = 0;
    for (std::size_t i = 0; i < n; ++i)
      x = x << 8 | static_cast<std::uint8_t>(p[i]);
    return x;
  };
  const std::uint32_t lo_n = w <= 4 ? number(lo, w) : 0, hi_n = w <= 4 ? number(hi, w) : 0;
  const auto in = [&](std::uint32_t v) { return v >= lo_n && v <= hi_n; };
  const auto in16 = [&](const char* v) { return std::memcmp(v, lo, 16) >= 0 && std::memcmp(v, hi, 16) <= 0; };
  const auto flags = static_cast<std::uint8_t>(r[0]);
  const std::size_t addr = address_bytes(flags);
  switch (static_cast<key_type>(from[0])) {
  case key_type::ipv4:
    return w == 4 && (flags & flow_key::ipv4)
           && (in(__builtin_bswap32(get_le<std::uint32_t>(r + fixed_bytes)))
               || in(__builtin_bswap32(get_le<std::uint32_t>(r + fixed_bytes + 4))));
  case key_type::ipv6:
    return w == 16 && (flags & flow_key::ipv6) && (in16(r + fixed_bytes) || in16(r + fixed_bytes + 16));
  case key_type::protocol:
    return w == 1 && (flags & flow_key::has_protocol) && in(static_cast<std::uint8_t>(r[1]));
  case key_type::port:
    return w == 2 && (flags & flow_key::has_ports)
           && (in(get_le<std::uint16_t>(r + 4)) || in(get_le<std::uint16_t>(r + 6)));
  case key_type::vlan: {
    const char* v = r + fixed_bytes + 2 * addr;
    for (int i = 0; w == 2 && i < static_cast<std::uint8_t>(r[2]); ++i)
      if (in(get_le<std::uint16_t>(v + 2 * i)))
        return true;
    return false;
  }
  case key_type::mpls: {
    const char* m = r + fixed_bytes + 2 * addr + 2u * static_cast<std::uint8_t>(r[2]);
    for (int i = 0; w == 4 && i < static_cast<std::uint8_t>(r[3]); ++i)
      if (in(get_le<std::uint32_t>(m + 4 * i)))
        return true;
    return false;
  }
  default:
    return false;
  }
}

void flow_part::positions_with_key_in(std::string_view from, std::string_view to,
                                      std::vector<std::uint32_t>& out) const {
  const std::size_t begin = out.size();
  std::size_t matched = 0;
  for (std::size_t i = 0; i < record_at_.size(); ++i) {
    if (!record_matches(records_.data() + record_at_[i], from, to))
      continue;
    positions_of(i, out);
    ++matched;
  }
  if (matched > 1) // each flow's run ascends; distinct flows have distinct packets
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(begin), out.end());
}

} // namespace stenotype::index
