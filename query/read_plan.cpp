#include "query/read_plan.hpp"

#include "stenotype/block_format.hpp"

namespace stenotype::query {

block_read how_to_read(bool scan_block, std::size_t candidates, const read_costs& c) {
  if (scan_block || candidates > c.whole_block_candidates)
    return block_read::whole;
  return candidates > 0 ? block_read::packets : block_read::none;
}

read_plan plan_reads(const selection& sel, std::uint32_t blocks, std::uint32_t block_size, const read_costs& c) {
  read_plan plan;
  if (block_size == 0)
    return plan;
  const std::uint64_t limit = std::uint64_t{blocks} * block_size;
  auto add = [&](std::uint64_t offset, std::uint64_t length) {
    const std::uint64_t end = std::min(offset + length, limit);
    if (offset >= end)
      return;
    if (!plan.ranges.empty() && offset <= plan.ranges.back().end() + c.merge_gap) {
      read_range& last = plan.ranges.back();
      last.length = std::max(last.end(), end) - last.offset;
    } else {
      plan.ranges.push_back({offset, end - offset});
    }
  };
  const auto& pos = sel.positions;
  std::size_t p = 0;
  for (std::uint32_t b = 0; b < blocks; ++b) {
    const std::uint64_t start = std::uint64_t{b} * block_size, end = start + block_size;
    const std::size_t first = p;
    while (p < pos.size() && pos[p] < end)
      ++p;
    const bool scan_block = sel.every_block || (b < sel.blocks.size() && sel.blocks[b]);
    switch (how_to_read(scan_block, p - first, c)) {
      case block_read::none: break;
      case block_read::whole: add(start, block_size); break;
      case block_read::packets:
        add(start, io::marked_first_packet); // the header, checked before a packet of the block is believed
        for (std::size_t i = first; i < p; ++i)
          if (pos[i] >= start) // (a position before the block's: only in an unsorted selection)
            add(pos[i], std::min<std::uint64_t>(c.packet_bytes, end - pos[i]));
        break;
    }
  }
  for (const read_range& r : plan.ranges)
    plan.bytes += r.length;
  if (plan.ranges.size() > 1) {
    const std::uint64_t from = plan.ranges.front().offset, span = plan.ranges.back().end() - from;
    if (static_cast<double>(plan.bytes) >= c.scan_fraction * static_cast<double>(span)) {
      plan.ranges = {{from, span}};
      plan.bytes = span;
    }
  }
  plan.scan = plan.ranges.size() == 1 && plan.bytes >= 2 * std::uint64_t{block_size};
  return plan;
}

read_ahead::read_ahead(read_plan plan) : plan_(std::move(plan)) {
  before_.reserve(plan_.ranges.size());
  std::uint64_t sum = 0;
  for (const read_range& r : plan_.ranges) {
    before_.push_back(sum);
    sum += r.length;
  }
}

std::uint64_t read_ahead::planned_before(std::uint64_t offset) const {
  // The first range that ends after `offset`.
  const auto it = std::upper_bound(plan_.ranges.begin(), plan_.ranges.end(), offset,
                                   [](std::uint64_t o, const read_range& r) { return o < r.end(); });
  if (it == plan_.ranges.end())
    return plan_.bytes;
  const std::size_t i = static_cast<std::size_t>(it - plan_.ranges.begin());
  return before_[i] + (offset > it->offset ? offset - it->offset : 0);
}

} // namespace stenotype::query
