// io/file_plan.hpp -- which file each block goes to, and when files rotate.
//
// The reader decides where every block lands (file id + offset) before it
// hands the block out, so the writer and the indexer, which run on their own
// threads, agree on file boundaries without talking to each other. A file is
// named by the microsecond of its creation (stenotype's naming); ids are
// strictly increasing per thread even if the clock steps back.
#pragma once

#include <cstdint>
#include <optional>

namespace stenotype::io {

struct block_slot {
  std::uint64_t file_id; ///< micros since the epoch; the file's name
  std::uint64_t offset;  ///< byte offset of the block in that file
};

class file_plan {
public:
  /// `max_bytes`: rotate before a block would pass this size (at least one
  /// block per file); `max_age_micros`: rotate files older than this.
  /// `always_open`: a file is open from the first due() on, block or not, and
  /// the next one opens as one closes: an idle link gets a file (empty) per
  /// age. Otherwise a file opens with its first block.
  file_plan(std::uint64_t block_size, std::uint64_t max_bytes, std::uint64_t max_age_micros,
            bool always_open = false);

  /// If the open file must be closed before a block arriving at `now`
  /// (too old, or full), closes it in the plan and returns its id. With
  /// `always_open`, also opens the next file (or the first).
  std::optional<std::uint64_t> due(std::uint64_t now_micros);

  /// Places the next block; opens a new file when none is open. Call due() first.
  block_slot place(std::uint64_t now_micros);

  /// Closes the open file (shutdown) and returns its id, if one was open.
  std::optional<std::uint64_t> close();

  bool has_open_file() const { return open_; }
  /// The open file's id (its creation time) and bytes placed in it so far.
  std::uint64_t open_file_id() const { return open_ ? id_ : 0; }
  std::uint64_t open_file_bytes() const { return open_ ? offset_ : 0; }

private:
  void open(std::uint64_t now_micros);

  std::uint64_t block_size_, max_bytes_, max_age_;
  bool always_open_;
  bool open_ = false;
  std::uint64_t id_ = 0;      // current (or last) file id
  std::uint64_t offset_ = 0;  // next block's offset in the open file
};

} // namespace stenotype::io
