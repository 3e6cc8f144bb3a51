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

// Reads the flow record at `at` of `v`; false when it does not fit.
bool read_record(std::string_view v, std::size_t& at, part_flow& f) {
  constexpr std::size_t fixed = 4 + 4 + 12;
  if (v.size() - at < fixed)
    return false;
  const char* p = v.data() + at;
  f.flags = static_cast<std::uint8_t>(p[0]);
  f.protocol = static_cast<std::uint8_t>(p[1]);
  f.vlan_count = static_cast<std::uint8_t>(p[2]);
  f.mpls_count = static_cast<std::uint8_t>(p[3]);
  std::memcpy(&f.src_port, p + 4, 2);
  std::memcpy(&f.dst_port, p + 6, 2);
  std::memcpy(&f.packets, p + 8, 4);
  std::memcpy(&f.ords_at, p + 12, 4);
  std::memcpy(&f.ords_size, p + 16, 4);
  if (f.vlan_count > packet_attributes::max_tags || f.mpls_count > packet_attributes::max_tags
      || ((f.flags & flow_key::ipv4) && (f.flags & flow_key::ipv6)))
    return false;
  const std::size_t addr = (f.flags & flow_key::ipv4) ? 4 : (f.flags & flow_key::ipv6) ? 16 : 0;
  const std::size_t size = fixed + 2 * addr + 2u * f.vlan_count + 4u * f.mpls_count;
  if (v.size() - at < size)
    return false;
  p += fixed;
  std::memcpy(f.src, p, addr);
  std::memcpy(f.dst, p + addr, addr);
  p += 2 * addr;
  std::memcpy(f.vlans, p, 2u * f.vlan_count);
  std::memcpy(f.mpls, p + 2u * f.vlan_count, 4u * f.mpls_count);
  at += size;
  return true;
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

  flows_.reserve(nflows);
  std::uint64_t counted = 0;
  for (at = 0; at < flows.size();) {
    part_flow f;
    if (!read_record(flows, at, f) || std::uint64_t{f.ords_at} + f.ords_size > ords_.size() || f.packets == 0)
      throw damaged("malformed flow record");
    counted += f.packets;
    flows_.push_back(f);
  }
  if (flows_.size() != nflows || counted != packets)
    throw damaged("its flows do not add up to its packets");
}

void flow_part::positions_of(const part_flow& f, std::vector<std::uint32_t>& out) const {
  const std::string_view ords = std::string_view(ords_).substr(f.ords_at, f.ords_size);
  std::size_t at = 0;
  std::uint32_t ordinal = 0;
  for (std::uint32_t i = 0; i < f.packets; ++i) {
    std::uint32_t d;
    if (!next_varint(ords, at, d) || (i > 0 && d == 0) || (i > 0 && ordinal + std::uint64_t{d} > 0xffffffffull))
      throw failure(errc::damaged_index, "damaged partial index " + path_ + ": malformed ordinals");
    ordinal = i == 0 ? d : ordinal + d;
    if (ordinal >= slots_.size())
      throw failure(errc::damaged_index, "damaged partial index " + path_ + ": an ordinal past its packets");
    out.push_back(slots_[ordinal] << position_shift);
  }
}

void flow_part::positions_with_key_in(std::string_view from, std::string_view to,
                                      std::vector<std::uint32_t>& out) const {
  const std::size_t begin = out.size();
  std::size_t matched = 0;
  for (const part_flow& f : flows_) {
    bool match = false;
    for_each_flow_key(f, [&](const index_key& k) { match = match || (k.view() >= from && k.view() <= to); });
    if (!match)
      continue;
    positions_of(f, out);
    ++matched;
  }
  if (matched > 1) // each flow's run ascends; distinct flows have distinct packets
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(begin), out.end());
}

} // namespace stenotype::index
