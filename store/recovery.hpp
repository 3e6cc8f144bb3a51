// store/recovery.hpp -- what a crash leaves in a data directory, made whole.
//
// A capture killed at any moment leaves at most, per thread: one hidden
// packet file (".<id>", being written) with its durable-extent record
// and partial indexes (fresh queries), possibly a hidden index, and
// possibly a complete packet file whose index was not yet published. At
// start, before capturing, each is dealt with so that every plain name is a
// complete, indexed file again (docs/OPERATIONS.md, "Recovery"). Only our
// own names are touched (io/layout.hpp): ".keep", a ".snapshot" folder or
// any other foreign entry stays as it is.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "stenotype/options.hpp"

namespace stenotype::store {

/// Recovers DIR/PKT<thread> and DIR/IDX<thread>. `block_size` is the
/// capture's; `index` the format indexes are kept in (rebuilt ones too), or
/// nothing without indexes. Every action is reported through `log` (one
/// line each). Throws std::runtime_error on I/O errors.
void recover_thread_dir(const std::string& dir, int thread, std::uint32_t block_size,
                        std::optional<index_format> index, const std::function<void(const std::string&)>& log);

} // namespace stenotype::store
