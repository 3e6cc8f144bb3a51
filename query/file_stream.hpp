// query/file_stream.hpp -- the matching packets of one packet file, in file
// order, reading only candidate blocks and packets.
//
// The file is cut into blocks by what its writer recorded (its index's
// summary, else its block mark, else 1 MiB: io::choose_block_layout), never
// by looking for headers. Every block read is checked before a packet of it
// is believed; whatever the index promises and the file cannot deliver is
// reported, never silently left out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/direct_reader.hpp"
#include "io/packet_file_reader.hpp"
#include "io/read_problem.hpp"
#include "io/regular_file.hpp"
#include "stenotype/block_format.hpp"
#include "query/evaluate.hpp"
#include "query/read_plan.hpp"

namespace stenotype::query {

/// How much of a file may be read, and how far its index reaches, when the
/// file is still being written (fresh queries): only its durable extent, and
/// an index made of parts (index/part_set.hpp) that covers a prefix of it.
struct stream_limits {
  /// The durable extent (io/durable_extent.hpp): nothing past it is read;
  /// the file's size (preallocated ahead) says nothing then. Index
  /// positions past it are not yet readable, not lost: left out silently.
  std::uint64_t readable_bytes = UINT64_MAX;
  /// The index is partial by design: blocks past it are read whole without
  /// a report (they are at most about a second of traffic).
  bool partial_index = false;
  /// How its reads are planned and asked for ahead (query/read_plan.hpp).
  read_costs costs;
  bool growing() const { return readable_bytes != UINT64_MAX; }
};

class file_stream {
public:
  /// Opens `path` (a regular file and no link: names in a data directory are
  /// ours) and decides its layout. `summary`: its index's (nullptr: no usable
  /// index, or one without a summary: a stenographer index); `candidates`:
  /// from that index (nullopt or every_block: every packet). An index
  /// that does not fit the file (another block size than the file's mark) is
  /// set aside and every packet becomes a candidate. Problems go to `report`:
  /// those of the file as a whole now, damage found while reading once, when
  /// the stream ends. Throws std::runtime_error naming the file when it
  /// cannot be opened.
  file_stream(const std::string& path, const index::file_summary* summary,
              std::optional<selection> candidates, node_ptr q, io::problem_sink report,
              stream_limits limits = {});
  file_stream(const file_stream&) = delete;
  file_stream& operator=(const file_stream&) = delete;

  /// Moves to the next matching packet; false at the end of the file. The
  /// previous packet's bytes are invalid afterwards.
  bool next();
  const io::packet_ref& current() const { return ready_[ready_pos_]; }
  std::uint64_t current_ts_ns() const {
    return std::uint64_t{current().sec} * 1000000000u + current().nsec;
  }
  const std::string& path() const { return path_; }
  const io::block_layout& layout() const { return layout_; }
  /// What it reads (planned when opened).
  const read_plan& plan() const { return ahead_.plan(); }
  /// Whether its scan is read with O_DIRECT now (from its first block
  /// read; false again if the direct reads failed and the rest was read
  /// buffered).
  bool reads_direct() const { return direct_ != nullptr; }
  /// The span it would read with O_DIRECT (empty: none).
  read_range direct_span() const { return {direct_begin_, direct_end_ - direct_begin_}; }

private:
  void check_against_index(const index::file_summary& s);
  void load_block(std::uint32_t b); // fills ready_ with block b's matches
  void load_whole_block(std::uint32_t b, std::size_t first);
  void load_packets(std::uint32_t b, std::size_t first);
  bool read_at(std::uint64_t offset, std::uint8_t* into, std::size_t n);
  void consider(const io::packet_ref& p, bool copy);
  void prefetch(std::uint64_t offset, std::uint64_t window);
  void plan_direct();
  void start_direct();
  const std::uint8_t* read_direct(std::uint64_t start);
  void report_damage();

  std::string path_;
  io::regular_file file_;
  io::problem_sink report_;
  stream_limits limits_;
  io::block_layout layout_;
  std::uint64_t file_size_ = 0;
  std::uint32_t block_size_ = 0;
  std::uint32_t blocks_ = 0; // whole blocks: a partial last one is not read
  selection sel_;
  node_ptr q_;
  std::uint32_t next_block_ = 0;
  std::size_t next_pos_ = 0; // into sel_.positions
  read_ahead ahead_;
  // The scan's span past its first window, read with O_DIRECT: opened when
  // the stream reads its first block (one opened only to warm up never does).
  std::uint64_t direct_begin_ = 0, direct_end_ = 0;
  bool direct_tried_ = false;
  std::unique_ptr<io::direct_reader> direct_;
  // The matches of the current block: frames point into block_ (whole block
  // read) or into arena_ (packets read one by one). No allocation per packet.
  std::vector<io::packet_ref> ready_;
  std::vector<std::size_t> arena_offsets_; // for refs into arena_, else SIZE_MAX
  std::size_t ready_pos_ = 0;
  bool started_ = false, ended_ = false;
  std::vector<std::uint8_t> block_, arena_, one_;
  std::uint64_t bad_ = 0; // candidate positions that did not hold a packet
  io::damage_tally damage_;
  std::uint64_t read_errors_ = 0;
  std::string first_read_error_;
};

} // namespace stenotype::query
