// index/part_set.cpp -- see part_set.hpp.
#include "index/part_set.hpp"

#include <algorithm>

#include "io/layout.hpp"
#include "stenotype/error.hpp"

namespace stenotype::index {

part_set::part_set(const std::string& index_dir, std::uint64_t id) {
  std::uint32_t end = 0;
  for (const auto& c : io::list_companions(index_dir, id)) {
    if (c.k != io::companion_name::kind::part || c.first_block != end)
      continue; // a draft, or past a gap (a part that could not be written): scanned instead
    const std::string path = index_dir + "/" + c.name();
    index_reader r{path, /*verify=*/false, io::links::refuse}; // blocks are checked as read
    const file_summary& s = r.summary();
    if (s.blocks != c.end_block || (!parts_.empty() && s.block_size != summary_.block_size))
      throw failure(errc::damaged_index, "damaged partial index " + path + ": it does not describe blocks "
                                           + std::to_string(c.first_block) + "-" + std::to_string(c.end_block));
    const auto& times = r.blocks();
    blocks_.insert(blocks_.end(), times.begin() + c.first_block, times.end());
    if (s.packets > 0) {
      summary_.first_ns = summary_.packets == 0 ? s.first_ns : std::min(summary_.first_ns, s.first_ns);
      summary_.last_ns = std::max(summary_.last_ns, s.last_ns);
      summary_.packets += s.packets;
    }
    summary_.blocks = end = c.end_block;
    summary_.block_size = s.block_size;
    parts_.push_back(std::move(r));
  }
}

std::vector<std::uint32_t> part_set::lookup(std::string_view key) const {
  std::vector<std::uint32_t> out;
  for (const auto& p : parts_) {
    const auto more = p.lookup(key);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::vector<std::uint32_t> part_set::lookup_range(std::string_view from, std::string_view to) const {
  std::vector<std::uint32_t> out;
  for (const auto& p : parts_) {
    const auto more = p.lookup_range(from, to);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

void part_set::for_each_key(
  const std::function<void(std::string_view, const std::vector<std::uint32_t>&)>& fn) const {
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> keys; // a tool's view: memory is no concern
  for (const auto& p : parts_)
    p.for_each_entry([&](std::string_view key, std::string_view value) {
      if (key.empty() || key[0] == 0)
        return;
      if (!decode_positions(value, keys[std::string(key)]))
        throw failure(errc::damaged_index, "damaged partial index: malformed positions");
    });
  for (const auto& [key, positions] : keys)
    fn(key, positions);
}

} // namespace stenotype::index
