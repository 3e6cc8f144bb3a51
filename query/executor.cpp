#include "query/executor.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <optional>
#include <queue>
#include <sys/stat.h>

#include "index/file_index.hpp"
#include "io/durable_extent.hpp"
#include "io/layout.hpp"
#include "io/packet_file_reader.hpp"
#include "query/evaluate.hpp"
#include "query/file_stream.hpp"
#include "query/lookahead.hpp"

namespace stenotype::query {
namespace {

// Whether something is at `p`, of any kind: an index that is there but is not
// a regular file, or cannot be reached, is a damaged index, not "no index".
bool present(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 || errno != ENOENT;
}

// Whether `e`, thrown while opening a file of the pair whose packet file is
// `packets`, means the pair was deleted after it was listed: the capture's
// retention deletes the oldest files, the packet file first.
bool deleted_meanwhile(const std::exception& e, const std::string& packets) {
  return code_of(e) == errc::not_found && !present(packets);
}

io::problem deleted_problem(const std::string& packets) {
  return {io::problem_kind::file_deleted, packets,
          packets + " was deleted after it was listed (the capture makes room for new packets); skipped"};
}

// Whether `dir` can be listed (list_directory says "empty" for both); `why`
// receives the reason when not.
bool can_list(const std::string& dir, std::string& why) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    why = std::strerror(errno);
    return false;
  }
  ::closedir(d);
  return true;
}

// A file without candidates is not opened, unless it holds whole blocks
// past those its index knows (their packets are unknown to the index).
bool holds_unindexed_blocks(const std::string& path, const index::file_summary& s) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0
         && static_cast<std::uint64_t>(st.st_size) >= (std::uint64_t{s.blocks} + 1) * s.block_size;
}

// A thread's files, listed twice and united: a rename (rotation) during a
// directory scan can hide both of a file's names from that scan, never from
// one that begins after the rename. A file listed under both names is
// complete.
struct thread_files {
  std::vector<std::uint64_t> complete, open; // ascending
};
thread_files list_thread(const std::string& pkt, bool open_files) {
  std::vector<io::file_name> all = io::list_files(pkt);
  if (open_files) {
    auto again = io::list_files(pkt);
    all.insert(all.end(), again.begin(), again.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
  }
  thread_files out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!all[i].hidden)
      out.complete.push_back(all[i].id);
    else if (open_files && (i == 0 || all[i - 1].id != all[i].id)) // (sorted: final before hidden)
      out.open.push_back(all[i].id);
  }
  return out;
}

struct candidate_file {
  std::string packets, index;
  std::optional<std::uint64_t> open_id; // a file still being written: its id
  std::string packet_dir, index_dir;    // of an open file
  bool index_present = false; // an index file is there (usable or not)
  bool indexed = false;
  std::uint64_t first_ns = 0;  // 0 when unknown (no summary, block 0 unreadable): opened first
  std::uint32_t block_size = 0;
  int thread = 0;              // the capture thread: DIR/PKT<thread>
};

// Phase 1's reads of one complete file (its index summary; without one,
// block 0's time), made on a lookahead thread and applied in order.
struct summary_look {
  bool opened = false;  // the index opened
  std::optional<index::file_summary> summary;
  bool deleted = false;    // the pair went meanwhile (retention)
  bool index_gone = false; // only the index went
  std::string error;       // why the index did not open
  std::optional<std::uint64_t> block0_ns;
};
summary_look look_at(const candidate_file& f) {
  summary_look l;
  if (f.open_id)
    return l;
  if (f.index_present) {
    try {
      const index::file_index idx{f.index, /*verify=*/false, io::links::refuse}; // blocks are checked as read
      l.opened = true;
      if (const auto* s = idx.summary())
        l.summary = *s;
    } catch (const std::exception& e) {
      l.deleted = deleted_meanwhile(e, f.packets);
      l.index_gone = !l.deleted && code_of(e) == errc::not_found;
      l.error = e.what();
    }
  }
  if (!l.summary && !l.deleted)
    l.block0_ns = io::first_block_time_ns(f.packets, io::links::refuse);
  return l;
}

// Threads reading index summaries at once, and preparing files ahead of the
// merge (query/lookahead.hpp): each mostly waits for the disk.
constexpr std::size_t summary_threads = 8;
constexpr std::size_t prepare_threads = 4;
// Files prepared ahead of the merge: enough to keep the disk busy with a
// selective query's reads; few enough that a broad query's first windows
// (read_costs::first_window_bytes each) stay small.
constexpr std::size_t prepare_depth = 8;

// The next packet of an open file, ordered for the merge.
struct active {
  std::unique_ptr<file_stream> stream;
  std::uint64_t ts;
  std::size_t order; // tie-break: file order
  int thread;        // of its file
};
struct later {
  bool operator()(const active* a, const active* b) const {
    return a->ts != b->ts ? a->ts > b->ts : a->order > b->order;
  }
};

