// index/flow_part.hpp -- one partial index of the open packet file: its
// format and its reader.
//
// A part must cost the capture next to nothing: it is written every second
// while queries for the open file are rare. So it holds what the builder
// already has, copied out -- the flows that got packets in the part, each
// with its packets' ordinals, and the part's packets' positions -- and no
// key -> positions lists (making those is the index's main cost, done once
// for the full index at close). A reader matches the query's keys against
// each flow's keys (every packet of a flow has the same keys) and turns the
// matching flows' ordinals into positions.
//
// The part is a RocksDB SST (checksummed blocks, index/index_file.hpp) with
// the native index's metadata records ("\0", "\0blocks", "\0file": its own
// blocks only, earlier blocks empty) and these, in key order:
//   "\0flows" + be32 n  chunks of the flow records (concatenated in n order)
//   "\0ords"  + be32 n  chunks of the flows' ordinal lists
//   "\0part"            be32 part_format_version, be32 flows, be32 packets
//   "\0slots" + be32 n  chunks of the packets' positions/8, varint deltas
//                       (the first absolute), in ordinal order
// A flow record (little-endian): u8 flags (flow_key's ipv4/ipv6/has_protocol/
// has_ports), u8 protocol, u8 vlan count, u8 MPLS label count, u16 source and
// destination port, u32 packets, u32 offset and u32 length of its ordinals
// in the ordinal stream, then the addresses (4 + 4 or 16 + 16 bytes, network
// order), the VLAN ids (u16 each) and MPLS labels (u32 each). Ordinals are
// numbers of the part's packets from 0, varint deltas, the first absolute.
// docs/FILE_FORMAT.md describes the same.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "index/index_builder.hpp"
#include "index/keys.hpp"

namespace stenotype::index {

inline constexpr std::uint32_t part_format_version = 1;
inline constexpr std::string_view part_flows_key{"\0flows", 6};
inline constexpr std::string_view part_ords_key{"\0ords", 5};
inline constexpr std::string_view part_meta_key{"\0part", 5};
inline constexpr std::string_view part_slots_key{"\0slots", 6};
/// Values are cut into chunks of at most this many bytes (one SST block each).
inline constexpr std::size_t part_chunk_bytes = 256 * 1024;

/// A chunk's key: `prefix` + its number, big-endian (so that they sort).
index_key part_chunk_key(std::string_view prefix, std::uint32_t n);

/// One flow of a part, decoded.
struct part_flow {
  std::uint8_t flags = 0, protocol = 0, vlan_count = 0, mpls_count = 0;
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t packets = 0, ords_at = 0, ords_size = 0;
  std::uint8_t src[16] = {}, dst[16] = {};
  std::uint16_t vlans[packet_attributes::max_tags] = {};
  std::uint32_t mpls[packet_attributes::max_tags] = {};
};

/// Calls fn(key) for each index key of the flow's packets (a key may come twice).
template <class F>
void for_each_flow_key(const part_flow& f, F&& fn);

class flow_part {
public:
  /// Reads the part at `path` (a regular file, never a link). Throws a
  /// failure (damaged_index, one line naming it) when it is unreadable, not
  /// a flow part of this version, or inconsistent (records or ordinals out
  /// of bounds, positions outside its blocks); not_found when it is gone.
  explicit flow_part(const std::string& path);

  const file_summary& summary() const { return summary_; }
  const std::vector<block_times>& blocks() const { return blocks_; }

  /// The part's flows: how many, and flow `i` decoded.
  std::size_t flows() const { return record_at_.size(); }
  part_flow flow(std::size_t i) const;

  /// Appends to `out` the file offsets of the part's packets that have a key
  /// in [from, to], ascending. A query's key range is of one key type: the
  /// records are then matched where they lie, no flow decoded.
  void positions_with_key_in(std::string_view from, std::string_view to, std::vector<std::uint32_t>& out) const;
  /// Appends the file offsets of flow `i`'s packets, ascending.
  void positions_of(std::size_t i, std::vector<std::uint32_t>& out) const;

private:
  bool record_matches(const char* r, std::string_view from, std::string_view to) const;

  std::string path_;
  file_summary summary_;
  std::vector<block_times> blocks_;
  std::string records_;                 // the flow records as written
  std::vector<std::uint32_t> record_at_; // flow -> its record's offset in records_ (checked)
  std::string ords_;
  std::vector<std::uint32_t> slots_; // ordinal -> position/8
};

template <class F>
void for_each_flow_key(const part_flow& f, F&& fn) {
  for (int i = 0; i < f.vlan_count; ++i)
    fn(vlan_key(f.vlans[i]));
  for (int i = 0; i < f.mpls_count; ++i)
    fn(mpls_key(f.mpls[i]));
  if (f.flags & flow_key::ipv4) {
    fn(ipv4_key(f.src));
    fn(ipv4_key(f.dst));
  } else if (f.flags & flow_key::ipv6) {
    fn(ipv6_key(f.src));
    fn(ipv6_key(f.dst));
  }
  if (f.flags & flow_key::has_protocol)
    fn(protocol_key(f.protocol));
  if (f.flags & flow_key::has_ports) {
    fn(port_key(f.src_port));
    fn(port_key(f.dst_port));
  }
}

} // namespace stenotype::index
