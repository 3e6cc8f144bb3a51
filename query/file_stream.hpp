// query/file_stream.hpp -- the matching packets of one packet file, in file
// order, reading only candidate blocks and packets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stenotype/block_format.hpp"
#include "query/evaluate.hpp"

namespace stenotype::query {

class file_stream {
public:
  /// Opens `path`; throws std::runtime_error naming it.
  file_stream(const std::string& path, std::uint32_t block_size, selection candidates, node_ptr q);
  ~file_stream();
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
  /// Candidate positions that did not hold a valid packet (a damaged file or index).
  std::uint64_t bad_positions() const { return bad_; }

private:
  void load_block(std::uint32_t b); // fills ready_ with block b's matches
  void consider(const io::packet_ref& p, bool copy);
  void prefetch();

  std::string path_;
  int fd_ = -1;
  std::uint64_t file_size_ = 0;
  std::uint32_t block_size_;
  std::uint32_t blocks_;
  selection sel_;
  node_ptr q_;
  std::uint32_t next_block_ = 0;
  std::size_t next_pos_ = 0; // into sel_.positions
  // The matches of the current block: frames point into block_ (whole block
  // read) or into arena_ (packets read one by one). No allocation per packet.
  std::vector<io::packet_ref> ready_;
  std::vector<std::size_t> arena_offsets_; // for refs into arena_, else SIZE_MAX
  std::size_t ready_pos_ = 0;
  bool started_ = false;
  std::vector<std::uint8_t> block_, arena_, one_;
  std::uint64_t bad_ = 0;
};

} // namespace stenotype::query
