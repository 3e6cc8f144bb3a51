// io/layout.hpp -- the data directory: where each file goes, what it is
// called, and how a finished file becomes visible.
//
//   DIR/PKT<n>/<micros>    packet files of capture thread n
//   DIR/IDX<n>/<micros>    their indexes, under the same name
//   .<micros>              either, while it is being written (hidden)
//
// and, for the file still being written (fresh queries, docs/FILE_FORMAT.md):
//
//   DIR/PKT<n>/.<micros>.extent          how much of it is durable (io/durable_extent.hpp)
//   DIR/IDX<n>/.<micros>.part-<a>-<b>    the index of its blocks [a, b)
//   DIR/IDX<n>/.<micros>.part-new        such a part while it is written
//
// These companions are hidden (Google's server skips and, before it starts a
// capture, deletes names starting with '.'), are never listed as files, and
// go when their file is complete (or, after a crash, at recovery).
//
// A name is ours only if it is exactly what we write: the decimal digits of
// a 64-bit id without leading zeros, or '.' and those. Anything else in the
// directory (".keep", a ".snapshot" folder, "00001") belongs to someone else
// and is neither listed nor touched. Writer, indexer, recovery, import,
// stenoindex and the query executor all name, list and publish files here,
// so they agree on what a crash can leave and on what a reader may trust:
// a final name means a complete, durable file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stenotype::io {

/// "DIR/PKT<thread>" and "DIR/IDX<thread>".
std::string packet_dir(const std::string& dir, int thread);
std::string index_dir(const std::string& dir, int thread);

/// The name while being written, and once complete.
std::string hidden_name(std::uint64_t id);
std::string final_name(std::uint64_t id);
/// The hidden name of any final name (stenoindex --output writes anywhere).
std::string hidden_name(std::string_view final);

/// The id a name stands for, if it is exactly what final_name / hidden_name
/// write; nothing for any other name.
std::optional<std::uint64_t> parse_final_name(std::string_view name);
std::optional<std::uint64_t> parse_hidden_name(std::string_view name);

/// The companions of the open file `id` (see above).
std::string extent_name(std::uint64_t id);
std::string part_name(std::uint64_t id, std::uint32_t first_block, std::uint32_t end_block);
std::string part_draft_name(std::uint64_t id);

struct companion_name {
  enum class kind { extent, part, part_draft };
  kind k = kind::extent;
  std::uint64_t id = 0;
  std::uint32_t first_block = 0, end_block = 0; ///< parts only: blocks [first, end), first < end
  std::string name() const;
  auto operator<=>(const companion_name&) const = default;
};

/// The companion a name stands for, if it is exactly what the functions
/// above write; nothing for any other name.
std::optional<companion_name> parse_companion_name(std::string_view name);

/// The companions in `dir`, by id, then kind, then first block; those of
/// file `id` only if given. Empty when `dir` cannot be read.
std::vector<companion_name> list_companions(const std::string& dir, std::optional<std::uint64_t> id = {});

/// DIR/PKT<n>/<name> -> DIR/IDX<n>/<name>; empty if `packet_path` is not in a PKT<n> folder.
std::string index_path_for(const std::string& packet_path);

/// One of our files in a PKT<n> or IDX<n> folder.
struct file_name {
  std::uint64_t id = 0;
  bool hidden = false;
  std::string name() const { return hidden ? hidden_name(id) : final_name(id); }
  auto operator<=>(const file_name&) const = default;
};

/// Our files in `dir`, in time order: by id, for one id the final name before
/// the hidden one. Foreign names are left out. Empty when `dir` does not exist.
std::vector<file_name> list_files(const std::string& dir);

/// The ids of the complete (final-named) files in `dir`, ascending.
std::vector<std::uint64_t> list_final_ids(const std::string& dir);

/// The capture threads that have a packet folder DIR/PKT<n>, ascending.
std::vector<int> list_threads(const std::string& dir);

/// Every name in `dir` but "." and "..", sorted, ours or not (tools and tests
/// that look at everything); empty when `dir` cannot be read.
std::vector<std::string> list_names(const std::string& dir);

/// Whether anything exists at `path`.
bool exists(const std::string& path);

/// mkdir -p with mode 0700; throws std::runtime_error naming the path.
void make_directories(const std::string& path);

/// Makes the complete file `hidden` in directory `dir` durable and visible as
/// `final`: fsyncs the file, renames it, and fsyncs the directory so that the
/// new name survives a crash. Throws std::runtime_error naming the file and
/// the reason when any step fails (the file then keeps its hidden name, or,
/// if only the directory sync failed, has its final name but may lose it in
/// a crash). `dir_fd` is `dir` opened by the caller (O_DIRECTORY), or -1 to
/// open it here.
void publish(int dir_fd, const std::string& dir, std::string_view hidden, std::string_view final);
inline void publish(const std::string& dir, std::string_view hidden, std::string_view final) {
  publish(-1, dir, hidden, final);
}

} // namespace stenotype::io
