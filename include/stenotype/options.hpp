// stenotype/options.hpp -- everything that configures a capture, as a plain
// struct. The `stenotype` command line fills one of these; an embedding
// application fills it in code. Field names follow the command-line flags
// (see `stenotype --help` and docs/OPERATIONS.md); defaults are Google
// stenotype's, except two that are safe for a host application: seccomp
// lists and watchdogs are opt-in here (`stenotype` turns both on, as
// Google's does).
//
// This header has no dependencies beyond the standard library, so it can be
// included anywhere (it is deliberately free of CAF).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stenotype {

/// A classic BPF instruction (struct sock_filter), as `tcpdump -ddd` prints.
struct bpf_instruction {
  std::uint16_t code = 0;
  std::uint8_t jt = 0;
  std::uint8_t jf = 0;
  std::uint32_t k = 0;
};

/// --index_format: which index files the capture writes (docs/FILE_FORMAT.md).
/// Readers take either, per file.
enum class index_format {
  native,       ///< ours: a RocksDB table with a block time table
  stenographer, ///< Google stenographer's LevelDB table, for its server
};

struct capture_options {
  // --- what to capture -----------------------------------------------------
  std::string iface = "eth0";        ///< --iface: interface to read from.
  bool promiscuous = true;           ///< inverse of --no_promisc.
  std::vector<bpf_instruction> filter; ///< --filter, compiled; empty = all.
  std::int64_t count = -1;           ///< --count: stop after this many packets.

  // --- ring (per thread) ---------------------------------------------------
  int threads = 1;                   ///< --threads: rings joined by PACKET_FANOUT.
  std::uint32_t blocks = 2048;       ///< --blocks: ring blocks per thread.
  std::uint32_t blocksize_kb = 1024; ///< --blocksize_kb: bytes per block / 1024.
  std::uint32_t blockage_sec = 10;   ///< --blockage_sec: kernel retires a block this old.
  int fanout_type = 0x1000 | 1;      ///< --fanout_type: PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_ROLLOVER.
  int fanout_id = 0;                 ///< --fanout_id: 0 = derived from the pid.

  // --- files ---------------------------------------------------------------
  std::string dir;                   ///< --dir: writes DIR/PKT<n>/ and DIR/IDX<n>/.
  std::uint32_t aiops = 128;         ///< --aiops: writes in flight per thread.
  std::uint32_t filesize_mb = 4096;  ///< --filesize_mb: rotate at this size.
  std::uint32_t fileage_sec = 60;    ///< --fileage_sec: rotate at this age.
  std::uint32_t preallocate_file_mb = 0; ///< --preallocate_file_mb (0 = grow in steps).

  // --- disk space (stenographer's server configuration) ----------------------
  // The oldest complete files are deleted to keep each limit; 0 turns one
  // off. Nothing means "not given": the capture then runs with the default,
  // computed in one place (store::effective_retention; docs/OPERATIONS.md,
  // "Disk space").
  std::optional<std::uint32_t> disk_free_percentage; ///< --disk_free_percentage: % of each filesystem kept free (default 10).
  std::optional<std::uint64_t> max_directory_files;  ///< --max_directory_files: complete packet files per thread (default 30000).
  std::optional<std::uint64_t> max_data_mb;          ///< --max_data_mb: packet and index files together, MiB (default 0: no budget).

  // --- indexing --------------------------------------------------------------
  bool index = true;                 ///< inverse of --no_index.
  int index_nicelevel = 0;           ///< --index_nicelevel.
  /// --index_format. `stenographer` also rotates an idle file at every
  /// --fileage_sec (an empty packet file, a version-only index): the server
  /// kills a capture that makes no new file for 5 minutes.
  stenotype::index_format index_format = stenotype::index_format::native;
  /// Inverse of --no_open_files: publish the open file for fresh queries
  /// (publishes_open_files). Off, readers see packets once their file is
  /// complete, as with Google's stenotype, and the indexer writes no parts.
  bool open_files = true;
  /// Ring blocks the indexer may hold at once (0: half of --blocks). When it
  /// holds this many, the capture sheds indexing instead of packets: the
  /// indexer skips the rest of that file and indexes it from the packet file
  /// once written (docs/ARCHITECTURE.md, "Shedding"). --blocks or more:
  /// never shed (the indexer's lag fills the ring, the kernel drops).
  /// Embedding only; `stenotype` uses the default.
  std::uint32_t index_max_blocks = 0;

  // --- process -------------------------------------------------------------
  bool watchdogs = false;            ///< inverse of --no_watchdogs (stenotype: on).
  std::string seccomp = "none";      ///< --seccomp: none | trace | kill (stenotype: kill).
  std::string uid;                   ///< --uid: name or number; empty = default.
  std::string gid;                   ///< --gid: name or number; empty = default.
  std::uint32_t stats_blocks = 100;  ///< --stats_blocks: log stats (info) every N blocks (0 = off).
  std::uint32_t stats_sec = 60;      ///< --stats_sec: log stats (info) every N seconds (0 = off).
  int verbosity = 0;                 ///< count of -v minus count of -q.

  std::size_t block_size() const { return std::size_t{blocksize_kb} * 1024; }
};

/// Whether the capture rotates at every --fileage_sec also with no traffic,
/// writing an empty packet file and an index without keys: with
/// --index_format=stenographer, because stenographer's server restarts a
/// capture that makes no new file for 5 minutes. A native capture writes no
/// empty files (an idle link costs no inodes; stenoread needs none).
inline bool rotates_idle_files(const capture_options& o) {
  return o.index_format == index_format::stenographer;
}

/// Whether the capture publishes the file it is still writing for fresh
/// queries (its durable extent, partial indexes: docs/FILE_FORMAT.md): with
/// its own indexes only. With --index_format=stenographer nothing is added
/// to what Google's server sees; with --no_index a reader would have to scan
/// the whole open file; --no_open_files turns it off.
inline bool publishes_open_files(const capture_options& o) {
  return o.index && o.index_format == index_format::native && o.open_files;
}

/// Returns the first violated start-up rule (one line, no trailing newline),
/// or nothing when the options are consistent. These are stenotype's checks
/// plus a few of ours (see docs/OPERATIONS.md).
std::optional<std::string> validate(const capture_options& opts);

} // namespace stenotype
