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
  /// finish() of a file no block reached writes it empty (an idle link's
  /// file, with --index_format=stenographer: capture_options' rotates_idle_files).
  bool empty_files = false;
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

  writer_config cfg_;
  int dir_fd_ = -1;
  bool direct_ = true; // false after the filesystem refused O_DIRECT
  void* ctx_ = nullptr; // io_context_t
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::unique_ptr<open_file> file_;
  std::uint64_t last_finished_ = 0; // id of the last file finished
  writer_stats stats_;
};

} // namespace stenotype::io
