// store/retention.hpp -- the file-system side of retention: what is on disk,
// how full each filesystem is, and deleting a file so that a crash at any
// moment leaves nothing a reader trips over.
//
// Only names this program writes are ever touched: the thread directories
// PKT<n>/IDX<n> and, inside them, file names that are exactly a decimal
// u64 without leading zeros. Dot-files (the capture's hidden files, or an
// operator's) and anything else are foreign and left alone.
//
// These calls block, a deletion of a 4 GiB file on ext4 for a long time:
// they run on the retention actor's thread (or at start-up), never on a
// writer's or a reader's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/retention_policy.hpp"

namespace stenotype::store {


/// What a data directory holds, as retention sees it.
struct data_dir_scan {
  std::vector<int> threads;                  ///< n of every PKT<n> or IDX<n>, ascending
  std::vector<retained_file> files;          ///< complete packet files of all threads
  std::vector<filesystem_space> filesystems; ///< each distinct filesystem of those directories
  std::vector<int> orphan_index_threads;     ///< threads with an index whose packet file is gone
  std::map<std::uint64_t, std::string> directory_on; ///< a thread directory on each device, for messages
};

/// Lists DIR's thread directories, their complete packet files (with the
/// published index's size, if any) and statvfs of each distinct filesystem
/// (by st_dev). A file that vanishes during the scan is left out; on other
/// errors it throws std::runtime_error naming the path.
///
/// Scans repeat every few seconds over up to max_directory_files files per
/// thread, so the scanner remembers what it stat'ed: a complete file never
/// changes, and one whose name and inode are still listed is not stat'ed
/// again. A scan of an unchanged directory costs its listing and statvfs.
class data_dir_scanner {
public:
  explicit data_dir_scanner(std::string dir) : dir_(std::move(dir)) {}
  data_dir_scan scan();

private:
  struct known {
    std::uint64_t packet_inode = 0, index_inode = 0; // index_inode 0: none seen
    retained_file file;
  };
  std::string dir_;
  std::map<std::pair<int, std::uint64_t>, known> known_; // (thread, id)
};

/// One scan, nothing remembered.
inline data_dir_scan scan_data_dir(const std::string& dir) { return data_dir_scanner{dir}.scan(); }

/// Space of the filesystem holding `path`; throws std::runtime_error.
filesystem_space filesystem_space_of(const std::string& path);

/// Device (st_dev) of `path`; throws std::runtime_error.
std::uint64_t device_of(const std::string& path);

struct deletion_result {
  bool packet_removed = false; ///< false: it was already gone (ENOENT)
  bool index_removed = false;
};

/// Deletes DIR/PKT<thread>/<id>, then DIR/IDX<thread>/<id>, each followed by
/// an fsync of its directory. Readers list PKT<n>, so an index without its
/// packet file is never consulted; the packet file's removal is durable
/// before the index's, so a crash leaves at most such an orphan index
/// (remove_orphan_indexes), never a packet file that lost its index.
/// ENOENT is not an error (someone else, e.g. stenographer's server,
/// deleted it). Throws std::runtime_error naming the path on any other failure.
deletion_result delete_file(const std::string& dir, int thread, std::uint64_t id);

/// Removes every final index DIR/IDX<thread>/<id> whose packet file is gone
/// (a deletion cut short, or a packet file deleted before its index was
/// published); returns their ids, ascending. Safe while capturing: an index
/// is published only after its packet file, so an index listed before the
/// packet directory and missing from it has lost its packet file for good.
/// Throws std::runtime_error naming the path on failure.
std::vector<std::uint64_t> remove_orphan_indexes(const std::string& dir, int thread);

/// Capture time (seconds) of the first packet of a packet file, from its
/// first block header; nothing if the file is gone or does not start with
/// a valid block.
std::optional<std::uint32_t> first_packet_second(const std::string& packet_file);

} // namespace stenotype::store
