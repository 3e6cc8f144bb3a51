// index/index_builder.hpp -- the attribute -> positions map of one packet
// file while it is being captured, kept small and cheap per packet.
//
// Packets are mapped to their flow (index/flows.hpp: addresses, protocol,
// ports, VLAN/MPLS stack) through one hash lookup (index/flow_table.hpp);
// the flow's list gets the packet's ordinal (its number in the builder) as
// a varint delta in a chain of 32-byte chunks, and an ordinal -> position
// table gets its position. A flow's keys are looked up once, when the flow is
// new. The key -> positions lists of the on-disk format (varint deltas of
// position/8, docs/FILE_FORMAT.md) are made from the flows' lists when the
// index or a part is written: a key of one flow is its flow's list, a key
// of many the positions of its flows merged: a dense key (many packets) in
// one pass over the packets shared by all dense keys, a sparse one by a sort.
//
// Parts (fresh queries, index/flow_part.hpp): with parts enabled, the
// builder notes each flow the first time it gets a packet after the last
// part (where its list stood then: a 16-byte mark, no per-flow field), and a
// part is those flows with their new ordinals plus the new packets'
// positions -- copied out, not worked into keys. Readers match the query
// against a part's flows; the key -> positions work is done once, for the
// full index at close, from the builder as without parts.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/flat_table.hpp"
#include "index/flow_table.hpp"
#include "index/flows.hpp"
#include "index/keys.hpp"
#include "index/packet_parser.hpp"
#include "index/paged_array.hpp"

namespace stenotype::index {

/// Time range and packet count of one block of the packet file.
struct block_times {
  std::uint64_t first_ns = 0, last_ns = 0;
  std::uint32_t packets = 0;
};

struct file_summary {
  std::uint64_t packets = 0;
  std::uint64_t first_ns = 0, last_ns = 0; ///< 0 when there are no packets
  std::uint32_t blocks = 0;
  std::uint32_t block_size = 0;
};

/// One packet for index_builder::add.
struct packet_entry {
  std::uint64_t position = 0; ///< its header's file offset, a multiple of 8
  std::uint64_t ts_ns = 0;
  std::uint32_t block = 0;    ///< its block's number in the file
  packet_attributes attrs;
};

class index_builder {
public:
  explicit index_builder(std::uint32_t block_size);

  /// Forgets everything: ready for the next file.
  void reset();

  /// Records one packet. `position` is its header's file offset (a multiple
  /// of 8; packets must come in increasing position order: one that does
  /// not is ignored), `ts_ns` its capture time, `block` the index of its
  /// block in the file.
  void add(std::uint64_t position, std::uint32_t block, std::uint64_t ts_ns,
           const packet_attributes& attrs);
  /// The same for `n` packets at once (faster: their flow lookups overlap).
  void add(const packet_entry* packets, std::size_t n);

  /// Notes that the file has at least `count` blocks (also empty ones).
  void note_blocks(std::uint32_t count);

  /// Calls fn(key, value) for every key in ascending key order, metadata
  /// keys first; values are the on-disk encodings: the full index.
  void for_each_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;

  /// Parts: from now on (until reset(), which keeps this) the builder marks
  /// the flows each part touches. Off, add() does not spend a compare on it.
  void enable_parts() { parts_enabled_ = true; }
  /// The first block of the part being gathered, and the file's block count.
  std::uint32_t part_first_block() const { return part_first_; }
  std::uint32_t blocks() const { return summary_.blocks; }

  /// Calls fn(key, value) in ascending key order for the current part (the
  /// blocks since the last start_part(); parts enabled): the metadata as
  /// for_each_entry, but counting only the part's packets and with an empty
  /// (0-packet) block table entry for each earlier block, so that its summary
  /// reads as a native index's; then the part's flows, ordinals and
  /// positions (index/flow_part.hpp has the layout and the reader).
  void for_each_part_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;

  /// Begins the next part at the current end of the file.
  void start_part();

  const file_summary& summary() const { return summary_; }
  /// Distinct keys and flows of the file so far.
  std::size_t keys() const { return key_count_; }
  std::size_t flows() const { return flows_.size(); }
  /// Bytes held now (tables, lists, per-flow and per-key state, the part's
  /// marks and the working memory of the last write, kept for the next
  /// part): the indexer's memory cost.
  std::size_t memory_bytes() const;

private:
  static constexpr std::size_t chunk_bytes = 28;
  struct chunk {
    std::uint8_t data[chunk_bytes];
    std::uint32_t next;
  };
  static_assert(sizeof(chunk) == 32);

  // An interned VLAN/MPLS stack (most packets have none: id 0).
  struct tag_stack {
    std::uint8_t vlan_count = 0, mpls_count = 0;
    std::uint16_t vlans[packet_attributes::max_tags] = {};
    std::uint32_t mpls[packet_attributes::max_tags] = {};
  };

