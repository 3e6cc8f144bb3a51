// query/evaluate.hpp -- a query against one file: candidates from the index,
// then the exact test on each candidate packet.
//
// The index narrows the search to candidate packets: positions from key
// lookups, and whole blocks for time terms (a native index's block table says
// which blocks can hold packets of a time range; a stenographer index has no
// times, so there a time term takes every block). Set algebra on these (AND intersects,
// OR unites) gives a superset of the answer; every candidate packet is then
// parsed and the whole query evaluated on it, so time bounds hold per packet
// and the result never depends on how coarse the index is.
#pragma once

#include <cstdint>
#include <vector>

#include "index/file_index.hpp"
#include "index/packet_parser.hpp"
#include "query/query.hpp"

namespace stenotype::query {

/// Candidates in one packet file.
struct selection {
  std::vector<std::uint32_t> positions; ///< sorted, distinct packet positions
  std::vector<bool> blocks;             ///< blocks to scan whole (time terms)
  /// Every block is to be scanned whole (then `positions` and `blocks` say
  /// nothing more): a time term over an index without a block table.
  bool every_block = false;

  bool empty() const;
};

/// Candidates for `q` in the file indexed by `idx` (either format).
selection select(const node& q, const index::file_index& idx);

/// Everything: for files without a usable index (every block scanned).
selection select_all(std::uint32_t blocks);

/// The exact test on one packet (its parsed attributes and capture time).
bool matches(const node& q, const index::packet_attributes& attrs, std::uint64_t ts_ns);

/// The time range [lo, hi) outside which `q` matches nothing.
struct time_bounds {
  std::uint64_t lo = 0, hi = UINT64_MAX;
};
time_bounds bounds_of(const node& q);

} // namespace stenotype::query
