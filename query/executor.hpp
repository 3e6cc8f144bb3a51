// query/executor.hpp -- a query over a whole data directory, as pcap.
//
// Files are pruned by time (file names, then index summaries), candidates
// come from each file's index, and the matching packets of all threads'
// files are merged by timestamp into one stream. Memory is bounded by the
// files open at once (those overlapping the merge's current time), not by
// the size of the result.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "io/pcap_writer.hpp"
#include "io/read_problem.hpp"
#include "query/query.hpp"
#include "stenotype/error.hpp"

namespace stenotype::query {

struct run_stats {
  std::uint64_t files = 0;            ///< complete packet files found
  std::uint64_t open_files = 0;       ///< files still being written, read as far as they are durable
  std::uint64_t pruned = 0;           ///< skipped by their time range
  std::uint64_t scanned_unindexed = 0; ///< read whole: index missing or unusable
  std::uint64_t skipped_damaged = 0;  ///< unreadable packet files
  std::uint64_t skipped_deleted = 0;  ///< deleted between listing and opening (retention)
  std::uint64_t packets = 0;          ///< written
  io::problem_list problems;          ///< everything that was not read, or read the slow way
};

/// What a query reads besides the complete files.
struct run_options {
  /// The file each capture thread is still writing, as far as its writes
  /// completed (its durable extent), through its partial indexes and a scan
  /// of the blocks they do not cover yet (docs/ARCHITECTURE.md, "Fresh
  /// packets"). A packet is then found about --blockage_sec + 1 s after
  /// capture instead of after its file's rotation.
  bool open_files = true;
};

/// Runs `q` over DIR/PKT<n>/ (complete files, and with `options.open_files`
/// the files still being written) and calls `emit` for each matching packet
/// in time order. `report` receives every problem as it is
/// found: what could not be looked at, what the indexes promise and the
/// files do not hold, slower ways taken (io/read_problem.hpp); the result
/// lists them all, and its problems' exit_status() says whether the answer is
/// complete. `emit` returns false to stop early.
run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&)>& emit,
                    const io::problem_sink& report);
run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&)>& emit,
                    const io::problem_sink& report, const run_options& options);
/// The same, telling `emit` also the capture thread (DIR/PKT<thread>) each
/// packet was read from: a fleet sensor names it in the answer (pcapng
/// interfaces per sensor and thread).
run_stats run_query(const std::string& dir, const node_ptr& q,
                    const std::function<bool(const io::packet_ref&, int thread)>& emit,
                    const io::problem_sink& report, const run_options& options);

} // namespace stenotype::query
