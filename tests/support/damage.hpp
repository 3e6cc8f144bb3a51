// tests/support/damage.hpp -- an intact data directory of known packets, and
// the damage a failing disk, a careless operator or an attacker can do to it:
// files cut at a block boundary or inside a block, emptied, replaced by a
// directory, a FIFO or a link, flipped header bytes, index summaries that
// lie. Each damage says which packets it took away, so that a test can
// require exactly the others.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "index/index_builder.hpp"
#include "support/packet_files.hpp"

namespace stenotype::test {

using frame_bytes = std::vector<std::uint8_t>;

/// A data directory and everything in it before any damage.
struct data_set {
  std::string dir;
  std::size_t block_size = 0;
  capture_dir intact; ///< every packet, with its file ("PKT0/<id>" via thread + file) and offset
  std::vector<std::string> files() const { return intact.files; }
};

/// Imports `frames` (frame i captured at t0 + i * gap_ms) into `dir` with the
/// stenoimport binary: frame i into thread i % threads, files spanning
/// `fileage_sec` of packet time, blocks of `block_kb` KiB. Throws on failure.
data_set import_data_set(const std::string& stenoimport, const std::string& dir,
                         const std::vector<frame_bytes>& frames, std::size_t block_kb, int threads = 2,
                         unsigned gap_ms = 100, unsigned fileage_sec = 60);

/// A copy of `d` at `dir` (cp -a): damage one copy per test case.
data_set copy_data_set(const data_set& d, const std::string& dir);

/// The packets a damage took away: those of `file` ("PKT<n>/<id>") at
/// offsets in [from, to).
struct loss {
  std::string file;
  std::uint64_t from = 0, to = 0;
};

std::string path_of(const data_set& d, const std::string& file); ///< dir + "/" + file
std::string index_of(const data_set& d, const std::string& file); ///< its DIR/IDX<n>/<id>

loss cut_to(const data_set& d, const std::string& file, std::uint64_t bytes);
loss replace_with_directory(const data_set& d, const std::string& file);
loss replace_with_fifo(const data_set& d, const std::string& file);
loss replace_with_symlink(const data_set& d, const std::string& file, const std::string& target);
/// XORs `n` bytes at `offset` with 0xff; the packets of that block are lost.
loss flip_bytes(const data_set& d, const std::string& file, std::uint64_t offset, std::size_t n);
/// Overwrites 4 bytes (little-endian) at `offset`; nothing is lost by itself.
void poke_u32(const data_set& d, const std::string& file, std::uint64_t offset, std::uint32_t value);
/// Appends `n` bytes of `fill`.
void append_bytes(const data_set& d, const std::string& file, std::size_t n, std::uint8_t fill);

/// Rewrites the index of `file` with its summary and block table changed by `edit`.
void rewrite_summary(const data_set& d, const std::string& file,
                     const std::function<void(index::file_summary&, std::vector<index::block_times>&)>& edit);
/// Encodings of an index's summary and block table (docs/FILE_FORMAT.md).
inline std::string big_endian(std::uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i)
    s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
inline std::string summary_value(const index::file_summary& s) {
  return big_endian(s.packets, 8) + big_endian(s.first_ns, 8) + big_endian(s.last_ns, 8)
         + big_endian(s.blocks, 4) + big_endian(s.block_size, 4);
}
inline std::string block_table_value(const std::vector<index::block_times>& blocks) {
  std::string out;
  for (const auto& b : blocks)
    out += big_endian(b.first_ns, 8) + big_endian(b.last_ns, 8) + big_endian(b.packets, 4);
  return out;
}

/// The intact packets that survive `losses`, in time order.
std::vector<const captured_packet*> surviving(const data_set& d, const std::vector<loss>& losses);

} // namespace stenotype::test
