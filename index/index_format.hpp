// index/index_format.hpp -- which of the two index formats a file is in, told
// by the magic number in its last 8 bytes, so that readers choose per file
// (a data directory may hold both: Google stenotype's files and ours).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/regular_file.hpp"
#include "stenotype/options.hpp"

namespace stenotype::index {

/// native: a RocksDB block-based table (index/index_file.hpp);
/// stenographer: a LevelDB table (index/leveldb_index.hpp).
using stenotype::index_format;

/// RocksDB's block-based table magic (format_version >= 1 footers).
inline constexpr std::uint64_t rocksdb_table_magic = 0x88e241b785f4cff7ull;
/// LevelDB's table magic; RocksDB calls it its "legacy" block-based magic and
/// cannot be trusted to read such files (they abort Debian's build).
inline constexpr std::uint64_t leveldb_table_magic = 0xdb4775248b80fb57ull;

/// The format of the open index file `f` (`path` names it in messages);
/// nothing when it is neither, or too short to hold a magic number. Throws
/// a failure naming the file when it cannot be read.
std::optional<index_format> detect_index_format(const io::regular_file& f, const std::string& path);

/// The same for the file at `path` (a regular file; never waits on a FIFO).
std::optional<index_format> detect_index_format(const std::string& path, io::links l = io::links::follow);

const char* to_string(index_format f);

/// "native" or "stenographer" to the format; nothing for any other text.
std::optional<index_format> parse_index_format(const std::string& text);

} // namespace stenotype::index
