// io/durable_extent.cpp -- see durable_extent.hpp.
#include "io/durable_extent.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "io/layout.hpp"

namespace stenotype::io {
namespace {

constexpr char magic[8] = {'s', 't', 'e', 'n', 'o', 'e', 'x', 't'};
constexpr std::size_t checked_bytes = 28;

std::uint32_t fnv1a(std::span<const std::uint8_t> bytes) {
  std::uint32_t h = 2166136261u;
  for (const auto b : bytes)
    h = (h ^ b) * 16777619u;
  return h;
}

void put_le(std::uint8_t* at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t get_le(const std::uint8_t* at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | at[i];
  return v;
}

} // namespace

void encode_extent(const durable_extent& e, std::span<std::uint8_t, extent_record_bytes> out) {
  std::memcpy(out.data(), magic, sizeof magic);
  put_le(out.data() + 8, e.file_id, 8);
  put_le(out.data() + 16, e.bytes, 8);
  put_le(out.data() + 24, e.block_size, 4);
  put_le(out.data() + 28, fnv1a(out.first(checked_bytes)), 4);
}

std::optional<durable_extent> decode_extent(std::span<const std::uint8_t> in) {
  if (in.size() != extent_record_bytes || std::memcmp(in.data(), magic, sizeof magic) != 0
      || get_le(in.data() + 28, 4) != fnv1a(in.first(checked_bytes)))
    return std::nullopt;
  durable_extent e{get_le(in.data() + 8, 8), get_le(in.data() + 16, 8),
                   static_cast<std::uint32_t>(get_le(in.data() + 24, 4))};
  if (e.block_size == 0 || e.bytes % e.block_size != 0)
    return std::nullopt;
  return e;
}

extent_publisher::~extent_publisher() {
  if (fd_ >= 0)
    ::close(fd_);
}

int extent_publisher::open(int dir_fd, std::uint64_t id, std::uint32_t block_size) {
  remove();
  const std::string name = extent_name(id);
  fd_ = ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0)
    return errno;
  dir_fd_ = dir_fd;
  record_ = {id, 0, block_size};
  return write_record(); // 0 bytes at once: a reader that finds the sidecar finds a record
}

int extent_publisher::publish(std::uint64_t bytes) {
  if (fd_ < 0 || bytes == record_.bytes)
    return 0;
  record_.bytes = bytes;
  return write_record();
}

int extent_publisher::write_record() {
  std::uint8_t buf[extent_record_bytes];
  encode_extent(record_, buf);
  if (::pwrite(fd_, buf, sizeof buf, 0) == static_cast<ssize_t>(sizeof buf))
    return 0;
  const int err = errno ? errno : EIO;
  remove();
  return err;
}

void extent_publisher::remove() {
  if (fd_ < 0)
    return;
  ::close(fd_);
  fd_ = -1;
  ::unlinkat(dir_fd_, extent_name(record_.file_id).c_str(), 0);
}

extent_reading read_extent(const std::string& packet_dir, std::uint64_t id) {
  const std::string path = packet_dir + "/" + extent_name(id);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0)
    return {}; // absent (or not a file we could have written)
  extent_reading r{extent_reading::state::damaged, {}};
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::uint8_t buf[extent_record_bytes + 1];
    const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    if (n == 0) { // created, first record not yet written
      r = {extent_reading::state::valid, {id, 0, 0}};
      break;
    }
    if (n > 0) {
      const auto e = decode_extent(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      if (e && e->file_id == id) {
        r = {extent_reading::state::valid, *e};
        break;
      }
    }
    ::usleep(100); // torn: the writer is mid-rewrite
  }
  ::close(fd);
  return r;
}

} // namespace stenotype::io
