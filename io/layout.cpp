// io/layout.cpp -- see layout.hpp.
#include "io/layout.hpp"

#include "stenotype/error.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace stenotype::io {
namespace {

constexpr std::string_view packet_prefix = "PKT", index_prefix = "IDX"; // + thread number

// The one place this module reports a failed system call: "<what> <path>: <reason>".
[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw failure(errc_from_errno(err), what + " " + path + ": " + std::strerror(err));
}

std::string join(const std::string& dir, std::string_view name) {
  std::string path = dir;
  path += '/';
  path += name;
  return path;
}

// Closes `fd`, keeping the first error: a failed close can be the only
// report of a failed write-back on some filesystems.
int close_keeping(int fd, int err) {
  if (::close(fd) != 0 && err == 0)
    return errno;
  return err;
}

} // namespace

std::string packet_dir(const std::string& dir, int thread) {
  return join(dir, packet_prefix) + std::to_string(thread);
}
std::string index_dir(const std::string& dir, int thread) {
  return join(dir, index_prefix) + std::to_string(thread);
}
std::string hidden_name(std::uint64_t id) { return hidden_name(final_name(id)); }
std::string final_name(std::uint64_t id) { return std::to_string(id); }
std::string hidden_name(std::string_view final) {
  std::string name(1, '.'); // not "." + std::string: g++ 12 warns falsely (-Wrestrict)
  name += final;
  return name;
}

std::optional<std::uint64_t> parse_final_name(std::string_view name) {
  // Exactly std::to_string's output: digits, no sign, no leading zero.
  if (name.empty() || (name[0] == '0' && name.size() > 1)
      || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc{} || end != name.data() + name.size())
    return std::nullopt; // out of range
  return id;
}

namespace {
constexpr std::string_view extent_suffix = ".extent", part_infix = ".part-", draft_suffix = ".part-new";

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  const auto v = parse_final_name(text);
  if (!v || *v > UINT32_MAX)
    return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}
} // namespace

std::string extent_name(std::uint64_t id) { return hidden_name(id) + std::string(extent_suffix); }
std::string part_name(std::uint64_t id, std::uint32_t first_block, std::uint32_t end_block) {
  return hidden_name(id) + std::string(part_infix) + std::to_string(first_block) + "-" + std::to_string(end_block);
}
std::string part_draft_name(std::uint64_t id) { return hidden_name(id) + std::string(draft_suffix); }

std::string companion_name::name() const {
  switch (k) {
    case kind::extent: return extent_name(id);
    case kind::part: return part_name(id, first_block, end_block);
    case kind::part_draft: return part_draft_name(id);
  }
  return {};
}

std::optional<companion_name> parse_companion_name(std::string_view name) {
  if (name.empty() || name[0] != '.')
    return std::nullopt;
  const auto dot = name.find('.', 1);
  if (dot == std::string_view::npos)
    return std::nullopt;
  const auto id = parse_final_name(name.substr(1, dot - 1));
  if (!id)
    return std::nullopt;
  const std::string_view rest = name.substr(dot);
  if (rest == extent_suffix)
    return companion_name{companion_name::kind::extent, *id};
  if (rest == draft_suffix)
    return companion_name{companion_name::kind::part_draft, *id};
  if (!rest.starts_with(part_infix))
    return std::nullopt;
  const std::string_view range = rest.substr(part_infix.size());
  const auto dash = range.find('-');
  if (dash == std::string_view::npos)
    return std::nullopt;
  const auto first = parse_u32(range.substr(0, dash)), end = parse_u32(range.substr(dash + 1));
  if (!first || !end || *first >= *end)
    return std::nullopt;
  return companion_name{companion_name::kind::part, *id, *first, *end};
}

std::vector<companion_name> list_companions(const std::string& dir, std::optional<std::uint64_t> id) {
  std::vector<companion_name> out;
  for (const auto& n : list_names(dir))
    if (auto c = parse_companion_name(n); c && (!id || c->id == *id))
      out.push_back(*c);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::uint64_t> parse_hidden_name(std::string_view name) {
  if (name.empty() || name[0] != '.')
    return std::nullopt;
  return parse_final_name(name.substr(1));
}

std::string index_path_for(const std::string& packet_path) {
  const auto slash = packet_path.rfind('/');
  if (slash == std::string::npos || slash < 4)
    return {};
  const auto dir_start = packet_path.rfind('/', slash - 1);
  const std::size_t d = dir_start == std::string::npos ? 0 : dir_start + 1;
  if (packet_path.compare(d, packet_prefix.size(), packet_prefix) != 0)
    return {};
  std::string out = packet_path;
  out.replace(d, packet_prefix.size(), index_prefix);
  return out;
}

std::vector<std::string> list_names(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<file_name> list_files(const std::string& dir) {
  std::vector<file_name> files;
  for (const auto& n : list_names(dir)) {
    if (auto id = parse_final_name(n))
      files.push_back({*id, false});
    else if (auto hidden = parse_hidden_name(n))
      files.push_back({*hidden, true});
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::uint64_t> list_final_ids(const std::string& dir) {
  std::vector<std::uint64_t> ids;
  for (const auto& f : list_files(dir))
    if (!f.hidden)
      ids.push_back(f.id);
  return ids;
}

std::vector<int> list_threads(const std::string& dir) {
  std::vector<int> threads;
  for (const auto& n : list_names(dir))
    if (n.starts_with(packet_prefix))
      if (auto t = parse_final_name(std::string_view(n).substr(packet_prefix.size())); t && *t <= INT_MAX)
        threads.push_back(static_cast<int>(*t));
  std::sort(threads.begin(), threads.end());
  return threads;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void make_directories(const std::string& path) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/')
      continue;
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      fail("cannot create directory", prefix, errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail("not a directory:", path, ENOTDIR);
}

void publish(int dir_fd, const std::string& dir, std::string_view hidden, std::string_view final) {
  const std::string from = join(dir, hidden), to = join(dir, final);
  const int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail("cannot open", from, errno);
  if (int err = close_keeping(fd, ::fsync(fd) == 0 ? 0 : errno))
    fail("cannot sync", from, err);
  if (::rename(from.c_str(), to.c_str()) != 0)
    fail("cannot rename " + from + " to", to, errno);
  // The rename is durable only once the directory is.
  const bool own = dir_fd < 0;
  if (own && (dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    fail("cannot open directory", dir, errno);
  int err = ::fsync(dir_fd) == 0 ? 0 : errno;
  if (own)
    err = close_keeping(dir_fd, err);
  if (err)
    fail("cannot sync directory", dir, err);
}

} // namespace stenotype::io
