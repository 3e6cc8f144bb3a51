#include "io/file_plan.hpp"

#include <algorithm>

namespace stenotype::io {

file_plan::file_plan(std::uint64_t block_size, std::uint64_t max_bytes,
                     std::uint64_t max_age_micros, bool always_open)
  : block_size_(block_size), max_bytes_(std::max(max_bytes, block_size)),
    max_age_(max_age_micros), always_open_(always_open) {}

void file_plan::open(std::uint64_t now) {
  id_ = std::max(now, id_ + 1);
  offset_ = 0;
  open_ = true;
}

std::optional<std::uint64_t> file_plan::due(std::uint64_t now) {
  if (!open_) {
    if (always_open_)
      open(now);
    return std::nullopt;
  }
  const bool full = offset_ + block_size_ > max_bytes_;
  // A clock stepping back never makes a file younger than zero.
  const bool old = now > id_ && now - id_ >= max_age_;
  if (!full && !old)
    return std::nullopt;
  const auto closed = close();
  if (always_open_)
    open(now);
  return closed;
}

block_slot file_plan::place(std::uint64_t now) {
  if (!open_)
    open(now);
  block_slot slot{id_, offset_};
  offset_ += block_size_;
  return slot;
}

std::optional<std::uint64_t> file_plan::close() {
  if (!open_)
    return std::nullopt;
  open_ = false;
  return id_;
}

} // namespace stenotype::io
