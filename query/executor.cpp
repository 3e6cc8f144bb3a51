#include "query/executor.hpp"

#include <algorithm>
#include <memory>
#include <queue>
#include <sys/stat.h>

#include "index/index_file.hpp"
#include "io/layout.hpp"
#include "io/packet_file_reader.hpp"
#include "query/evaluate.hpp"
#include "query/file_stream.hpp"

namespace stenotype::query {
namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

struct candidate_file {
  std::string packets, index;
  bool indexed = false;
  std::uint64_t first_ns = 0;  // 0 when unknown (no index): opened first
  std::uint32_t block_size = 0;
};

// The next packet of an open file, ordered for the merge.
struct active {
  std::unique_ptr<file_stream> stream;
  std::uint64_t ts;
  std::size_t order; // tie-break: file order
};
struct later {
  bool operator()(const active* a, const active* b) const {
    return a->ts != b->ts ? a->ts > b->ts : a->order > b->order;
  }
};

} // namespace

run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&)>& emit,
                    const std::function<void(errc, const std::string&)>& warn) {
  run_stats stats;
  const time_bounds tb = bounds_of(*q);
  std::vector<candidate_file> files;

  // 1. Complete files, pruned by time without opening anything where possible.
  for (const int t : io::list_threads(dir)) {
    const std::string pkt = io::packet_dir(dir, t), idx = io::index_dir(dir, t);
    const auto ids = io::list_final_ids(pkt); // hidden files are still being written
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ++stats.files;
      // Every packet of a file was captured before the thread's next file
      // was created (1 s of slack for the two clocks).
      if (i + 1 < ids.size() && (ids[i + 1] + 1000000) * 1000 < tb.lo) {
        ++stats.pruned;
        continue;
      }
      candidate_file f;
      f.packets = pkt + "/" + io::final_name(ids[i]);
      f.index = idx + "/" + io::final_name(ids[i]);
      if (exists(f.index)) {
        try {
          index::index_reader idx{f.index, /*verify=*/false}; // blocks are checked as read
          const auto& s = idx.summary();
          if (s.packets == 0 || s.last_ns < tb.lo || s.first_ns >= tb.hi) {
            ++stats.pruned;
            continue;
          }
          f.indexed = true;
          f.first_ns = s.first_ns;
          f.block_size = s.block_size;
        } catch (const std::exception& e) {
          warn(code_of(e), std::string(e.what()) + "; scanning the packet file instead");
        }
      } else {
        warn(errc::not_found, "no index for " + f.packets + "; scanning it (rebuild with stenoindex)");
      }
      if (!f.indexed)
        ++stats.scanned_unindexed;
      files.push_back(std::move(f));
    }
  }
  std::stable_sort(files.begin(), files.end(),
                   [](const candidate_file& a, const candidate_file& b) { return a.first_ns < b.first_ns; });

  // 2. Merge: open a file when the merge reaches its first packet's time.
  std::vector<std::unique_ptr<active>> storage;
  std::priority_queue<active*, std::vector<active*>, later> heap;
  std::size_t next_file = 0;
  auto open_next = [&] {
    const candidate_file& f = files[next_file];
    const std::size_t order = next_file++;
    try {
      selection sel;
      std::uint32_t bs = f.block_size;
      bool scan = !f.indexed;
      if (f.indexed) {
        try {
          index::index_reader idx{f.index, /*verify=*/false};
          sel = select(*q, idx);
        } catch (const std::exception& e) {
          warn(code_of(e), std::string(e.what()) + "; scanning the packet file instead");
          ++stats.scanned_unindexed;
          scan = true;
        }
      }
      if (scan) {
        io::packet_file_reader probe{f.packets};
        bs = static_cast<std::uint32_t>(probe.block_size());
        sel = select_all(static_cast<std::uint32_t>((probe.file_size() + bs - 1) / bs));
      }
      if (sel.empty())
        return;
      auto a = std::make_unique<active>();
      a->stream = std::make_unique<file_stream>(f.packets, bs, std::move(sel), q);
      a->order = order;
      if (!a->stream->next())
        return;
      a->ts = a->stream->current_ts_ns();
      heap.push(a.get());
      storage.push_back(std::move(a));
    } catch (const std::exception& e) {
      ++stats.skipped_damaged;
      warn(code_of(e), std::string(e.what()) + "; skipped");
    }
  };
  while (next_file < files.size() || !heap.empty()) {
    if (heap.empty()) {
      open_next();
      continue;
    }
    const std::uint64_t frontier = heap.top()->ts;
    if (next_file < files.size() && files[next_file].first_ns <= frontier) {
      open_next();
      continue;
    }
    active* a = heap.top();
    heap.pop();
    if (!emit(a->stream->current()))
      return stats;
    ++stats.packets;
    if (a->stream->next()) {
      a->ts = a->stream->current_ts_ns();
      heap.push(a);
    } else {
      if (a->stream->bad_positions())
        warn(errc::damaged_packet_file, a->stream->path() + ": " + std::to_string(a->stream->bad_positions())
             + " index positions did not hold a packet (damaged file or index?)");
      storage.erase(std::find_if(storage.begin(), storage.end(),
                                 [&](const auto& p) { return p.get() == a; }));
    }
  }
  return stats;
}

} // namespace stenotype::query