// The stream of a file that was still being written when listed: through
// its durable extent and partial indexes while it is, as a complete file
// once it is (rotated since: then its full index, or while that is not yet
// published, its parts). nullptr when nothing of it is durable yet. Every
// race with the capture ends in one of these cases: the file is looked at
// again, under whichever name it now has (a few times: the capture rotates
// a file at most once a second).
std::unique_ptr<file_stream> open_fresh(const candidate_file& f, const node_ptr& q, const io::problem_sink& note,
                                        run_stats& stats) {
  const std::uint64_t id = *f.open_id;
  const std::string hidden = f.packet_dir + "/" + io::hidden_name(id), final = f.packet_dir + "/" + io::final_name(id);
  const std::string full_index = f.index_dir + "/" + io::final_name(id);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool complete = present(final);
    stream_limits limits;
    limits.partial_index = true;
    if (!complete) {
      const io::extent_reading r = io::read_extent(f.packet_dir, id);
      if (r.s == io::extent_reading::state::damaged) {
        note({io::problem_kind::file_unreadable, hidden,
              f.packet_dir + "/" + io::extent_name(id) + " is damaged: the packets of " + hidden
                + " are missing until it is complete"});
        return nullptr;
      }
      if (r.s == io::extent_reading::state::absent) {
        if (present(final))
          continue; // completed meanwhile
        return nullptr; // no write completed yet (or a file of a capture without fresh queries)
      }
      if (r.extent.bytes == 0)
        return nullptr;
      limits.readable_bytes = r.extent.bytes;
    }
    std::optional<index::file_index> idx;
    try {
      if (present(full_index))
        idx.emplace(full_index, /*verify=*/false, io::links::refuse);
      else if (index::part_set parts{f.index_dir, id}; parts.parts() > 0)
        idx.emplace(std::move(parts));
    } catch (const std::exception& e) {
      if (code_of(e) == errc::not_found)
        continue; // parts replaced by the full index meanwhile
      note({io::problem_kind::index_unusable, f.index_dir, std::string(e.what()) + "; reading " + hidden + " whole"});
      idx.reset();
    }
    std::optional<selection> sel;
    std::optional<index::file_summary> summary;
    if (idx) {
      sel = select(*q, *idx);
      if (idx->summary())
        summary = *idx->summary();
    }
    try {
      auto stream = std::make_unique<file_stream>(complete ? final : hidden, summary ? &*summary : nullptr,
                                                  std::move(sel), q, note, limits);
      ++stats.open_files;
      return stream;
    } catch (const std::exception& e) {
      if (code_of(e) != errc::not_found)
        throw;
      if (complete && !present(final))
        return nullptr; // deleted: reported by the caller's deleted_meanwhile
      // renamed between the look and the open: look again
    }
  }
  note({io::problem_kind::file_unreadable, hidden, hidden + " changed under every attempt to read it; its packets are missing"});
  return nullptr;
}

// A complete file warmed up for the merge, on a lookahead thread: its index
// opened and its candidates selected, its read plan's first reads asked of
// the disk. Only a head start: the merge opens the file itself when it
// reaches it, as if nothing had been prepared (so a file deleted, replaced
// or left without its index meanwhile is found so, and reported, by the
// merge); it just finds the index's answer here and the packets in the
// page cache or on their way.
struct prepared_file {
  bool selected = false; // the index answered: sel, summary
  std::optional<selection> sel;
  std::optional<index::file_summary> summary;
};

// Never throws: what goes wrong is found again, and reported, by the merge.
prepared_file prepare(const candidate_file& f, const node_ptr& q) {
  prepared_file out;
  if (f.open_id || !f.indexed)
    return out;
  try {
    const index::file_index idx{f.index, /*verify=*/false, io::links::refuse};
    out.sel = select(*q, idx);
    if (idx.summary())
      out.summary = *idx.summary();
    out.selected = true;
  } catch (const std::exception&) {
    return {};
  }
  try {
    if (!out.sel->empty()) // (a file opened to ask for its reads ahead, then closed: the page cache keeps them)
      file_stream warm_up(f.packets, out.summary ? &*out.summary : nullptr, *out.sel, q, [](const io::problem&) {});
  } catch (const std::exception&) {
  }
  return out;
}

} // namespace

run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&)>& emit,
                    const io::problem_sink& report) {
  return run_query(dir, q, emit, report, run_options{});
}

run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&)>& emit,
                    const io::problem_sink& report, const run_options& options) {
  return run_query(dir, q, [&](const io::packet_ref& p, int) { return emit(p); }, report, options);
}

