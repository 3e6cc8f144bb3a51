// index/index_format.hpp -- which of the two index formats a file is in, told
// by the magic number in its last 8 bytes, so that readers choose per file
// (a data directory may hold both: Google stenotype's files and ours).
#pragma once

#include <cstdint>
#include <string>

namespace stenotype::index {

enum class index_format {
  native,       ///< ours: a RocksDB block-based table (index/index_file.hpp)
  stenographer, ///< Google's: a LevelDB table (index/leveldb_index.hpp)
  unknown,      ///< neither (too short, damaged footer, another file)
};

/// RocksDB's block-based table magic (format_version >= 1 footers).
inline constexpr std::uint64_t rocksdb_table_magic = 0x88e241b785f4cff7ull;
/// LevelDB's table magic; RocksDB calls it its "legacy" block-based magic and
/// cannot be trusted to read such files (they abort Debian's build).
inline constexpr std::uint64_t leveldb_table_magic = 0xdb4775248b80fb57ull;

/// The format of the index file at `path`. Throws std::runtime_error (naming
/// the file) when it cannot be opened or read; a file too short to hold a
/// magic number is `unknown`.
index_format detect_index_format(const std::string& path);

const char* to_string(index_format f);

} // namespace stenotype::index
