#include "io/packet_file_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::io {
namespace {

bool valid_header_at(int fd, std::uint64_t off) {
  std::uint8_t buf[4096]; // the smallest block there can be
  if (::pread(fd, buf, sizeof buf, static_cast<off_t>(off)) != static_cast<ssize_t>(sizeof buf))
    return false;
  block_header bh;
  return read_block_header(buf, bh) && bh.num_pkts > 0
         && bh.offset_to_first_pkt == block_header_size;
}

} // namespace

std::size_t detect_block_size(int fd, std::uint64_t size) {
  constexpr std::size_t max = 1 << 20;
  for (std::size_t bs = 4096; bs < max; bs <<= 1)
    if (size % bs == 0 && size > bs && valid_header_at(fd, bs))
      return bs;
  return max;
}

packet_file_reader::packet_file_reader(const std::string& path, std::size_t block_size)
  : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw failure(errc_from_errno(errno), "cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw failure(errc::damaged_packet_file, "not a regular file: " + path);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  block_size_ = block_size ? block_size : detect_block_size(fd_, size_);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

packet_file_reader::~packet_file_reader() { ::close(fd_); }

void packet_file_reader::for_each_block(
  const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& fn) {
  buf_.resize(block_size_);
  for (std::uint64_t off = 0; off < size_; off += block_size_) {
    const ssize_t n = ::pread(fd_, buf_.data(), block_size_, static_cast<off_t>(off));
    if (n <= 0)
      throw failure(n < 0 ? errc_from_errno(errno) : errc::damaged_packet_file,
                    "cannot read " + path_ + ": " + (n < 0 ? std::strerror(errno) : "unexpected end"));
    fn(std::span<const std::uint8_t>(buf_.data(), static_cast<std::size_t>(n)), off);
  }
}

void packet_file_reader::for_each_packet(
  const std::function<void(const packet_ref&, std::uint64_t)>& fn) {
  for_each_block([&](std::span<const std::uint8_t> block, std::uint64_t off) {
    block_header bh;
    if (!read_block_header(block, bh)) {
      ++damaged_;
      return;
    }
    if (io::for_each_packet(block, [&](const packet_ref& p) { fn(p, off + p.offset); }) != bh.num_pkts)
      ++damaged_;
  });
}

} // namespace stenotype::io
