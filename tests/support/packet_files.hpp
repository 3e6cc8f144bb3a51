// tests/support/packet_files.hpp -- reads a capture directory back, block by
// block and packet by packet, independently of the capture code paths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stenotype::test {

struct captured_packet {
  int thread;
  std::string file;      // final name
  std::uint64_t offset;  // of its tpacket3_hdr in the file
  std::uint32_t sec, nsec, wire_len;
  std::vector<std::uint8_t> bytes;
};

struct capture_dir {
  std::vector<std::string> files;   // "PKT0/123", every complete packet file
  std::vector<std::string> hidden;  // names starting with '.', anywhere
  std::vector<captured_packet> packets; // in file order, then file position
  std::vector<std::string> problems; // blocks that did not parse, sizes not block multiples
};

/// Reads every PKT<n>/ under `dir` with blocks of `block_size` bytes.
capture_dir read_capture_dir(const std::string& dir, std::size_t block_size);

/// For every complete packet file of `cap` (read from `dir`): its index must
/// exist and hold exactly the entries of an index rebuilt from the file.
/// Returns one line per file where that is not so.
std::vector<std::string> index_mismatches(const std::string& dir, const capture_dir& cap,
                                          std::size_t block_size);

/// Names in a directory (no . and ..), sorted; empty if it does not exist.
std::vector<std::string> list_dir(const std::string& dir);

} // namespace stenotype::test
