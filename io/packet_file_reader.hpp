// io/packet_file_reader.hpp -- reads a packet file (ours or Google
// stenotype's: the same raw TPACKET_V3 blocks) block by block with pread.
//
// Nothing inside a file is believed before it is checked, and no byte of a
// frame is ever taken for structure: the block size comes from what the
// writer recorded (choose_block_layout), never from looking for headers, and
// every block is checked (check_block) before its packets are handed out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/read_problem.hpp"
#include "io/regular_file.hpp"
#include "stenotype/block_format.hpp"

namespace stenotype::io {

/// Google stenotype's block size, the only one its files have.
inline constexpr std::size_t google_block_size = std::size_t{1} << 20;

/// Where a packet file's block size was taken from.
enum class block_size_source : std::uint8_t {
  index, ///< the index's file summary
  mark,  ///< the block mark of block 0
  flag,  ///< the reader's --blocksize_kb (files without a mark)
  fixed, ///< 1 MiB: a file without a mark (Google stenotype's, or ours from before marks)
};

/// How a packet file is cut into blocks.
struct block_layout {
  std::size_t block_size = google_block_size;
  block_size_source source = block_size_source::fixed;
  std::optional<block_mark> mark; ///< block 0's: every block must carry the same
  std::string index_rejected;     ///< why the index's block size was not used ("" if it was, or none given)
  std::string mark_rejected;      ///< why block 0's mark was not used ("" if it was, or there is none)
};

/// Decides the layout of a packet file from its first bytes `head` (at least
/// marked_first_packet bytes, fewer when the file is shorter):
///  1. `index_block_size` (the index summary's; 0: no index) when it is a
///     valid size and agrees with block 0's mark, if any;
///  2. else block 0's mark (kernel- or stenotype-written: block 0 starts at
///     byte 0, where no frame can be);
///  3. else `unmarked_block_size` (0: not given), else 1 MiB.
block_layout choose_block_layout(std::span<const std::uint8_t> head, std::uint32_t index_block_size,
                                 std::size_t unmarked_block_size);

/// One line for a problem report: "1024 KiB blocks (block mark)".
std::string describe(const block_layout& l);

/// The damaged blocks of one file, reported in one line.
class damage_tally {
public:
  void add(std::uint64_t block, std::uint64_t offset, const block_check& c);
  std::uint64_t blocks() const { return blocks_; }
  /// "F: 3 damaged block(s) ... (first: block 5 at byte 327680: ...)"
  std::string text(const std::string& path) const;

private:
  std::uint64_t blocks_ = 0, first_block_ = 0, first_offset_ = 0, lost_ = 0;
  block_fault first_ = block_fault::none;
};

/// "F ends N bytes into block B: the partial block is not read" (a file that
/// is not a whole number of blocks), or "" when it is (an empty file too:
/// idle periods give those).
std::string tail_problem(const std::string& path, std::uint64_t file_size, std::size_t block_size);

/// When the kernel (or the importer) opened block 0 of the packet file at
/// `path`: its header's first-packet time, in ns since the epoch. Its packets
/// are stamped at about that time or later, the file's other blocks later
/// still. Nothing when block 0 does not hold (an empty or damaged file) or
/// the file cannot be read.
std::optional<std::uint64_t> first_block_time_ns(const std::string& path, links l);

class packet_file_reader {
public:
  /// Opens `path` (a regular file; never waits on a FIFO) and decides its
  /// layout, with `unmarked_block_size` (0: 1 MiB) for a file without a block
  /// mark. Throws std::runtime_error naming the file.
  explicit packet_file_reader(const std::string& path, std::size_t unmarked_block_size = 0,
                              links l = links::follow);

  std::size_t block_size() const { return layout_.block_size; }
  const block_layout& layout() const { return layout_; }
  std::uint64_t file_size() const { return file_.size(); }

  /// Calls fn(packet, file offset of its header) for every packet of every
  /// block that holds, in file order. Blocks that do not (check_block) are
  /// skipped, but for the packets of a chain that do; a bad mark in block 0,
  /// a partial last block and the damaged blocks go to `report`, one line
  /// each. Throws std::runtime_error on a read error.
  void for_each_packet(const std::function<void(const packet_ref&, std::uint64_t)>& fn,
                       const problem_sink& report);

  /// Calls fn(block bytes, file offset) for every whole block, in order
  /// (unchecked; a partial last block is not visited). The span is valid
  /// during the call. Throws std::runtime_error on a read error.
  void for_each_block(const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& fn);

private:
  std::string path_;
  regular_file file_;
  block_layout layout_;
  std::vector<std::uint8_t> buf_;
};

} // namespace stenotype::io
