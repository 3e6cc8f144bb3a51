// io/recovery.hpp -- what a crash leaves in a data directory, made whole.
//
// A capture killed at any moment leaves at most, per thread: one hidden
// packet file (".<id>", being written), possibly a hidden index, and
// possibly a complete packet file whose index was not yet published. At
// start, before capturing, each is dealt with so that every plain name is a
// complete, indexed file again (docs/OPERATIONS.md, "Recovery").
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace stenotype::io {

struct recovery_stats {
  std::uint64_t packet_files_kept = 0;    ///< hidden files cut to whole blocks and published
  std::uint64_t packet_files_removed = 0; ///< hidden files without one valid block
  std::uint64_t indexes_rebuilt = 0;
  std::uint64_t indexes_removed = 0;      ///< hidden indexes of no packet file
};

/// Recovers DIR/PKT<thread> and DIR/IDX<thread>. `block_size` is the
/// capture's; `index` whether indexes are kept. Every action is reported
/// through `log` (one line each). Throws std::runtime_error on I/O errors.
recovery_stats recover_thread_dir(const std::string& dir, int thread, std::uint32_t block_size,
                                  bool index, const std::function<void(const std::string&)>& log);

/// Builds the index of the complete packet file `packet_file` (named `name`)
/// from its contents into `idx_dir`: written hidden, then renamed. Throws
/// std::runtime_error on failure (nothing is published then).
void build_index_from_file(const std::string& packet_file, const std::string& idx_dir,
                           const std::string& name, std::uint32_t block_size);

} // namespace stenotype::io
