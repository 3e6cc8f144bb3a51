// index/file_index.hpp -- the index of one packet file, in either format.
//
// Readers (stenoread, stenoindex --dump, the query service) open an index
// here and get the format its magic says (index/index_format.hpp): a native
// RocksDB index with its file summary and block time table, or a
// stenographer LevelDB index, which has only keys and positions. Lookups
// answer the same for both: sorted, distinct file offsets of packets.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "index/index_file.hpp"
#include "index/leveldb_index.hpp"
#include "index/part_set.hpp"

namespace stenotype::index {

class file_index {
public:
  /// Opens `path` in the format its magic says. Throws a failure
  /// (damaged_index; one line, naming the file) for a file of neither
  /// format, or what the format's reader throws (index_reader,
  /// leveldb_index_reader; `verify` and `l` as there).
  explicit file_index(const std::string& path, bool verify = true, io::links l = io::links::follow);
  /// The merged partial indexes of a file still being written (native).
  explicit file_index(part_set parts);

  index_format format() const;

  /// A native index's file summary and block table; nullptr for a
  /// stenographer index, which records neither times nor blocks.
  const file_summary* summary() const;
  const std::vector<block_times>* blocks() const;

  /// Positions of packets with `key`; empty when none.
  std::vector<std::uint32_t> lookup(std::string_view key) const;
  /// Positions of packets with keys in [from, to] (inclusive), merged.
  std::vector<std::uint32_t> lookup_range(std::string_view from, std::string_view to) const;

  /// Every (key, positions) of a packet attribute in key order: metadata
  /// records (type-0 keys) are left out. Throws on a malformed value.
  void for_each_key(const std::function<void(std::string_view, const std::vector<std::uint32_t>&)>& fn) const;

private:
  std::string path_;
  std::variant<index_reader, leveldb_index_reader, part_set> reader_;
};

} // namespace stenotype::index
