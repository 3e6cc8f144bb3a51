#include "store/retention.hpp"

#include "io/layout.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "stenotype/block_format.hpp"

namespace stenotype::store {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error("retention: cannot " + what + " " + path + ": " + std::strerror(errno));
}

struct dir_entry {
  std::string name;
  std::uint64_t id;
  std::uint64_t inode;
};

// An open directory, closed at scope exit.
class directory_fd {
public:
  /// Opens `path`; if `may_be_missing`, a missing directory (or something
  /// else of that name) gives an invalid handle.
  directory_fd(std::string path, bool may_be_missing) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0 && !(may_be_missing && (errno == ENOENT || errno == ENOTDIR)))
      fail("open", path_);
  }
  ~directory_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  directory_fd(const directory_fd&) = delete;
  directory_fd& operator=(const directory_fd&) = delete;

  explicit operator bool() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  std::string path_of(const std::string& name) const { return path_ + "/" + name; }

  /// Every entry that may be ours: a decimal name, a regular file or of
  /// unknown type. Throws on a read error, unlike io::list_directory: an
  /// unreadable packet directory must not look empty. Ascending by id.
  std::vector<dir_entry> entries() const { return list(false); }

  /// Every name (no "." and ".."), with the same error checking.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (auto& e : list(true))
      out.push_back(std::move(e.name));
    return out;
  }

  /// lstat of an entry; false if it does not exist.
  bool stat_entry(const std::string& name, struct stat& st) const {
    if (::fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      return true;
    if (errno != ENOENT)
      fail("stat", path_of(name));
    return false;
  }

  /// unlink of an entry; false if it was already gone.
  bool unlink_entry(const std::string& name) const {
    if (::unlinkat(fd_, name.c_str(), 0) == 0)
      return true;
    if (errno != ENOENT)
      fail("delete", path_of(name));
    return false;
  }

  void sync() const {
    if (::fsync(fd_) != 0)
      fail("sync", path_);
  }

private:
  std::vector<dir_entry> list(bool all) const {
    const int dup = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
    if (!d) {
      if (dup >= 0)
        ::close(dup);
      fail("list", path_);
    }
    std::vector<dir_entry> out;
    errno = 0;
    while (auto* e = ::readdir(d)) {
      if (all) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
          out.push_back({e->d_name, 0, e->d_ino});
      } else if (auto id = io::parse_final_name(e->d_name); id && (e->d_type == DT_REG || e->d_type == DT_UNKNOWN)) {
        out.push_back({e->d_name, *id, e->d_ino});
      }
      errno = 0;
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) {
      errno = err;
      fail("list", path_);
    }
    if (!all)
      std::sort(out.begin(), out.end(), [](const dir_entry& a, const dir_entry& b) { return a.id < b.id; });
    return out;
  }

  std::string path_;
  int fd_ = -1;
};

std::vector<std::uint64_t> ids_in(const directory_fd& d) {
  std::vector<std::uint64_t> ids;
  for (const auto& e : d.entries())
    ids.push_back(e.id);
  return ids;
}

std::optional<int> thread_of(const std::string& name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  auto n = io::parse_final_name(std::string_view(name).substr(prefix.size()));
  if (!n || *n > static_cast<std::uint64_t>(INT_MAX))
    return std::nullopt;
  return static_cast<int>(*n);
}

std::uint64_t bytes_on_disk(const struct stat& st) { return static_cast<std::uint64_t>(st.st_blocks) * 512; }

filesystem_space space_of(int fd, std::uint64_t device, const std::string& path) {
  struct statvfs v {};
  if (::fstatvfs(fd, &v) != 0)
    fail("statvfs", path);
  return {device, std::uint64_t{v.f_blocks} * v.f_frsize, std::uint64_t{v.f_bavail} * v.f_frsize};
}


} // namespace

std::uint64_t device_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail("stat", path);
  return st.st_dev;
}

filesystem_space filesystem_space_of(const std::string& path) {
  directory_fd d{path, false};
  struct stat st {};
  if (::fstat(d.fd(), &st) != 0)
    fail("stat", path);
  return space_of(d.fd(), st.st_dev, path);
}

