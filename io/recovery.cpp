#include "io/recovery.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "index/block_indexer.hpp"
#include "index/index_file.hpp"
#include "stenotype/block_format.hpp"
#include "io/block_writer.hpp"
#include "io/directory.hpp"

namespace stenotype::io {
namespace {

std::vector<std::string> names(const std::string& dir) { return list_directory(dir); }

void sync_dir(const std::string& dir) {
  if (int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Number of whole, valid blocks at the start of the file: the writer writes
// blocks in order but completes them in any order, so the first invalid one
// (never written, or preallocated zeros) ends what can be trusted.
std::uint64_t valid_prefix_blocks(int fd, std::uint64_t size, std::uint32_t block_size) {
  std::vector<std::uint8_t> buf(block_size);
  std::uint64_t n = 0;
  for (std::uint64_t off = 0; off + block_size <= size; off += block_size, ++n) {
    if (::pread(fd, buf.data(), block_size, static_cast<off_t>(off)) != static_cast<ssize_t>(block_size))
      break;
    block_header bh;
    std::span<const std::uint8_t> block(buf);
    if (!read_block_header(block, bh) || bh.num_pkts == 0
        || for_each_packet(block, [](const packet_ref&) {}) != bh.num_pkts)
      break;
  }
  return n;
}

void rebuild_index(const std::string& packet_file, const std::string& idx_dir, const std::string& name,
                   std::uint32_t block_size, const std::function<void(const std::string&)>& log) {
  // A failure here (a full disk) must not keep the capture from starting:
  // the packet file is complete and stenoread scans a file without index.
  try {
    build_index_from_file(packet_file, idx_dir, name, block_size);
  } catch (const std::exception& e) {
    ::unlink((idx_dir + "/." + name).c_str());
    log(std::string("recovery: ") + e.what() + "; " + packet_file + " stays without index");
  }
}


} // namespace

void build_index_from_file(const std::string& packet_file, const std::string& idx_dir,
                           const std::string& name, std::uint32_t block_size) {
  index::index_builder builder{block_size};
  index::index_packet_file(packet_file, builder);
  const std::string hidden = idx_dir + "/." + name, final = idx_dir + "/" + name;
  index::write_index_file(builder, hidden);
  if (std::rename(hidden.c_str(), final.c_str()) != 0)
    throw std::runtime_error("cannot rename " + hidden + ": " + std::strerror(errno));
  sync_dir(idx_dir);
}

recovery_stats recover_thread_dir(const std::string& dir, int thread, std::uint32_t block_size,
                                  bool index, const std::function<void(const std::string&)>& log) {
  recovery_stats st;
  const std::string pkt = packet_dir(dir, thread), idx = index_dir(dir, thread);
  // 1. Hidden packet files: keep the valid whole blocks, or remove.
  for (const auto& n : names(pkt)) {
    if (n[0] != '.')
      continue;
    const std::string hidden = pkt + "/" + n, final = pkt + "/" + n.substr(1);
    const int fd = ::open(hidden.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
      throw std::runtime_error("cannot open " + hidden + ": " + std::strerror(errno));
    struct stat s;
    ::fstat(fd, &s);
    const auto size = static_cast<std::uint64_t>(s.st_size);
    const std::uint64_t blocks = valid_prefix_blocks(fd, size, block_size);
    if (blocks == 0) {
      ::close(fd);
      ::unlink(hidden.c_str());
      ++st.packet_files_removed;
      log("recovery: removed " + hidden + " (" + std::to_string(size) + " bytes, no complete block)");
      continue;
    }
    const std::uint64_t keep = blocks * block_size;
    const bool ok = ::ftruncate(fd, static_cast<off_t>(keep)) == 0 && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || std::rename(hidden.c_str(), final.c_str()) != 0)
      throw std::runtime_error("cannot recover " + hidden + ": " + std::strerror(errno));
    sync_dir(pkt);
    ++st.packet_files_kept;
    log("recovery: kept " + std::to_string(blocks) + " complete block(s) of " + hidden + " as " + final
        + " (dropped " + std::to_string(size - keep) + " bytes)");
    if (index) {
      ::unlink((idx + "/" + n).c_str()); // a partial index of it, if any
      rebuild_index(final, idx, n.substr(1), block_size, log);
      ++st.indexes_rebuilt;
    }
  }
  // 2. Hidden indexes: rebuild if their packet file exists, else remove.
  for (const auto& n : names(idx)) {
    if (n[0] != '.')
      continue;
    const std::string packet_file = pkt + "/" + n.substr(1);
    ::unlink((idx + "/" + n).c_str());
    if (index && file_exists(packet_file)) {
      rebuild_index(packet_file, idx, n.substr(1), block_size, log);
      ++st.indexes_rebuilt;
      log("recovery: rebuilt the index of " + packet_file);
    } else {
      ++st.indexes_removed;
      log("recovery: removed " + idx + "/" + n + " (no packet file)");
    }
  }
  // 3. The newest packet file without an index: killed between the packet
  //    file's rename and the index's.
  if (index) {
    std::string newest;
    for (const auto& n : names(pkt))
      if (is_file_id(n) && (newest.empty() || std::stoull(n) > std::stoull(newest)))
        newest = n;
    if (!newest.empty() && !file_exists(idx + "/" + newest)) {
      rebuild_index(pkt + "/" + newest, idx, newest, block_size, log);
      ++st.indexes_rebuilt;
      log("recovery: built the missing index of " + pkt + "/" + newest);
    }
  }
  return st;
}

} // namespace stenotype::io
