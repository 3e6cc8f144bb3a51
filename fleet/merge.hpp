// fleet/merge.hpp -- k-way merge by time across sensors.
//
// Each sensor's answer is already in time order; the merged answer takes
// the earliest head among them: a binary heap of one entry per sensor, so
// a packet costs O(log k) comparisons and the merge holds no packets of
// its own. Equal timestamps go in sensor order (the order given), and
// within a sensor in its own order: the answer is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <vector>

namespace stenotype::fleet {

class time_merge {
public:
  /// Source `source`'s next packet is stamped `ts_ns`.
  void push(std::size_t source, std::uint64_t ts_ns) { heap_.push({ts_ns, source}); }
  bool empty() const { return heap_.empty(); }
  /// The source whose head is earliest; removed: push it again with its next stamp.
  std::size_t pop() {
    const std::size_t s = heap_.top().source;
    heap_.pop();
    return s;
  }

private:
  struct head {
    std::uint64_t ts;
    std::size_t source;
  };
  struct later {
    bool operator()(const head& a, const head& b) const { return a.ts != b.ts ? a.ts > b.ts : a.source > b.source; }
  };
  std::priority_queue<head, std::vector<head>, later> heap_;
};

} // namespace stenotype::fleet
