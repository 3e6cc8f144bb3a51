// index/part_writer.cpp -- index_builder::for_each_part_entry: the current
// part as the records of index/flow_part.hpp.
//
// Everything here is a copy of what the builder holds: the touched flows'
// keys, their ordinals since the part began (decoded from where the flow's
// mark says its list stood, rebased to the part), and the part's positions.
// Per packet that is two varints; no sorting, no per-key work.
#include <algorithm>
#include <cstring>

#include "index/flow_part.hpp"
#include "index/index_builder.hpp"

namespace stenotype::index {
namespace {

// Room is made by the caller (at most 5 bytes per varint).
char* put_varint(char* p, std::uint32_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

template <class T>
char* put_le(char* p, T v) {
  std::memcpy(p, &v, sizeof v); // the parts are read on this machine (x86-64, arm64: little-endian)
  return p + sizeof v;
}

void put_be32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>(v >> (24 - 8 * i));
}

// `bytes` as chunks under keys prefix + n.
void emit_chunks(const std::function<void(std::string_view, std::string_view)>& fn, std::string_view prefix,
                 const std::vector<char>& bytes, std::size_t size) {
  std::uint32_t n = 0;
  for (std::size_t at = 0; at < size; at += part_chunk_bytes, ++n)
    fn(part_chunk_key(prefix, n).view(),
       std::string_view(bytes.data() + at, std::min(part_chunk_bytes, size - at)));
}

} // namespace

index_key part_chunk_key(std::string_view prefix, std::uint32_t n) {
  index_key k;
  std::memcpy(k.bytes, prefix.data(), prefix.size());
  put_be32(reinterpret_cast<char*>(k.bytes) + prefix.size(), n);
  k.size = static_cast<std::uint8_t>(prefix.size() + 4);
  return k;
}

void index_builder::for_each_part_entry(const std::function<void(std::string_view, std::string_view)>& fn) const {
  emit_meta(fn, true);
  auto& ps = part_scratch_;
  const auto total = static_cast<std::uint32_t>(slots_.size());
  const std::uint32_t packets = total - part_first_ord_;

  // IPv6 flows hold their addresses by key id: the ids' addresses, by id.
  ps.ipv6.clear();
  if (ipv6_ids_.size() > 0) {
    ipv6_ids_.for_each([&](const std::array<std::uint8_t, 16>& a, std::uint32_t id) { ps.ipv6.emplace_back(id, a); });
    std::sort(ps.ipv6.begin(), ps.ipv6.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  auto ipv6_of = [&](std::uint32_t id) -> const std::uint8_t* {
    const auto it = std::lower_bound(ps.ipv6.begin(), ps.ipv6.end(), id,
                                     [](const auto& e, std::uint32_t x) { return e.first < x; });
    static const std::uint8_t none[16] = {};
    return it != ps.ipv6.end() && it->first == id ? it->second.data() : none;
  };

  // Flow records and their ordinals. A flow's ordinals are at most 5 bytes
  // each; its record at most 16 + 32 + 8 * 6 bytes.
  constexpr std::size_t max_record = 16 + 32 + packet_attributes::max_tags * 6;
  ps.flows.resize(std::max(ps.flows.size(), touched_.size() * max_record));
  ps.ords.resize(std::max<std::size_t>(ps.ords.size(), std::size_t{packets} * 5));
  char* fp = ps.flows.data();
  char* op = ps.ords.data();
  for (const part_mark& m : touched_) {
    const flow_record& f = flows_[m.flow];
    const flow_key& k = f.key;
    const tag_stack* t = k.tags ? &tag_stacks_[k.tags - 1] : nullptr;
    char* const ords_begin = op;
    std::uint32_t n = 0, prev = 0;
    for_each_ordinal_from(f, m.chunk, m.at, m.prev, m.new_flow, [&](std::uint32_t o) {
      const std::uint32_t rel = o - part_first_ord_;
      op = put_varint(op, n++ == 0 ? rel : rel - prev);
      prev = rel;
    });
    const std::uint8_t flags = k.flags;
    fp = put_le<std::uint8_t>(fp, flags);
    fp = put_le<std::uint8_t>(fp, k.protocol);
    fp = put_le<std::uint8_t>(fp, t ? t->vlan_count : 0);
    fp = put_le<std::uint8_t>(fp, t ? t->mpls_count : 0);
    fp = put_le<std::uint16_t>(fp, k.src_port);
    fp = put_le<std::uint16_t>(fp, k.dst_port);
    fp = put_le<std::uint32_t>(fp, n);
    fp = put_le<std::uint32_t>(fp, static_cast<std::uint32_t>(ords_begin - ps.ords.data()));
    fp = put_le<std::uint32_t>(fp, static_cast<std::uint32_t>(op - ords_begin));
    if (flags & flow_key::ipv4) {
      std::memcpy(fp, &k.src, 4);
      std::memcpy(fp + 4, &k.dst, 4);
      fp += 8;
    } else if (flags & flow_key::ipv6) {
      std::memcpy(fp, ipv6_of(k.src), 16);
      std::memcpy(fp + 16, ipv6_of(k.dst), 16);
      fp += 32;
    }
    if (t) {
      for (int i = 0; i < t->vlan_count; ++i)
        fp = put_le<std::uint16_t>(fp, t->vlans[i]);
      for (int i = 0; i < t->mpls_count; ++i)
        fp = put_le<std::uint32_t>(fp, t->mpls[i]);
    }
  }

  // The part's positions, in ordinal order (they ascend).
  ps.slots.resize(std::max<std::size_t>(ps.slots.size(), std::size_t{packets} * 5));
  char* sp = ps.slots.data();
  std::uint32_t last = 0;
  for (std::uint32_t o = part_first_ord_; o < total; ++o) {
    const std::uint32_t s = slots_[o];
    sp = put_varint(sp, o == part_first_ord_ ? s : s - last);
    last = s;
  }

  emit_chunks(fn, part_flows_key, ps.flows, static_cast<std::size_t>(fp - ps.flows.data()));
  emit_chunks(fn, part_ords_key, ps.ords, static_cast<std::size_t>(op - ps.ords.data()));
  char meta[12];
  put_be32(meta, part_format_version);
  put_be32(meta + 4, static_cast<std::uint32_t>(touched_.size()));
  put_be32(meta + 8, packets);
  fn(part_meta_key, std::string_view(meta, sizeof meta));
  emit_chunks(fn, part_slots_key, ps.slots, static_cast<std::size_t>(sp - ps.slots.data()));
}

} // namespace stenotype::index
