#include "io/file_plan.hpp"

#include <algorithm>

namespace stenotype::io {

file_plan::file_plan(std::uint64_t block_size, std::uint64_t max_bytes,
                     std::uint64_t max_age_micros)
  : block_size_(block_size), max_bytes_(std::max(max_bytes, block_size)),
    max_age_(max_age_micros) {}

std::optional<std::uint64_t> file_plan::due(std::uint64_t now) {
  if (!open_)
    return std::nullopt;
  const bool full = offset_ + block_size_ > max_bytes_;
  // A clock stepping back never makes a file younger than zero.
  const bool old = now > id_ && now - id_ >= max_age_;
  if (!full && !old)
    return std::nullopt;
  return close();
}

block_slot file_plan::place(std::uint64_t now) {
  if (!open_) {
    id_ = std::max(now, id_ + 1);
    offset_ = 0;
    open_ = true;
  }
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
