// index/part_set.hpp -- the index of the packet file still being written:
// the indexer's partial indexes (DIR/IDX<n>/.<id>.part-<a>-<b>, io/layout.hpp)
// read as one.
//
// Each part (index/flow_part.hpp) describes blocks [a, b) of the file (its
// block table has empty entries before a), written whole and then renamed,
// so a reader never sees one half written. Parts are used only as far as
// they chain from block 0 without a gap; what lies beyond is for the reader
// to scan. Positions of different parts lie in different blocks, so a key's
// positions are the parts' lists one after the other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "index/flow_part.hpp"

namespace stenotype::index {

class part_set {
public:
  /// Opens the parts of file `id` in `index_dir`. Throws a failure:
  /// not_found when a part listed a moment ago is gone (the file's full
  /// index replaced them: look again), damaged_index (one line, naming the
  /// part) when a part is unreadable or does not fit its name or the others.
  part_set(const std::string& index_dir, std::uint64_t id);
  part_set(part_set&&) noexcept = default;

  /// How many parts chain from block 0; 0: none (no summary then).
  std::size_t parts() const { return parts_.size(); }
  /// The merged summary and block table (blocks [0, summary().blocks)).
  const file_summary& summary() const { return summary_; }
  const std::vector<block_times>& blocks() const { return blocks_; }

  std::vector<std::uint32_t> lookup(std::string_view key) const;
  std::vector<std::uint32_t> lookup_range(std::string_view from, std::string_view to) const;
  /// Every attribute key (no metadata) with all its positions, in key order.
  void for_each_key(const std::function<void(std::string_view, const std::vector<std::uint32_t>&)>& fn) const;

private:
  std::vector<flow_part> parts_;
  file_summary summary_;
  std::vector<block_times> blocks_;
};

} // namespace stenotype::index
