#include "query/evaluate.hpp"

#include <algorithm>
#include <iterator>

#include "index/keys.hpp"

namespace stenotype::query {
namespace {

using positions = std::vector<std::uint32_t>;

positions intersect(const positions& a, const positions& b) {
  positions out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

positions unite(const positions& a, const positions& b) {
  positions out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Positions that fall in one of `blocks`.
positions in_blocks(const positions& p, const std::vector<bool>& blocks, std::uint32_t block_size) {
  positions out;
  for (auto pos : p) {
    const std::size_t b = pos / block_size;
    if (b < blocks.size() && blocks[b])
      out.push_back(pos);
  }
  return out;
}

// Whether the packet has this exact key.
bool has_key(const std::string& key, const index::packet_attributes& a) {
  const auto* v = reinterpret_cast<const std::uint8_t*>(key.data()) + 1;
  auto u16 = [&] { return static_cast<std::uint16_t>(v[0] << 8 | v[1]); };
  auto u32 = [&] { return std::uint32_t{v[0]} << 24 | std::uint32_t{v[1]} << 16 | std::uint32_t{v[2]} << 8 | v[3]; };
  switch (static_cast<index::key_type>(key[0])) {
    case index::key_type::protocol: return a.has_protocol && a.protocol == v[0];
    case index::key_type::port: return a.has_ports && (a.src_port == u16() || a.dst_port == u16());
    case index::key_type::vlan:
      return std::find(a.vlans, a.vlans + a.vlan_count, u16()) != a.vlans + a.vlan_count;
    case index::key_type::mpls:
      return std::find(a.mpls, a.mpls + a.mpls_count, u32()) != a.mpls + a.mpls_count;
    case index::key_type::ipv4:
      return a.ip_version == 4 && (std::equal(v, v + 4, a.src_ip) || std::equal(v, v + 4, a.dst_ip));
    case index::key_type::ipv6:
      return a.ip_version == 6 && (std::equal(v, v + 16, a.src_ip) || std::equal(v, v + 16, a.dst_ip));
    default: return false;
  }
}

bool in_range(const node& n, const index::packet_attributes& a) {
  const bool v4 = n.key[0] == static_cast<char>(index::key_type::ipv4);
  if (a.ip_version != (v4 ? 4 : 6))
    return false;
  for (const std::uint8_t* addr : {a.src_ip, a.dst_ip}) {
    const auto k = v4 ? index::ipv4_key(addr) : index::ipv6_key(addr);
    if (k.view() >= n.key && k.view() <= n.key_last)
      return true;
  }
  return false;
}

} // namespace

bool selection::empty() const {
  return !every_block && positions.empty() && std::find(blocks.begin(), blocks.end(), true) == blocks.end();
}

selection select_all(std::uint32_t blocks) { return {{}, std::vector<bool>(blocks, true)}; }

namespace {

// Whether [first, last] is every key of its type ("net 0.0.0.0/0": the
// type byte, then all zeros to all ones). Its lookup would merge and sort
// every address's positions -- about every packet twice -- to say "every
// packet of that family"; the blocks are read whole instead, and the
// per-packet test keeps those of the family. The same answer, without the
// index's work (a fifth of an export's CPU).
bool whole_key_space(const std::string& first, const std::string& last) {
  if (first.size() != last.size() || first.size() < 2 || first[0] != last[0])
    return false;
  for (std::size_t i = 1; i < first.size(); ++i)
    if (first[i] != '\0' || last[i] != '\xff')
      return false;
  return true;
}

// The set algebra over a file's blocks, as `times` describes them (`bs`
// bytes each).
selection select_in(const node& q, const index::file_index& idx, const std::vector<index::block_times>& times,
                    std::uint32_t bs) {
  const auto nblocks = static_cast<std::uint32_t>(times.size());
  switch (q.k) {
    case node::kind::key: return {idx.lookup(q.key), std::vector<bool>(nblocks, false)};
    case node::kind::key_range:
      if (whole_key_space(q.key, q.key_last))
        return {{}, std::vector<bool>(nblocks, true)};
      return {idx.lookup_range(q.key, q.key_last), std::vector<bool>(nblocks, false)};
    case node::kind::before:
    case node::kind::after: {
      selection s{{}, std::vector<bool>(nblocks, false)};
      for (std::uint32_t i = 0; i < nblocks; ++i) {
        const auto& b = times[i];
        s.blocks[i] = b.packets > 0
                      && (q.k == node::kind::before ? b.first_ns < q.time_ns : b.last_ns >= q.time_ns);
      }
      return s;
    }
    case node::kind::op_and: {
      const selection l = select_in(*q.left, idx, times, bs);
      if (l.empty())
        return l;
      const selection r = select_in(*q.right, idx, times, bs);
      selection s;
      s.blocks.resize(nblocks);
      for (std::uint32_t i = 0; i < nblocks; ++i)
        s.blocks[i] = l.blocks[i] && r.blocks[i];
      s.positions = unite(unite(intersect(l.positions, r.positions), in_blocks(l.positions, r.blocks, bs)),
                          in_blocks(r.positions, l.blocks, bs));
      return s;
    }
    case node::kind::op_or: {
      const selection l = select_in(*q.left, idx, times, bs), r = select_in(*q.right, idx, times, bs);
      selection s;
      s.blocks.resize(nblocks);
      for (std::uint32_t i = 0; i < nblocks; ++i)
        s.blocks[i] = l.blocks[i] || r.blocks[i];
      s.positions = unite(l.positions, r.positions);
      return s;
    }
  }
  return {};
}

} // namespace

selection select(const node& q, const index::file_index& idx) {
  if (const auto* times = idx.blocks())
    return select_in(q, idx, *times, idx.summary()->block_size);
  // A stenographer index knows no times and no blocks: the whole file is one
  // block of every time, holding every position. A time term then takes it
  // whole, and the per-packet test does the rest.
  static const std::vector<index::block_times> whole_file{{0, UINT64_MAX, 1}};
  selection s = select_in(q, idx, whole_file, UINT32_MAX);
  if (s.blocks[0])
    return {{}, {}, true};
  s.blocks.clear();
  return s;
}

bool matches(const node& q, const index::packet_attributes& a, std::uint64_t ts) {
  switch (q.k) {
    case node::kind::key: return has_key(q.key, a);
    case node::kind::key_range: return in_range(q, a);
    case node::kind::before: return ts < q.time_ns;
    case node::kind::after: return ts >= q.time_ns;
    case node::kind::op_and: return matches(*q.left, a, ts) && matches(*q.right, a, ts);
    case node::kind::op_or: return matches(*q.left, a, ts) || matches(*q.right, a, ts);
  }
  return false;
}

time_bounds bounds_of(const node& q) {
  switch (q.k) {
    case node::kind::before: return {0, q.time_ns};
    case node::kind::after: return {q.time_ns, UINT64_MAX};
    case node::kind::op_and: {
      auto l = bounds_of(*q.left), r = bounds_of(*q.right);
      return {std::max(l.lo, r.lo), std::min(l.hi, r.hi)};
    }
    case node::kind::op_or: {
      auto l = bounds_of(*q.left), r = bounds_of(*q.right);
      return {std::min(l.lo, r.lo), std::max(l.hi, r.hi)};
    }
    default: return {};
  }
}

} // namespace stenotype::query