  void clear_flows();
  /// Makes `k` for a packet; returns hash_flow(k).
  std::uint32_t make_flow_key(const packet_attributes& a, flow_key& k);
  void add_one(const packet_entry& p, const flow_key& key, std::uint32_t hash);
  std::uint32_t new_flow(const flow_key& key);
  static constexpr int max_flow_keys = 2 * packet_attributes::max_tags + 5;
  int flow_key_ids(const flow_key& key, std::uint32_t* out) const; // ids - 1, each once
  std::uint32_t new_key();
  std::uint32_t id_direct(std::vector<std::uint32_t>& table, std::size_t i);
  template <class Table, class Key>
  std::uint32_t id_in(Table& t, const Key& value);
  std::uint32_t new_chunk();
  void append(flow_record& f, std::uint32_t ordinal);
  void for_each_key_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;
  // Calls fn(ordinal) for f's ordinals from byte `at` of chunk `c` on; the
  // varint there is a delta from `ordinal`, or absolute when `first`.
  template <class F>
  void for_each_ordinal_from(const flow_record& f, std::uint32_t c, std::size_t at, std::uint32_t ordinal,
                             bool first, F&& fn) const;
  template <class F>
  void for_each_ordinal(const flow_record& f, F&& fn) const { for_each_ordinal_from(f, f.head, 0, 0, true, fn); }
  void emit_meta(const std::function<void(std::string_view, std::string_view)>& fn, bool part) const;

  std::uint32_t block_size_;
  std::vector<block_times> blocks_;
  file_summary summary_;
  std::uint64_t last_slot_ = 0; // of the last packet added (+1; 0: none)

  paged_array<std::uint32_t, 14> slots_; // ordinal -> position/8

  flow_table table_;
  paged_array<flow_record, 12> flows_;
  paged_array<chunk, 14> chunks_; // chunk 0 is "none"

  // Key ids (from 1) by value; a key's bytes are made from its value when written.
  std::uint32_t key_count_ = 0;
  std::vector<std::uint32_t> protocol_ids_, port_ids_, vlan_ids_;
  flat_table<std::uint32_t> ipv4_ids_, mpls_ids_;
  flat_table<std::array<std::uint8_t, 16>> ipv6_ids_;
  flat_table<tag_stack> tag_ids_;
  std::vector<tag_stack> tag_stacks_; // id - 1 -> stack

  // Working memory of for_each_key_entry (freed by reset()).
  struct scratch {
    std::vector<std::uint32_t> flow_at, ords, fslots, start, members, fill, gathered;
    std::vector<std::uint32_t> fk_at, fk, flow_of, dense_last; // the dense keys' pass
    struct dense_list {
      std::vector<char> bytes; // room; the list is its first `used`
      std::size_t used = 0;
    };
    std::vector<dense_list> dense_values;
    std::vector<std::uint64_t> bitmap;
    std::vector<std::uint64_t> dense_candidates;
    std::size_t memory_bytes() const {
      std::size_t values = dense_values.capacity() * sizeof(dense_list);
      for (const auto& v : dense_values)
        values += v.bytes.capacity();
      return (flow_at.capacity() + ords.capacity() + fslots.capacity() + start.capacity() + members.capacity() + fill.capacity()
              + gathered.capacity() + fk_at.capacity() + fk.capacity() + flow_of.capacity() + dense_last.capacity()) * 4
             + (bitmap.capacity() + dense_candidates.capacity()) * 8 + values;
    }
  };
  mutable scratch scratch_;

  // Parts: where each flow touched since the last part stood before it.
  struct part_mark {
    std::uint32_t flow, chunk;
    std::uint32_t prev;  ///< its last ordinal before the part (unless new_flow)
    std::uint8_t at;     ///< bytes used in `chunk` then
    bool new_flow;       ///< its list starts in this part
  };
  bool parts_enabled_ = false;
  std::uint32_t part_first_ = 0;     // first block of the current part
  std::uint32_t part_first_ord_ = 0; // first ordinal of the current part
  std::vector<part_mark> touched_;
  struct part_scratch {
    std::vector<char> flows, ords, slots;
    std::vector<std::pair<std::uint32_t, std::array<std::uint8_t, 16>>> ipv6; // key id -> address
    std::size_t memory_bytes() const {
      return flows.capacity() + ords.capacity() + slots.capacity() + ipv6.capacity() * 20;
    }
  };
  mutable part_scratch part_scratch_;
};

// (Here, not in the .cpp: index/part_writer.cpp decodes ordinals too.)
template <class F>
inline void index_builder::for_each_ordinal_from(const flow_record& f, std::uint32_t c, std::size_t at, std::uint32_t ordinal,
                                          bool first, F&& fn) const {
  std::uint32_t v = 0;
  int shift = 0;
  for (;;) {
    const chunk& ch = chunks_[c];
    const std::size_t used = c == f.tail ? f.tail_used : chunk_bytes;
    for (std::size_t i = at; i < used; ++i) {
      const std::uint8_t b = ch.data[i];
      v |= std::uint32_t{b & 0x7fu} << shift;
      if (b & 0x80) {
        shift += 7;
        continue;
      }
      ordinal = first ? v : ordinal + v;
      first = false;
      fn(ordinal);
      v = 0;
      shift = 0;
    }
    if (c == f.tail)
      return;
    c = ch.next;
    at = 0;
  }
}

} // namespace stenotype::index
