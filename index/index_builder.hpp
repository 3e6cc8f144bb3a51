// index/index_builder.hpp -- the attribute -> positions map of one packet
// file while it is being captured, kept small.
//
// Stenotype kept a std::map of std::vector<uint32_t>: 4 bytes per position
// plus vector slack, ~28-40 bytes per packet in memory. Here each key's
// positions are appended, already in their on-disk encoding (varint deltas of
// position/8, see docs/FILE_FORMAT.md), to a chain of 64-byte chunks from a
// paged arena: no per-key vector, no slack beyond one partly filled chunk per
// key, and finishing a file needs no re-encoding, only a sort of the keys.
// Keys are found through direct tables (protocol, port, VLAN) or flat hash
// tables (addresses, labels).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/flat_table.hpp"
#include "index/keys.hpp"
#include "index/packet_parser.hpp"

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

class index_builder {
public:
  explicit index_builder(std::uint32_t block_size);

  /// Forgets everything: ready for the next file.
  void reset();

  /// Records one packet. `position` is its header's file offset (a multiple
  /// of 8; packets must come in increasing position order), `ts_ns` its
  /// capture time, `block` the index of its block in the file.
  void add(std::uint64_t position, std::uint32_t block, std::uint64_t ts_ns,
           const packet_attributes& attrs);

  /// Notes that the file has at least `count` blocks (also empty ones).
  void note_blocks(std::uint32_t count);

  /// Calls fn(key, value) for every key in ascending key order, metadata
  /// keys first; values are the on-disk encodings.
  void for_each_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;

  // Partial indexes of the open file (fresh queries, docs/FILE_FORMAT.md):
  // a "part" holds what was added since the previous part -- whole blocks,
  // [part_first_block(), blocks()) -- as a native index of its own. Keys
  // touched since the last part are noted on the way (one compare per key
  // and packet, in the tail the append touches anyway), so a part costs
  // time in its keys and packets, not in the file's.

  /// The first block of the part being gathered, and the file's block count.
  std::uint32_t part_first_block() const { return part_first_; }
  std::uint32_t blocks() const { return summary_.blocks; }

  /// Calls fn(key, value) in ascending key order for the current part: the
  /// metadata as for_each_entry, but counting only the part's packets and
  /// with an empty (0-packet) block table entry for each earlier block, so
  /// that the part reads as a native index by itself; then each key's
  /// positions added since the last start_part().
  void for_each_part_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;

  /// Begins the next part at the current end of the file.
  void start_part();

  const file_summary& summary() const { return summary_; }
  std::size_t keys() const { return tails_.size(); }
  /// Bytes held now (tables, arena, per-key state): the indexer's memory cost.
  std::size_t memory_bytes() const;

private:
  static constexpr std::size_t chunk_bytes = 60;
  struct chunk {
    std::uint8_t data[chunk_bytes];
    std::uint32_t next;
  };
  static_assert(sizeof(chunk) == 64); // a cache line; 6% link overhead
  static constexpr std::size_t chunks_per_page = 1 << 14; // 1 MiB pages

  // A key's posting list, split by use: the tail is touched for every
  // packet with the key, the head only when the key is new and at the end.
  // Keeping the tails in an array of their own (12 bytes each) keeps the
  // per-packet working set small enough for the core's cache.
  struct posting_tail {
    std::uint32_t tail = 0;     // chunk number being filled
    std::uint32_t last = 0;     // last position >> 3, for deltas and duplicates
    std::uint8_t tail_used = 0;
    bool empty = true;
    std::uint16_t part = 0;     // part_ when last appended to (fits the padding)
  };
  static_assert(sizeof(posting_tail) == 12);
  // Where a key's positions of the current part begin: the encoding point
  // and the value its first delta is relative to.
  struct part_start {
    std::uint32_t chunk = 0;
    std::uint8_t used = 0;
    bool absolute = true; // the key was new: its first value is not a delta
    std::uint32_t base = 0;
  };
  struct posting_head {
    index_key key;
    std::uint32_t head = 0;     // first chunk number
  };

  std::uint32_t new_chunk();
  chunk& chunk_at(std::uint32_t n) { return pages_[n / chunks_per_page][n % chunks_per_page]; }
  const chunk& chunk_at(std::uint32_t n) const { return pages_[n / chunks_per_page][n % chunks_per_page]; }
  void append(std::uint32_t id, std::uint32_t slot);
  std::uint32_t id_for(const index_key& k, std::uint32_t& slot); // slot: 0 = unseen
  template <class Table, class Key>
  std::uint32_t id_in(Table& t, const Key& value, const index_key& k);
  std::uint32_t id_direct(std::vector<std::uint32_t>& table, std::size_t i, const index_key& k);

  std::uint32_t block_size_;
  std::vector<posting_tail> tails_; // id - 1 -> list
  std::vector<posting_head> heads_; // id - 1 -> list
  std::uint32_t new_list(const index_key& k); // returns its id
  std::vector<std::uint32_t> protocol_ids_, port_ids_, vlan_ids_;
  flat_table<std::uint32_t> ipv4_ids_, mpls_ids_;
  flat_table<std::array<std::uint8_t, 16>> ipv6_ids_;
  std::vector<std::unique_ptr<chunk[]>> pages_;
  std::uint32_t chunks_used_ = 1; // chunk 0 is "none"
  std::vector<block_times> blocks_;
  file_summary summary_;
  void enter_part(std::uint32_t id, posting_tail& pl);
  std::uint16_t part_ = 1;                 // current part's number (mod 2^16, never 0)
  std::uint32_t part_first_ = 0;           // its first block
  std::vector<part_start> part_starts_;    // id - 1 -> where its part begins
  std::vector<std::uint32_t> part_keys_;   // ids touched in the current part
};

} // namespace stenotype::index