data_dir_scan data_dir_scanner::scan() {
  data_dir_scan out;
  {
    directory_fd top{dir_, false};
    for (const auto& n : top.names())
      if (auto t = thread_of(n, "PKT") ? thread_of(n, "PKT") : thread_of(n, "IDX"))
        out.threads.push_back(*t);
  }
  std::sort(out.threads.begin(), out.threads.end());
  out.threads.erase(std::unique(out.threads.begin(), out.threads.end()), out.threads.end());

  std::map<std::uint64_t, filesystem_space> filesystems;
  auto note_filesystem = [&](const directory_fd& d) {
    struct stat st {};
    if (::fstat(d.fd(), &st) != 0)
      fail("stat", d.path());
    if (!filesystems.count(st.st_dev)) {
      filesystems[st.st_dev] = space_of(d.fd(), st.st_dev, d.path());
      out.directory_on[st.st_dev] = d.path();
    }
  };
  decltype(known_) still_known;
  for (int t : out.threads) {
    directory_fd idx{io::index_dir(dir_, t), true}, pkt{io::packet_dir(dir_, t), true};
    for (const directory_fd* d : {&pkt, &idx})
      if (*d)
        note_filesystem(*d);
    if (!pkt)
      continue;
    // Indexes listed before packet files: see remove_orphan_indexes.
    const auto indexes = idx ? idx.entries() : std::vector<dir_entry>{};
    std::map<std::uint64_t, std::uint64_t> index_inode;
    for (const auto& e : indexes)
      index_inode[e.id] = e.inode;
    for (const auto& e : pkt.entries()) {
      const auto key = std::pair{t, e.id};
      known k;
      if (auto it = known_.find(key); it != known_.end() && it->second.packet_inode == e.inode) {
        k = it->second;
      } else {
        struct stat p {};
        if (!pkt.stat_entry(e.name, p) || !S_ISREG(p.st_mode))
          continue; // gone meanwhile, or not a file we wrote (a directory, a symlink)
        k.packet_inode = e.inode;
        k.file = {t, e.id, bytes_on_disk(p), 0, p.st_dev, 0};
      }
      const auto ii = index_inode.find(e.id);
      const std::uint64_t inode = ii == index_inode.end() ? 0 : ii->second;
      if (ii != index_inode.end())
        index_inode.erase(ii);
      if (inode != k.index_inode) {
        struct stat i {};
        const bool have = inode && idx.stat_entry(e.name, i) && S_ISREG(i.st_mode);
        k.index_inode = have ? inode : 0;
        k.file.index_bytes = have ? bytes_on_disk(i) : 0;
        k.file.index_device = have ? i.st_dev : 0;
      }
      out.files.push_back(k.file);
      still_known.emplace(key, k);
    }
    if (!index_inode.empty()) // indexes left over: their packet files are gone
      out.orphan_index_threads.push_back(t);
  }
  known_ = std::move(still_known);
  for (const auto& [dev, fs] : filesystems)
    out.filesystems.push_back(fs);
  return out;
}

deletion_result delete_file(const std::string& dir, int thread, std::uint64_t id) {
  const std::string name = std::to_string(id);
  deletion_result r;
  // The packet file first, durably: from then on no reader lists it.
  if (directory_fd pkt{io::packet_dir(dir, thread), true}) {
    r.packet_removed = pkt.unlink_entry(name);
    pkt.sync();
  }
  if (directory_fd idx{io::index_dir(dir, thread), true}) {
    r.index_removed = idx.unlink_entry(name);
    idx.sync();
  }
  return r;
}

std::vector<std::uint64_t> remove_orphan_indexes(const std::string& dir, int thread) {
  // Indexes listed first: one published after this listing is not looked at.
  directory_fd idx{io::index_dir(dir, thread), true};
  if (!idx)
    return {};
  const auto indexes = ids_in(idx);
  // No packet directory at all is more likely a missing mount than a deletion.
  directory_fd pkt{io::packet_dir(dir, thread), true};
  if (!pkt)
    return {};
  const auto packets = ids_in(pkt);
  std::vector<std::uint64_t> orphans;
  std::set_difference(indexes.begin(), indexes.end(), packets.begin(), packets.end(), std::back_inserter(orphans));
  std::vector<std::uint64_t> removed;
  for (std::uint64_t id : orphans) {
    struct stat st {};
    if (idx.stat_entry(std::to_string(id), st) && S_ISREG(st.st_mode) && idx.unlink_entry(std::to_string(id)))
      removed.push_back(id);
  }
  if (!removed.empty())
    idx.sync();
  return removed;
}

std::optional<std::uint32_t> first_packet_second(const std::string& packet_file) {
  // O_NONBLOCK | O_NOFOLLOW: a FIFO or symlink of that name must not hang or lead elsewhere.
  const int fd = ::open(packet_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return std::nullopt;
  struct stat st {};
  std::uint8_t page[4096];
  ssize_t got = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    got = ::pread(fd, page, sizeof page, 0);
  ::close(fd);
  io::block_header h;
  if (got <= 0 || !io::read_block_header(std::span<const std::uint8_t>(page, static_cast<std::size_t>(got)), h)
      || h.num_pkts == 0)
    return std::nullopt;
  return h.first_sec;
}

} // namespace stenotype::store
