#include "io/packet_file_reader.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::io {
namespace {

std::string kib(std::uint64_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB" : std::to_string(bytes) + " bytes";
}

} // namespace

block_layout choose_block_layout(std::span<const std::uint8_t> head, std::uint32_t index_block_size,
                                 std::size_t unmarked_block_size) {
  block_layout out;
  std::optional<block_mark> mark = read_block_mark(head);
  if (mark && !usable(*mark)) {
    out.mark_rejected = "block 0 carries a block mark this reader does not know (version "
                        + std::to_string(mark->version) + ", block size " + std::to_string(mark->block_size)
                        + ")";
    mark.reset();
  }
  if (index_block_size != 0) {
    if (!valid_block_size(index_block_size))
      out.index_rejected = "the index's block size " + std::to_string(index_block_size) + " is impossible";
    else if (mark && mark->block_size != index_block_size)
      out.index_rejected = "the index says blocks of " + kib(index_block_size) + ", the file's block mark "
                           + kib(mark->block_size);
    if (out.index_rejected.empty()) {
      out.block_size = index_block_size;
      out.source = block_size_source::index;
      out.mark = mark;
      return out;
    }
  }
  if (mark) {
    out.block_size = mark->block_size;
    out.source = block_size_source::mark;
    out.mark = mark;
  } else if (unmarked_block_size != 0) {
    out.block_size = unmarked_block_size;
    out.source = block_size_source::flag;
  } else {
    out.block_size = google_block_size;
    out.source = block_size_source::fixed;
  }
  return out;
}

std::optional<std::uint64_t> first_block_time_ns(const std::string& path, links l) {
  try {
    const regular_file f{path, l};
    std::uint8_t head[marked_first_packet] = {};
    const ssize_t n = ::pread(f.fd(), head, sizeof head, 0);
    if (n <= 0)
      return std::nullopt;
    const std::span<const std::uint8_t> got(head, static_cast<std::size_t>(n));
    const block_layout layout = choose_block_layout(got, 0, 0);
    block_header bh;
    if (f.size() < layout.block_size || check_block_header(got, layout.block_size, layout.mark, bh) != block_fault::none
        || bh.num_pkts == 0)
      return std::nullopt;
    return std::uint64_t{bh.first_sec} * 1000000000u + bh.first_nsec;
  } catch (const std::exception&) {
    return std::nullopt; // reported when the file is opened to be read
  }
}

std::string describe(const block_layout& l) {
  static const char* const from[] = {"from its index", "from its block mark", "as --blocksize_kb says",
                                     "no block mark: Google stenotype's size"};
  return kib(l.block_size) + " blocks (" + from[static_cast<int>(l.source)] + ")";
}

void damage_tally::add(std::uint64_t block, std::uint64_t offset, const block_check& c) {
  if (c.fault == block_fault::none)
    return;
  if (blocks_++ == 0) {
    first_block_ = block;
    first_offset_ = offset;
    first_ = c.fault;
  }
  lost_ += c.promised - c.valid;
}

std::string damage_tally::text(const std::string& path) const {
  std::string s = path + ": " + std::to_string(blocks_) + " damaged block(s) skipped (first: block "
                  + std::to_string(first_block_) + " at byte " + std::to_string(first_offset_) + ", "
                  + describe(first_) + ")";
  if (lost_)
    s += "; " + std::to_string(lost_) + " packet(s) their headers announce do not hold";
  return s;
}

std::string tail_problem(const std::string& path, std::uint64_t file_size, std::size_t block_size) {
  // An empty file is an idle period's (Google's stenotype, and ours with
  // --index_format=stenographer, rotate idle files): it holds no packets.
  const std::uint64_t tail = file_size % block_size;
  if (tail == 0)
    return "";
  return path + " ends " + std::to_string(tail) + " bytes into block " + std::to_string(file_size / block_size)
         + " (not a whole number of " + kib(block_size) + " blocks: cut short?); the partial block is not read";
}

packet_file_reader::packet_file_reader(const std::string& path, std::size_t unmarked_block_size, links l)
  : path_(path), file_(path, l) {
  std::uint8_t head[marked_first_packet] = {};
  const ssize_t n = ::pread(file_.fd(), head, sizeof head, 0);
  if (n < 0)
    throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  layout_ = choose_block_layout(std::span<const std::uint8_t>(head, static_cast<std::size_t>(n)), 0,
                                unmarked_block_size);
  ::posix_fadvise(file_.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
}

void packet_file_reader::for_each_block(
  const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& fn) {
  const std::size_t bs = layout_.block_size;
  buf_.resize(bs);
  for (std::uint64_t off = 0; off + bs <= file_.size(); off += bs) {
    const ssize_t n = ::pread(file_.fd(), buf_.data(), bs, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(bs))
      throw failure(n < 0 ? errc_from_errno(errno) : errc::damaged_packet_file,
                    "cannot read " + path_ + " at byte " + std::to_string(off) + ": "
                        + (n < 0 ? std::strerror(errno) : "the file got shorter"));
    fn(std::span<const std::uint8_t>(buf_.data(), bs), off);
  }
}

void packet_file_reader::for_each_packet(
  const std::function<void(const packet_ref&, std::uint64_t)>& fn, const problem_sink& report) {
  if (!layout_.mark_rejected.empty())
    report({problem_kind::block_damaged, path_, path_ + ": " + layout_.mark_rejected + "; read as "
                                                    + describe(layout_)});
  if (auto tail = tail_problem(path_, file_.size(), layout_.block_size); !tail.empty())
    report({problem_kind::file_truncated, path_, tail});
  damage_tally damage;
  for_each_block([&](std::span<const std::uint8_t> block, std::uint64_t off) {
    const block_check c = check_block(block, layout_.mark, [&](const packet_ref& p) { fn(p, off + p.offset); });
    damage.add(off / layout_.block_size, off, c);
  });
  if (damage.blocks())
    report({problem_kind::block_damaged, path_, damage.text(path_)});
}

} // namespace stenotype::io
