// io/block_writer.hpp -- blocks to packet files with O_DIRECT and libaio.
//
// Blocks are page-aligned ring memory and a multiple of the page size, so
// they go to disk straight from the ring with O_DIRECT (no copy, no page
// cache) through io_submit; at most `aiops` writes are in flight, and a
// block's handle is dropped -- returning it to the kernel -- only when its
// write completed. Files are written hidden (`.<id>`) and renamed to `<id>`
// only once every write to them completed and they are durable, so a reader
// that sees the plain name sees a complete file.
//
// File space is preallocated ahead of the writes (fallocate), because ext4
// performs a direct write that extends the file synchronously inside
// io_submit (~0.65 ms per MiB measured), which would stall the pipeline.
//
// A full disk (ENOSPC, EDQUOT) is not final when the owner can free space
// (writer_config::reclaim_space: the retention actor deletes the oldest
// file): the write, the file's creation or its rename is retried, with the
// same bytes at the same offset, so nothing the kernel handed over is lost
// while there is something old to delete. And the writer does not take the
// last free byte: when less than one preallocation step is left after it
// reserved its next one, it asks for space then, without waiting
// (writer_config::want_space), so that it rarely has to wait for a full
// disk, and the indexes of its files (written by the indexer, which cannot
// retry like this) find room.
//
// Not thread-safe: one writer per capture thread, driven by the writer actor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stenotype/block_handle.hpp"
#include "stenotype/error.hpp"

struct io_event;

namespace stenotype::io {

struct writer_config {
  std::string directory;        ///< DIR/PKT<n>, created if missing
  std::uint64_t block_size = 1 << 20;
  std::uint32_t aiops = 128;    ///< writes in flight at most
  std::uint64_t preallocate_bytes = 0; ///< at file creation (--preallocate_file_mb)
  std::uint64_t grow_bytes = 64ull << 20; ///< then preallocate ahead in steps of this
  /// Called, blocking, when the file system is full (ENOSPC, EDQUOT) for the
  /// file at `path`: true once space was freed (the operation is retried),
  /// false when none can be (it fails as without this, and it is not asked
  /// again until another file is finished). Asked again only by an
  /// operation that failed after the last time space was freed. Empty: a
  /// full disk fails the write.
  std::function<bool(const std::string& path)> reclaim_space = {};
  /// Called, not waited for, when less than `bytes` (grow_bytes) are left
  /// on the file system of `path` after a preallocation step: the owner
  /// makes room before the disk is full. May be empty.
  std::function<void(const std::string& path, std::uint64_t bytes)> want_space = {};
  /// finish() of a file no block reached writes it empty (an idle link's
  /// file, with --index_format=stenographer: capture_options' rotates_idle_files).
  bool empty_files = false;
  /// Keep the open file's durable extent in its sidecar for fresh queries
  /// (io/durable_extent.hpp), updated at most every `extent_interval`.
  bool publish_extent = false;
  std::chrono::milliseconds extent_interval{100};
};

/// A packet file that is complete on disk under its final name.
struct finished_file {
  std::uint64_t id;    ///< its name
  std::string path;
  std::uint64_t bytes;
  std::uint64_t blocks;
};

struct writer_stats {
  std::uint64_t blocks = 0, bytes = 0, files = 0;
  std::uint32_t in_flight = 0;
  std::uint64_t max_latency_us = 0; ///< longest submit-to-completion so far
  std::uint64_t latency_sum_us = 0; ///< of all completed writes (with `completed`: the mean)
  std::uint64_t completed = 0;      ///< writes completed
  std::uint64_t space_requests = 0;   ///< times reclaim_space was asked
  std::uint64_t headroom_requests = 0; ///< times want_space was called
  std::uint64_t no_space_retries = 0; ///< operations retried after a full disk
};

class block_writer {
public:
  /// Creates the directory; throws std::runtime_error on failure.
  explicit block_writer(writer_config cfg);
  ~block_writer();
  block_writer(const block_writer&) = delete;
  block_writer& operator=(const block_writer&) = delete;

  /// Starts writing `block` at `offset` of file `file_id` (opened hidden on
  /// first use). Waits for a completion only when `aiops` writes are in
  /// flight. Throws std::runtime_error naming the file on an I/O error.
  void write(std::uint64_t file_id, std::uint64_t offset, block_handle block);

  /// Reaps finished writes, waiting up to `timeout` for one if any are in flight.
  void reap(std::chrono::milliseconds timeout);

  /// Records the open file's durable extent -- the prefix of it that every
  /// completed write covers, writes in flight excluded -- in its sidecar when
  /// writes completed since the last record, at most once per
  /// `extent_interval` (a pwrite of 32 bytes; nothing per packet). Returns
  /// true while such a record waits for its time: call again within
  /// `extent_interval`.
  bool publish_extent();

  /// Completes file `file_id`: waits for its writes, trims preallocated
  /// space, syncs, renames it to its final name and syncs the directory.
  /// A file no block reached: with `empty_files`, written empty (once: ids
  /// only grow), else nothing is written and nothing returned.
  std::optional<finished_file> finish(std::uint64_t file_id);

  const writer_stats& stats() const { return stats_; }
  bool direct_io() const { return direct_; }

private:
  struct open_file;
  struct slot;
  open_file& file_for(std::uint64_t id);
  std::unique_ptr<open_file> create(std::uint64_t id, bool preallocate);
  std::optional<failure> complete(const io_event& ev); // the write's error, if it failed
  void complete_all(const io_event* events, int n);
  void wait_for(std::uint32_t max_in_flight);
  int submit(slot& s); // 0, or the errno that io_submit failed with
  void release(slot& s);
  void keep_headroom(const open_file& f); // see want_space
  std::uint64_t durable_bytes(const open_file& f) const;
  /// Whether an operation on `path` that failed with `err`, begun when
  /// `frees_` was `since`, is to be retried: the disk was full and space has
  /// been freed since (asking reclaim_space if not yet).
  bool retry_after_freeing(int err, const std::string& path, std::uint64_t since);

  writer_config cfg_;
  int dir_fd_ = -1;
  bool direct_ = true; // false after the filesystem refused O_DIRECT
  void* ctx_ = nullptr; // io_context_t
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::unique_ptr<open_file> file_;
  std::uint64_t last_finished_ = 0; // id of the last file finished
  writer_stats stats_;
  std::uint64_t frees_ = 0; // times reclaim_space freed space
  bool refused_ = false;    // reclaim_space found nothing to free, since the last finished file
};

} // namespace stenotype::io
