#include "query/file_stream.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::query {
namespace {

// Below this many candidates in a block, packets are read one by one; above,
// the whole block is read once (one large read beats many small ones).
constexpr std::size_t whole_block_threshold = 32;

} // namespace

file_stream::file_stream(const std::string& path, std::uint32_t block_size, selection candidates,
                         node_ptr q)
  : path_(path), block_size_(block_size), sel_(std::move(candidates)), q_(std::move(q)) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw failure(errc_from_errno(errno), "cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    throw failure(errc_from_errno(errno), "cannot stat " + path);
  }
  file_size_ = static_cast<std::uint64_t>(st.st_size);
  blocks_ = static_cast<std::uint32_t>((file_size_ + block_size_ - 1) / block_size_);
  sel_.blocks.resize(blocks_, false);
  prefetch();
}

file_stream::~file_stream() { ::close(fd_); }

void file_stream::prefetch() {
  // Start reading every candidate region at once (the kernel queues them in
  // parallel), instead of paying one disk round trip per packet in turn.
  std::uint64_t run_start = 0, run_end = 0;
  auto flush = [&] {
    if (run_end > run_start)
      ::posix_fadvise(fd_, static_cast<off_t>(run_start), static_cast<off_t>(run_end - run_start),
                      POSIX_FADV_WILLNEED);
  };
  for (std::uint32_t b = 0; b < blocks_; ++b)
    if (sel_.blocks[b]) {
      const std::uint64_t s = std::uint64_t{b} * block_size_;
      if (s > run_end + 65536) {
        flush();
        run_start = s;
      }
      run_end = s + block_size_;
    }
  for (auto pos : sel_.positions) {
    if (pos > run_end + 65536) {
      flush();
      run_start = pos;
    }
    run_end = std::max<std::uint64_t>(run_end, pos + 2048);
  }
  flush();
}

void file_stream::consider(const io::packet_ref& p, bool copy) {
  index::packet_attributes attrs;
  index::parse_packet(p, attrs);
  const std::uint64_t ts = std::uint64_t{p.sec} * 1000000000u + p.nsec;
  if (!matches(*q_, attrs, ts))
    return;
  ready_.push_back(p);
  if (copy) {
    arena_offsets_.push_back(arena_.size());
    arena_.insert(arena_.end(), p.frame, p.frame + p.caplen);
  } else {
    arena_offsets_.push_back(SIZE_MAX);
  }
}

void file_stream::load_block(std::uint32_t b) {
  ready_.clear();
  arena_offsets_.clear();
  arena_.clear();
  ready_pos_ = 0;
  const std::uint64_t start = std::uint64_t{b} * block_size_, end = start + block_size_;
  // Candidate positions inside this block.
  std::size_t first = next_pos_;
  while (next_pos_ < sel_.positions.size() && sel_.positions[next_pos_] < end)
    ++next_pos_;
  const std::size_t count = next_pos_ - first;
  if (sel_.blocks[b] || count > whole_block_threshold) {
    block_.resize(block_size_);
    const ssize_t n = ::pread(fd_, block_.data(), block_size_, static_cast<off_t>(start));
    std::span<const std::uint8_t> block(block_.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
    if (sel_.blocks[b]) {
      io::for_each_packet(block, [&](const io::packet_ref& p) { consider(p, false); });
      return;
    }
    // Only the candidates: walk the block, test the packets at those offsets.
    std::size_t i = first;
    io::for_each_packet(block, [&](const io::packet_ref& p) {
      while (i < next_pos_ && sel_.positions[i] < start + p.offset) {
        ++bad_; // a position between packets: the index does not fit the file
        ++i;
      }
      if (i < next_pos_ && sel_.positions[i] == start + p.offset) {
        consider(p, false);
        ++i;
      }
    });
    bad_ += next_pos_ - i;
    return;
  }
  // Few candidates: read each packet on its own.
  for (std::size_t i = first; i < next_pos_; ++i) {
    const std::uint64_t pos = sel_.positions[i];
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, 2048));
    one_.resize(std::max<std::size_t>(one_.size(), want));
    ssize_t n = ::pread(fd_, one_.data(), want, static_cast<off_t>(pos));
    if (n < static_cast<ssize_t>(sizeof(tpacket3_hdr))) {
      ++bad_;
      continue;
    }
    tpacket3_hdr h;
    std::memcpy(&h, one_.data(), sizeof h);
    const std::uint64_t need = std::uint64_t{h.tp_mac} + h.tp_snaplen;
    if (!io::packet_fits(h, static_cast<std::size_t>(std::min(end, file_size_) - pos))) {
      ++bad_;
      continue;
    }
    if (need > static_cast<std::uint64_t>(n)) {
      one_.resize(need);
      n = ::pread(fd_, one_.data(), need, static_cast<off_t>(pos));
      if (n < static_cast<ssize_t>(need)) {
        ++bad_;
        continue;
      }
    }
    consider(io::make_packet_ref(h, static_cast<std::uint32_t>(pos - start), one_.data()), true);
  }
  // The arena is complete: point the copied packets at it.
  for (std::size_t k = 0; k < ready_.size(); ++k)
    if (arena_offsets_[k] != SIZE_MAX)
      ready_[k].frame = arena_.data() + arena_offsets_[k];
}

bool file_stream::next() {
  if (started_ && ready_pos_ < ready_.size())
    ++ready_pos_;
  started_ = true;
  while (ready_pos_ >= ready_.size() && next_block_ < blocks_)
    load_block(next_block_++);
  return ready_pos_ < ready_.size();
}

} // namespace stenotype::query
