// query/read_plan.hpp -- which byte ranges of one packet file a query will
// read, decided before the first read, so that they can all be asked of the
// disk at once (it serves many random reads in parallel: a read waits for
// the disk's latency, 100 reads in flight wait for it about once).
//
// A file_stream reads a block whole (a block to scan, or one with many
// candidates) or its header and each candidate packet on its own
// (how_to_read). The plan lists those reads in file order, coalesces the
// ones closer than a random read costs in bandwidth (read_costs::merge_gap),
// and when what is left covers most of the span it lies in, reads the span
// sequentially instead (a scan). It never reaches past the file's whole
// blocks -- for a file still being written, its durable extent. The plan is
// only a prefetch: the stream's reads and checks are the same whatever it
// says, so the answer never depends on it.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "query/evaluate.hpp"

namespace stenotype::query {

/// The cost model. The defaults fit a disk of ~1 GB/s sequential and ~35k
/// random 4 KiB reads/s at depth (this project's benchmark VM): a random
/// read costs about as much as reading 32 KiB more in one go.
struct read_costs {
  /// More candidates than this in a block: the block is read whole (one
  /// large read beats many small ones).
  std::size_t whole_block_candidates = 32;
  /// Bytes read at a candidate position before its header says its length
  /// (a frame larger is read again, whole).
  std::size_t packet_bytes = 2048;
  /// Two reads closer than this are one read (the gap is read too).
  std::uint64_t merge_gap = 32 * 1024;
  /// When the coalesced reads cover at least this fraction of the span from
  /// the first to the last, the span is read sequentially (one range).
  double scan_fraction = 0.5;
  /// Bytes a stream asks for ahead of its reads: all of a selective file's
  /// reads at once, a scan's in a window (the disk stays busy while the
  /// packets before are matched and written, and the page cache is not
  /// flooded).
  std::uint64_t window_bytes = 32u << 20;
  /// The same for a file prepared ahead of the merge (it is not read yet).
  std::uint64_t first_window_bytes = 8u << 20;
  /// A scan longer than this past its first window, not in the page
  /// cache, is read with O_DIRECT (io/direct_reader.hpp), `direct_depth`
  /// blocks in flight: through the page cache the kernel's copies and
  /// reclaim cost most of the CPU (22 of 24 CPU-s per 10 GB export) and
  /// half the disk's rate. Its first `first_window_bytes` are still read
  /// buffered (warmed up ahead of the merge). Shorter scans stay buffered:
  /// the window asks for all of a small file at once, and the next files'
  /// first windows are read meanwhile, which a direct reader started per
  /// file does not match (24 MiB files: 1.3-1.6x slower measured).
  /// direct_depth 0: never.
  std::uint64_t direct_min_bytes = 64u << 20;
  unsigned direct_depth = 8;
};

/// How a block is read.
enum class block_read {
  none,    ///< no candidate
  packets, ///< its header, then each candidate packet
  whole,   ///< in one read
};
block_read how_to_read(bool scan_block, std::size_t candidates, const read_costs& c);

struct read_range {
  std::uint64_t offset = 0, length = 0;
  std::uint64_t end() const { return offset + length; }
  bool operator==(const read_range&) const = default;
};

struct read_plan {
  std::vector<read_range> ranges; ///< ascending, disjoint, none past blocks * block_size
  bool scan = false;              ///< read sequentially (the ranges are one span)
  std::uint64_t bytes = 0;        ///< the ranges' total
};

/// The reads of `sel` (positions sorted; blocks: the ones to scan whole) in
/// a file of `blocks` whole blocks of `block_size` bytes. Positions at or
/// past blocks * block_size are not read (past the file's end, or its
/// durable extent).
read_plan plan_reads(const selection& sel, std::uint32_t blocks, std::uint32_t block_size,
                     const read_costs& c = {});

/// Asks for a plan's ranges ahead of the reader, up to `window` bytes of
/// them past the offset it reads at, through `ask(offset, length)` (one call
/// per range or piece of one: posix_fadvise WILLNEED in file_stream).
class read_ahead {
public:
  read_ahead() = default;
  explicit read_ahead(read_plan plan);

  /// The reader is at `offset` (done with everything before): asks for more
  /// until `window` planned bytes past it are asked for, or the plan ends.
  template <class Ask> void advance(std::uint64_t offset, std::uint64_t window, Ask&& ask) {
    const std::uint64_t base = planned_before(offset);
    while (next_ < plan_.ranges.size()) {
      const read_range& r = plan_.ranges[next_];
      const std::uint64_t from = std::max(r.offset + next_at_, offset);
      if (from >= r.end()) { // passed by the reader
        ++next_;
        next_at_ = 0;
        continue;
      }
      const std::uint64_t ahead = before_[next_] + (from - r.offset) - base;
      if (ahead >= window)
        return;
      const std::uint64_t n = std::min({r.end() - from, window - ahead, piece});
      ask(from, n);
      next_at_ = from + n - r.offset;
      if (next_at_ >= r.length) {
        ++next_;
        next_at_ = 0;
      }
    }
  }

  const read_plan& plan() const { return plan_; }
  /// Planned bytes before `offset`.
  std::uint64_t planned_before(std::uint64_t offset) const;

private:
  // A long range is asked for in pieces, so that the window holds and the
  // reader's first block does not wait for the window's last.
  static constexpr std::uint64_t piece = 1u << 20;
  read_plan plan_;
  std::vector<std::uint64_t> before_; // planned bytes before each range
  std::size_t next_ = 0;              // the first range not wholly asked for
  std::uint64_t next_at_ = 0;         // how much of it is
};

} // namespace stenotype::query
