// io/read_problem.hpp -- what can keep a reader (stenoread, stenocat) from
// giving every packet it should, and what that means for its exit status.
//
// Problems are values with a kind, so that an exit status is computed from
// kinds and never from the wording of a message. docs/OPERATIONS.md
// ("Exit codes and warnings") explains every kind to the user.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stenotype::io {

enum class problem_kind : std::uint8_t {
  // The answer is still complete: a slower way was taken.
  index_missing,  ///< a packet file has no index: it was read whole
  index_unusable, ///< its index is damaged, of another version, or does not fit the file: read whole
  index_short,    ///< its index covers fewer blocks than the file holds: the others were read whole
  file_deleted,   ///< a listed packet file was deleted before it could be opened (retention makes room): skipped
  // Packets may be missing from the answer.
  file_unreadable,   ///< a packet file could not be opened or read (permission, not a regular file, I/O error)
  file_truncated,    ///< a packet file is shorter than its index says, or ends inside a block
  block_damaged,     ///< blocks whose header, mark or packet chain does not hold: skipped
  packets_missing,   ///< index positions that held no packet: the index does not fit the file
  folder_unreadable, ///< a PKT<n> folder could not be listed
  // Nothing could be looked at.
  not_a_data_directory, ///< --dir cannot be read or holds no readable PKT<n> folder
};

struct problem {
  problem_kind kind;
  std::string file; ///< the file or directory concerned
  std::string text; ///< one line for the user; names the file
};

using problem_sink = std::function<void(const problem&)>;

/// The readers' exit statuses (docs/OPERATIONS.md, docs/man/stenoread.1, stenocat.1).
namespace exit_status {
inline constexpr int complete = 0;      ///< the whole answer, possibly empty
inline constexpr int output_failed = 1; ///< the output could not be written
inline constexpr int usage = 2;         ///< bad command line or query
inline constexpr int incomplete = 3;    ///< some data could not be read; warnings name it
inline constexpr int not_read = 4;      ///< nothing could be looked at
} // namespace exit_status

/// The exit status that a problem of this kind implies.
constexpr int exit_status_of(problem_kind k) {
  switch (k) {
    case problem_kind::index_missing:
    case problem_kind::index_unusable:
    case problem_kind::index_short:
    case problem_kind::file_deleted: // the answer is complete for what the directory holds
      return exit_status::complete;
    case problem_kind::not_a_data_directory:
      return exit_status::not_read;
    default:
      return exit_status::incomplete;
  }
}

/// The problems of a run, in the order found, and the exit status they make
/// (complete, incomplete or not_read; a failed output is the caller's to add).
struct problem_list {
  std::vector<problem> all;

  void add(const problem& p) { all.push_back(p); }
  int exit_status() const {
    int worst = exit_status::complete;
    for (const auto& p : all)
      worst = std::max(worst, exit_status_of(p.kind));
    return worst;
  }
};

} // namespace stenotype::io