run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&, int thread)>& emit,
                    const io::problem_sink& report, const run_options& options) {
  run_stats stats;
  const io::problem_sink note = [&](const io::problem& p) {
    stats.problems.add(p);
    if (p.kind == io::problem_kind::index_missing || p.kind == io::problem_kind::index_unusable)
      ++stats.scanned_unindexed;
    report(p);
  };
  const time_bounds tb = bounds_of(*q);
  std::vector<candidate_file> files;

  // 1. Complete files, pruned by time without opening anything where possible.
  // "Found nothing" must not be confused with "could not look": a directory
  // that cannot be read, or is not a data directory, is reported as such.
  std::string why;
  if (!can_list(dir, why)) {
    note({io::problem_kind::not_a_data_directory, dir, "cannot read data directory " + dir + ": " + why});
    return stats;
  }
  const std::vector<int> threads = io::list_threads(dir);
  if (threads.empty()) {
    note({io::problem_kind::not_a_data_directory, dir,
          dir + " holds no PKT<n> folder: not a stenotype data directory"});
    return stats;
  }
  std::size_t unreadable_threads = 0;
  for (const int t : threads) {
    const std::string pkt = io::packet_dir(dir, t), idx = io::index_dir(dir, t);
    if (!can_list(pkt, why)) {
      ++unreadable_threads;
      note({io::problem_kind::folder_unreadable, pkt, "cannot read " + pkt + ": " + why + "; its packets are missing"});
      continue;
    }
    const thread_files listed = list_thread(pkt, options.open_files);
    const auto& ids = listed.complete;
    for (const std::uint64_t id : listed.open) {
      // Its first block may have filled for up to --blockage_sec before the
      // file was created, but after the thread's previous file was: that
      // file's creation bounds its packets' times from below (1 s of slack
      // for the two clocks), and orders it in the merge.
      const auto before = std::lower_bound(ids.begin(), ids.end(), id);
      const std::uint64_t prev_ns = before == ids.begin() ? 0 : *std::prev(before) * 1000;
      const std::uint64_t first_ns = prev_ns > 1'000'000'000 ? prev_ns - 1'000'000'000 : 1;
      if (first_ns >= tb.hi)
        continue;
      candidate_file f;
      f.thread = t;
      f.open_id = id;
      f.packets = pkt + "/" + io::hidden_name(id);
      f.packet_dir = pkt;
      f.index_dir = idx;
      f.first_ns = first_ns;
      files.push_back(std::move(f));
    }
    // The thread's complete files not pruned by their names; their index
    // summaries (and, without one, block 0's time) are read on a few threads
    // at once -- each a few cold random reads -- and applied in order.
    std::vector<candidate_file> listed_files;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ++stats.files;
      // Every packet of a file was captured before the thread's next file
      // was created (1 s of slack for the two clocks).
      if (i + 1 < ids.size() && (ids[i + 1] + 1000000) * 1000 < tb.lo) {
        ++stats.pruned;
        continue;
      }
      candidate_file f;
      f.thread = t;
      f.packets = pkt + "/" + io::final_name(ids[i]);
      f.index = idx + "/" + io::final_name(ids[i]);
      f.index_present = present(f.index);
      if (!f.index_present && options.open_files && i + 1 == ids.size() && !io::list_companions(idx, ids[i]).empty()) {
        // Just rotated, its index not yet published: its parts still answer.
        f.open_id = ids[i];
        f.packet_dir = pkt;
        f.index_dir = idx;
        f.first_ns = 1;
      }
      listed_files.push_back(std::move(f));
    }
    std::vector<summary_look> looks(listed_files.size());
    lookahead looking(listed_files.size(), listed_files.size(), std::min<std::size_t>(summary_threads, listed_files.size() / 2),
                      [&](std::size_t i) { looks[i] = look_at(listed_files[i]); });
    for (std::size_t i = 0; i < listed_files.size(); ++i) {
      looking.wait(i);
      candidate_file& f = listed_files[i];
      const summary_look& l = looks[i];
      if (f.open_id) {
        files.push_back(std::move(f));
        continue;
      }
      if (f.index_present) {
        if (l.opened) {
          if (const auto& s = l.summary) {
            if (s->packets == 0 || s->last_ns < tb.lo || s->first_ns >= tb.hi) {
              ++stats.pruned;
              continue;
            }
            f.first_ns = s->first_ns;
            f.block_size = s->block_size;
          }
          f.indexed = true;
        } else if (l.deleted) {
          ++stats.skipped_deleted;
          note(deleted_problem(f.packets));
          continue;
        } else if (l.index_gone) {
          f.index_present = false; // only the index went: read whole, reported as without index
        } else {
          note({io::problem_kind::index_unusable, f.index, l.error + "; reading the packet file whole"});
        }
      } // no index: reported when the packet file is opened, with how it is cut into blocks
      if (f.first_ns == 0) {
        // No summary (a stenographer index, or none): the time the kernel
        // opened block 0 orders the merge, so that such files open one after
        // another and not all at once. A packet can be stamped a little
        // before its block opened (the stamp is taken on receipt): 1 s of
        // slack, as for file names above.
        if (l.block0_ns && *l.block0_ns > 1'000'000'000)
          f.first_ns = *l.block0_ns - 1'000'000'000;
        // Pruned by it only when its index is a stenographer one, which
        // knows no times: a file without an index (imported from a pcap
        // out of time order, say) is read whatever its block 0 says.
        if (f.indexed && f.first_ns >= tb.hi) {
          ++stats.pruned;
          continue;
        }
      }
      files.push_back(std::move(f));
    }
  }
  if (unreadable_threads == threads.size())
    note({io::problem_kind::not_a_data_directory, dir, "none of the PKT<n> folders of " + dir + " could be read"});
  std::stable_sort(files.begin(), files.end(),
                   [](const candidate_file& a, const candidate_file& b) { return a.first_ns < b.first_ns; });

  // 2. Merge: open a file when the merge reaches its first packet's time.
  // Complete files are warmed up ahead of that on a few threads (their
  // index's answer, their first reads asked of the disk: prepare above).
  std::vector<std::unique_ptr<active>> storage;
  std::priority_queue<active*, std::vector<active*>, later> heap;
  std::vector<prepared_file> prepared(files.size());
  lookahead preparing(files.size(), prepare_depth, std::min<std::size_t>(prepare_threads, files.size() / 2),
                      [&](std::size_t i) { prepared[i] = prepare(files[i], q); });
  std::size_t next_file = 0;
  auto open_next = [&] {
    const candidate_file& f = files[next_file];
    const std::size_t order = next_file++;
    preparing.wait(order);
    // A stream joins the merge at its first packet; one with none is done.
    auto join = [&](std::unique_ptr<file_stream> stream) {
      if (!stream || !stream->next())
        return;
      auto a = std::make_unique<active>();
      a->stream = std::move(stream);
      a->order = order;
      a->thread = f.thread;
      a->ts = a->stream->current_ts_ns();
      heap.push(a.get());
      storage.push_back(std::move(a));
    };
    // A file that cannot be read: deleted meanwhile (retention) or damaged.
    auto skip = [&](const std::exception& e) {
      if (deleted_meanwhile(e, f.packets)) {
        ++stats.skipped_deleted;
        note(deleted_problem(f.packets));
        return;
      }
      ++stats.skipped_damaged;
      note({io::problem_kind::file_unreadable, f.packets, std::string(e.what()) + "; its packets are missing"});
    };
    if (f.open_id) {
      try {
        join(open_fresh(f, q, note, stats));
      } catch (const std::exception& e) {
        skip(e);
      }
      return;
    }
    try {
      std::optional<selection> sel; // none: every packet is a candidate
      std::optional<index::file_summary> summary;
      bool index_gone = !f.index_present;
      prepared_file& p = prepared[order];
      if (p.selected && present(f.index)) {
        sel = std::move(p.sel);
        summary = p.summary;
      } else if (f.indexed) {
        try {
          const index::file_index idx{f.index, /*verify=*/false, io::links::refuse};
          sel = select(*q, idx);
          if (idx.summary())
            summary = *idx.summary();
        } catch (const std::exception& e) {
          // Gone since the pruning: the packet file tells whether both went.
          index_gone = code_of(e) == errc::not_found;
          if (!index_gone)
            note({io::problem_kind::index_unusable, f.index, std::string(e.what()) + "; reading the packet file whole"});
          sel.reset();
        }
      }
      // (A stenographer index has no block count: it covers its whole file.)
      if (sel && sel->empty() && (!summary || !holds_unindexed_blocks(f.packets, *summary)))
        return;
      auto stream = std::make_unique<file_stream>(f.packets, summary ? &*summary : nullptr, std::move(sel), q, note);
      if (index_gone)
        note({io::problem_kind::index_missing, f.packets,
              "no index for " + f.packets + "; read whole, in " + io::describe(stream->layout())
                + " (rebuild it with stenoindex)"});
      join(std::move(stream));
    } catch (const std::exception& e) {
      skip(e);
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
    if (!emit(a->stream->current(), a->thread))
      return stats;
    ++stats.packets;
    if (a->stream->next()) {
      a->ts = a->stream->current_ts_ns();
      heap.push(a);
    } else { // (the stream has reported what it could not deliver)
      storage.erase(std::find_if(storage.begin(), storage.end(),
                                 [&](const auto& p) { return p.get() == a; }));
    }
  }
  return stats;
}

} // namespace stenotype::query
