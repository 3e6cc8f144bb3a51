// index/leveldb_index.hpp -- per-file indexes in Google stenographer's format,
// the one its Go server reads (indexfile/indexfile.go) and Google's stenotype
// writes (stenotype/index.cc): a LevelDB table, LevelDB's default options but
// no compression (4 KiB blocks, restart interval 16, bytewise keys, no
// filter), with
//   key 00                      -> u32 BE major version 2, u32 BE minor 0
//   key <type byte><value>      -> the packets' file offsets, u32 BE each,
//                                  ascending and distinct
// and the types and value encodings of index/keys.hpp (1 protocol, 2 port,
// 3 VLAN, 4 IPv4, 5 MPLS label, 6 IPv6; network byte order).
//
// Written with LevelDB's own TableBuilder (RocksDB's SstFileWriter cannot:
// it stores internal keys, user key + 8-byte sequence/type). Given the same
// keys and positions the bytes equal Google's (tests/unit/leveldb_index_test).
//
// Both classes do their file I/O with plain pread/write on their own
// descriptor, not through leveldb::Env: no mmap (a file truncated under a
// mapping raises SIGBUS), files created 0600 like packet files. Note for
// seccomp lists: the first leveldb::Options constructed in a process builds
// LevelDB's Env singleton, which calls getrlimit (prlimit64) once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/regular_file.hpp"

namespace stenotype::index {

class index_builder;

/// The version record's major number that stenographer's server requires.
inline constexpr std::uint32_t stenographer_format_major = 2;
inline constexpr std::uint32_t stenographer_format_minor = 0;

/// Writes one stenographer index file. The version record is written first
/// by the constructor; add() then takes the keys in strictly ascending byte
/// order. Errors throw a failure naming the file (no_space for a full disk). An unfinished
/// writer leaves a partial file behind: the caller writes to a hidden name
/// and deletes or renames it.
class leveldb_index_writer {
public:
  /// Creates or truncates `path` (mode 0600).
  explicit leveldb_index_writer(const std::string& path);
  ~leveldb_index_writer();
  leveldb_index_writer(const leveldb_index_writer&) = delete;
  leveldb_index_writer& operator=(const leveldb_index_writer&) = delete;

  /// One key (type byte + value; not a type-0 key) and its packets' offsets:
  /// not empty, strictly ascending.
  void add(std::string_view key, std::span<const std::uint32_t> positions);

  /// Completes the table and fsyncs the file. Nothing may be added after.
  void finish();

private:
  struct state;
  std::unique_ptr<state> s_;
};

/// The builder's keys and positions as a stenographer index at `path`,
/// synced; the builder's own metadata (time ranges, block table) has no
/// place in this format and is left out. Publishing (rename) is the caller's.
void write_leveldb_index(const index_builder& builder, const std::string& path);

/// Appends the offsets of a stenographer index value to `out`. False when
/// the value is malformed: its length not a multiple of 4, or offsets not
/// strictly ascending.
bool decode_leveldb_positions(std::string_view value, std::vector<std::uint32_t>& out);

/// Reads one stenographer index file (Google's or ours). Every block read is
/// checked against its checksum; a damaged or foreign file gives a failure
/// (damaged_index; one line, naming the file), never an abort.
class leveldb_index_reader {
public:
  /// Opens `path` and checks its footer and version record; `verify` also
  /// reads the whole table once up front (tools; queries read only what they
  /// need, and still get an error from a damaged block).
  /// `l`: whether `path` may be a symbolic link (io/regular_file.hpp).
  explicit leveldb_index_reader(const std::string& path, bool verify = true, io::links l = io::links::follow);
  ~leveldb_index_reader();
  leveldb_index_reader(leveldb_index_reader&&) noexcept;
  leveldb_index_reader& operator=(leveldb_index_reader&&) noexcept;

  std::uint32_t minor_version() const { return minor_; }

  /// Offsets of packets with `key`; empty when none.
  std::vector<std::uint32_t> lookup(std::string_view key) const;

  /// Offsets of packets with keys in [from, to] (inclusive), merged and
  /// deduplicated: CIDR ranges.
  std::vector<std::uint32_t> lookup_range(std::string_view from, std::string_view to) const;

  /// Every (key, raw value) in key order, the version record first.
  void for_each_entry(const std::function<void(std::string_view, std::string_view)>& fn) const;

private:
  struct state;
  std::unique_ptr<state> s_;
  std::uint32_t minor_ = 0;
};

} // namespace stenotype::index
