// store/retention_policy.hpp -- which complete files to delete, and why.
//
// Pure: no I/O. store/retention.hpp gathers its input (the complete files of
// every thread, the filesystems' space) and carries the plan out; the
// retention actor (actors/retention.hpp) runs both. Keeping the decision
// apart makes every limit testable with tables of numbers.
//
// Three limits, after stenographer's server configuration; 0 turns each off:
//  - disk_free_percentage: every filesystem that holds PKT<n> or IDX<n>
//    keeps at least this share of its size available to the capture user
//    (statvfs f_bavail / f_blocks, as stenographer's PercentFree);
//  - max_directory_files: complete packet files per thread, exactly;
//  - max_data_mb: all packet and index files together, in MiB on disk.
//
// Decisions (docs/OPERATIONS.md, "Disk space"):
//  - Oldest first across threads, by file id (creation microseconds, then
//    thread): what goes is always the oldest data that helps the limit. For
//    free space a file helps only if its packet or index file lives on a
//    filesystem below the line; files elsewhere are kept.
//  - The file being written is hidden and never in the input.
//  - A thread's newest complete file is never deleted for free space or the
//    byte budget. When a limit cannot be met without it -- a disk filled by
//    other data, a budget smaller than one file per thread -- emptying the
//    whole history would not meet it either, it would only throw away the
//    data a reader most likely wants. The plan says the limit is unmet
//    instead (below_line / byte_budget_unmet), and the writer's ENOSPC path
//    (oldest_on_filesystem, no such floor) is what may delete it: a packet
//    the kernel handed over outranks any file already on disk.
//  - The file count holds exactly; with a limit >= 1 it never reaches the
//    newest file anyway.
//  - Bytes are space on disk (st_blocks), what deleting gives back. A file
//    still open by a reader frees its space only at close; the next check
//    then sees the filesystem still short and deletes more.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stenotype/options.hpp"

namespace stenotype::store {

struct retention_limits {
  std::uint32_t disk_free_percentage = 10;  ///< per filesystem, 0..100; 0 = off
  std::uint64_t max_directory_files = 30000; ///< complete packet files per thread; 0 = off
  std::uint64_t max_data_mb = 0;             ///< packet + index files, MiB on disk; 0 = off

  bool any() const { return disk_free_percentage || max_directory_files || max_data_mb; }
};

/// The limits a capture runs with: each one given in `opts`, else its
/// default: the values above (stenographer's server's), or all off with
/// --index_format=stenographer, whose server deletes files itself. The one
/// place the defaults are decided.
retention_limits effective_retention(const capture_options& opts);

/// One complete packet file and its index (if published).
struct retained_file {
  int thread = 0;
  std::uint64_t id = 0;           ///< creation time, microseconds since the epoch
  std::uint64_t packet_bytes = 0; ///< on disk
  std::uint64_t index_bytes = 0;  ///< on disk; 0 without an index
  std::uint64_t packet_device = 0; ///< st_dev of the packet file
  std::uint64_t index_device = 0;  ///< st_dev of the index file (meaningless without one)

  std::uint64_t bytes() const { return packet_bytes + index_bytes; }
};

/// Space of one filesystem, in bytes.
struct filesystem_space {
  std::uint64_t device = 0;    ///< st_dev
  std::uint64_t total = 0;     ///< f_blocks * f_frsize
  std::uint64_t available = 0; ///< f_bavail * f_frsize: what the capture user may still use
};

enum class deletion_reason { free_space, file_count, byte_budget };
inline constexpr deletion_reason all_deletion_reasons[] = {deletion_reason::free_space, deletion_reason::file_count,
                                                           deletion_reason::byte_budget};

/// "free-space", "file-count", "byte-budget" (status keys, metric labels).
const char* to_string(deletion_reason r);

struct planned_deletion {
  retained_file file;
  deletion_reason reason;
};

struct retention_plan {
  std::vector<planned_deletion> deletions; ///< oldest first
  /// Filesystems that stay below the free-space line even after the plan:
  /// not enough of ours on them (or only each thread's newest file) to delete.
  std::vector<std::uint64_t> below_line;
  bool byte_budget_unmet = false; ///< each thread's newest file alone exceeds max_data_mb

  bool limits_met() const { return below_line.empty() && !byte_budget_unmet; }
};

class retention_policy {
public:
  explicit retention_policy(retention_limits limits) : limits_(limits) {}

  const retention_limits& limits() const { return limits_; }

  /// What to delete so that every limit holds. `files`: the complete files
  /// of every thread, any order; `filesystems`: each filesystem holding a
  /// PKT<n> or IDX<n> directory (a file on a device not listed counts for
  /// the file count and the budget only).
  retention_plan plan(std::vector<retained_file> files, std::span<const filesystem_space> filesystems) const;

  /// The writer hit ENOSPC on `device`: the oldest file with its packet or
  /// index file there, the thread's newest included; nothing when no file
  /// of ours is on it.
  static std::optional<retained_file> oldest_on_filesystem(std::span<const retained_file> files,
                                                           std::uint64_t device);

  /// Bytes that must still be freed on `fs` for the line to hold (0 if it holds).
  std::uint64_t free_space_deficit(const filesystem_space& fs) const;

private:
  retention_limits limits_;
};

} // namespace stenotype::store
