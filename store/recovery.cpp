// store/recovery.cpp -- see recovery.hpp.
#include "store/recovery.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "index/index_builder.hpp"
#include "index/index_file.hpp"
#include "io/layout.hpp"
#include "stenotype/block_format.hpp"
#include "store/retention.hpp"

namespace stenotype::store {

using namespace io; // the files, layout and block format this module works on

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

// Recovery runs as root, before the capture drops its privileges (it must
// come before the rings, which need root). An index it builds would be
// root's, mode 0600: unreadable to the user the capture runs as, and to
// stenographer's server, which reads as that user. The index belongs to
// whoever owns its packet file.
void give_owner_of(const std::string& packet_file, const std::string& index_path) {
  struct stat pkt;
  if (::stat(packet_file.c_str(), &pkt) != 0)
    fail("cannot stat", packet_file);
  struct stat idx;
  if (::lstat(index_path.c_str(), &idx) != 0)
    fail("cannot stat", index_path);
  if (idx.st_uid == pkt.st_uid && idx.st_gid == pkt.st_gid)
    return;
  if (::lchown(index_path.c_str(), pkt.st_uid, pkt.st_gid) != 0)
    fail("cannot give the owner of " + packet_file + " to", index_path);
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

void rebuild_index(const std::string& packet_file, const std::string& idx_dir, std::uint64_t id,
                   std::uint32_t block_size, index_format format,
                   const std::function<void(const std::string&)>& log) {
  // A failure here (a full disk) must not keep the capture from starting:
  // the packet file is complete and stenoread scans a file without index.
  try {
    index::index_builder builder{block_size};
    index::index_and_publish(packet_file, builder, idx_dir, final_name(id), format);
    give_owner_of(packet_file, idx_dir + "/" + final_name(id));
  } catch (const std::exception& e) {
    ::unlink((idx_dir + "/" + hidden_name(id)).c_str());
    ::unlink((idx_dir + "/" + final_name(id)).c_str()); // published, but not given to its owner
    log(std::string("recovery: ") + e.what() + "; " + packet_file + " stays without index");
  }
}

// Keeps the valid whole blocks of the hidden packet file `id` under its
// final name, or removes it when there are none. Returns whether it was kept.
bool recover_packet_file(const std::string& pkt, std::uint64_t id, std::uint32_t block_size,
                         const std::function<void(const std::string&)>& log) {
  const std::string hidden = pkt + "/" + hidden_name(id), final = pkt + "/" + final_name(id);
  const int fd = ::open(hidden.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return false; // deleted meanwhile (another program keeping the disk free): nothing to recover
  if (fd < 0)
    fail("cannot open", hidden);
  struct stat s;
  if (::fstat(fd, &s) != 0) {
    ::close(fd);
    fail("cannot stat", hidden);
  }
  const auto size = static_cast<std::uint64_t>(s.st_size);
  const std::uint64_t blocks = valid_prefix_blocks(fd, size, block_size);
  if (blocks == 0) {
    ::close(fd);
    ::unlink(hidden.c_str());
    log("recovery: removed " + hidden + " (" + std::to_string(size) + " bytes, no complete block)");
    return false;
  }
  const std::uint64_t keep = blocks * block_size;
  if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
    ::close(fd);
    fail("cannot recover", hidden);
  }
  ::close(fd);
  publish(pkt, hidden_name(id), final_name(id));
  log("recovery: kept " + std::to_string(blocks) + " complete block(s) of " + hidden + " as " + final
      + " (dropped " + std::to_string(size - keep) + " bytes)");
  return true;
}

} // namespace

void recover_thread_dir(const std::string& dir, int thread, std::uint32_t block_size,
                        std::optional<index_format> index, const std::function<void(const std::string&)>& log) {
  const std::string pkt = packet_dir(dir, thread), idx = index_dir(dir, thread);
  // 0. What fresh queries read of the files that were being written (their
  //    durable extents, partial indexes): stale now. The files themselves
  //    are made whole below and get full indexes, as after any crash.
  for (const std::string& d : {pkt, idx}) {
    std::size_t removed = 0;
    for (const auto& c : list_companions(d))
      removed += ::unlink((d + "/" + c.name()).c_str()) == 0;
    if (removed > 0)
      log("recovery: removed " + std::to_string(removed) + " stale fresh-query file(s) (durable extents, "
          "partial indexes) from " + d);
  }
  // 1. Hidden packet files: keep the valid whole blocks, or remove.
  for (const auto& f : list_files(pkt)) {
    if (!f.hidden || !recover_packet_file(pkt, f.id, block_size, log) || !index)
      continue;
    ::unlink((idx + "/" + hidden_name(f.id)).c_str()); // a partial index of it, if any
    rebuild_index(pkt + "/" + final_name(f.id), idx, f.id, block_size, *index, log);
  }
  // 2. Hidden indexes: rebuild if their packet file exists, else remove.
  for (const auto& f : list_files(idx)) {
    if (!f.hidden)
      continue;
    const std::string packet_file = pkt + "/" + final_name(f.id);
    ::unlink((idx + "/" + f.name()).c_str());
    if (index && exists(packet_file)) {
      rebuild_index(packet_file, idx, f.id, block_size, *index, log);
      log("recovery: rebuilt the index of " + packet_file);
    } else {
      log("recovery: removed " + idx + "/" + f.name() + " (no packet file)");
    }
  }
  // 3. The newest packet file without an index: killed between the packet
  //    file's rename and the index's.
  if (index) {
    const auto ids = list_final_ids(pkt);
    if (!ids.empty() && !exists(idx + "/" + final_name(ids.back()))) {
      rebuild_index(pkt + "/" + final_name(ids.back()), idx, ids.back(), block_size, *index, log);
      log("recovery: built the missing index of " + pkt + "/" + final_name(ids.back()));
    }
  }
  // 4. Indexes whose packet file is gone: a deletion (retention deletes the
  //    packet file first) cut short.
  for (const auto id : remove_orphan_indexes(dir, thread))
    log("recovery: removed " + idx + "/" + final_name(id) + " (its packet file was deleted)");
}

} // namespace stenotype::store
