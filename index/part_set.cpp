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
    flow_part p{path};
    const file_summary& s = p.summary();
    if (s.blocks != c.end_block || (!parts_.empty() && s.block_size != summary_.block_size))
      throw failure(errc::damaged_index, "damaged partial index " + path + ": it does not describe blocks "
                                           + std::to_string(c.first_block) + "-" + std::to_string(c.end_block));
    const auto& times = p.blocks();
    blocks_.insert(blocks_.end(), times.begin() + c.first_block, times.end());
    if (s.packets > 0) {
      summary_.first_ns = summary_.packets == 0 ? s.first_ns : std::min(summary_.first_ns, s.first_ns);
      summary_.last_ns = std::max(summary_.last_ns, s.last_ns);
      summary_.packets += s.packets;
    }
    summary_.blocks = end = c.end_block;
    summary_.block_size = s.block_size;
    parts_.push_back(std::move(p));
  }
}

std::vector<std::uint32_t> part_set::lookup(std::string_view key) const { return lookup_range(key, key); }

std::vector<std::uint32_t> part_set::lookup_range(std::string_view from, std::string_view to) const {
  std::vector<std::uint32_t> out;
  for (const auto& p : parts_)
    p.positions_with_key_in(from, to, out);
  return out;
}

void part_set::for_each_key(
  const std::function<void(std::string_view, const std::vector<std::uint32_t>&)>& fn) const {
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> keys; // a tool's view: memory is no concern
  std::vector<std::uint32_t> positions;
  for (const auto& p : parts_)
    for (std::size_t i = 0; i < p.flows(); ++i) {
      positions.clear();
      p.positions_of(i, positions);
      for_each_flow_key(p.flow(i), [&](const index_key& k) {
        auto& list = keys[k.str()];
        if (!list.empty() && list.back() == positions.back())
          return; // the same key twice in this flow (a host talking to itself)
        list.insert(list.end(), positions.begin(), positions.end());
      });
    }
  for (auto& [key, positions] : keys) {
    std::sort(positions.begin(), positions.end());
    fn(key, positions);
  }
}

} // namespace stenotype::index
