// index/index_file.hpp -- one immutable RocksDB SST per packet file.
//
// Written once with SstFileWriter (keys in order, no DB, no WAL: ~10 M keys/s)
// hidden, and published (synced, renamed: io::publish) only after its packet
// file is complete. Read with SstFileReader after a full checksum
// verification: Debian's RocksDB keeps assertions, and a damaged file must
// give an error, not an abort.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/index_builder.hpp"
#include "index/index_format.hpp"
#include "io/regular_file.hpp"

namespace rocksdb {
class Iterator;
class SstFileReader;
} // namespace rocksdb

namespace stenotype::index {

/// Writes the builder's entries to `path` (replacing it), mode 0600; written
/// hidden, it becomes durable and visible with io::publish. Throws
/// std::runtime_error naming the file.
void write_index_file(const index_builder& builder, const std::string& path);

/// The builder's index at `path` in `format`: write_index_file (native) or
/// write_leveldb_index (stenographer, index/leveldb_index.hpp).
void write_index(const index_builder& builder, const std::string& path, index_format format);

/// Indexes the whole packet file `packet_file` into `builder` (fresh) and
/// publishes the index as `name` in `dir` (written hidden in `format`, then
/// io::publish). Returns the number of damaged blocks skipped. Throws
/// std::runtime_error naming the file; nothing is published then (a hidden
/// index may remain).
std::uint64_t index_and_publish(const std::string& packet_file, index_builder& builder,
                                const std::string& dir, const std::string& name,
                                index_format format);

/// The same for entries from anywhere (tools and tests rewriting an index):
/// `entries(put)` calls put(key, value) in ascending key order.
using entry_fn = std::function<void(std::string_view, std::string_view)>;
/// kept: an index for the file's life (zstd, Bloom filter); transient: a
/// partial index of the open file (index/flow_part.hpp), which lives about a
/// minute and is read a few times -- compressing and filtering it would
/// cost the capture more than it saves.
enum class table_use { kept, transient };
void write_index_entries(const std::function<void(const entry_fn&)>& entries, const std::string& path,
                         table_use use = table_use::kept);

/// Decodes a value of a position key into file offsets (ascending). Returns
/// false on a malformed value (truncated varint, overflow past 4 GiB).
bool decode_positions(std::string_view value, std::vector<std::uint32_t>& out);

/// Why a file summary and block table, as read from an index, cannot
/// describe a packet file ("" when they can): an impossible block size,
/// more blocks than a 4 GiB file holds, counts that disagree with each other
/// or exceed what the blocks can hold. A reader must not divide by, or
/// allocate for, a summary that fails this.
std::string summary_problem(const file_summary& s, const std::vector<block_times>& blocks);

class index_reader {
public:
  /// Opens `path`; throws std::runtime_error (one line, naming the file)
  /// when it is missing, not a regular file (never waits on a FIFO), damaged,
  /// of an unknown format version, a stenographer (LevelDB) index, or when
  /// its summary fails summary_problem. Every block read is checked against
  /// its checksum, and lookups throw on a mismatch; `verify` additionally
  /// checks the whole file up front (tools; queries read only what they need).
  /// `l`: whether `path` may be a symbolic link (io/regular_file.hpp).
  explicit index_reader(const std::string& path, bool verify = true, io::links l = io::links::follow);
  ~index_reader();
  index_reader(index_reader&&) noexcept;

  const file_summary& summary() const { return summary_; }
  const std::vector<block_times>& blocks() const { return blocks_; }

  /// Positions of packets with `key`; empty when none.
  std::vector<std::uint32_t> lookup(std::string_view key) const;

  /// Positions of packets with keys in [from, to] (inclusive), merged and
  /// deduplicated: used for CIDR ranges.
  std::vector<std::uint32_t> lookup_range(std::string_view from, std::string_view to) const;

  /// Every (key, value) in order; for tests and tools.
  void for_each_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;

private:
  /// Throws when `it` ended on an error (a damaged block).
  void check(const rocksdb::Iterator& it) const;

  std::string path_;
  std::unique_ptr<rocksdb::SstFileReader> reader_;
  file_summary summary_;
  std::vector<block_times> blocks_;
};

} // namespace stenotype::index
