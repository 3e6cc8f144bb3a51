#include "index/index_format.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace stenotype::index {

index_format detect_index_format(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open index " + path + ": " + std::strerror(errno));
  struct stat st;
  std::uint8_t tail[8];
  bool short_file = false;
  bool read_ok = ::fstat(fd, &st) == 0;
  if (read_ok && st.st_size < 8)
    short_file = true;
  else if (read_ok)
    read_ok = ::pread(fd, tail, sizeof tail, st.st_size - 8) == static_cast<ssize_t>(sizeof tail);
  const int err = errno;
  ::close(fd);
  if (!read_ok)
    throw std::runtime_error("cannot read index " + path + ": " + std::strerror(err));
  if (short_file)
    return index_format::unknown;
  std::uint64_t magic = 0; // stored little-endian by both libraries
  for (int i = 7; i >= 0; --i)
    magic = magic << 8 | tail[i];
  if (magic == rocksdb_table_magic)
    return index_format::native;
  if (magic == leveldb_table_magic)
    return index_format::stenographer;
  return index_format::unknown;
}

const char* to_string(index_format f) {
  switch (f) {
  case index_format::native: return "native";
  case index_format::stenographer: return "stenographer";
  case index_format::unknown: break;
  }
  return "unknown";
}

} // namespace stenotype::index
