#include "index/index_format.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::index {

std::optional<index_format> detect_index_format(const io::regular_file& f, const std::string& path) {
  if (f.size() < 8)
    return std::nullopt;
  std::uint8_t tail[8];
  const ssize_t n = ::pread(f.fd(), tail, sizeof tail, static_cast<off_t>(f.size() - 8));
  if (n != static_cast<ssize_t>(sizeof tail)) {
    const int err = n < 0 ? errno : EIO;
    throw failure(errc_from_errno(err), "cannot read index " + path + ": " + std::strerror(err));
  }
  std::uint64_t magic = 0; // stored little-endian by both libraries
  for (int i = 7; i >= 0; --i)
    magic = magic << 8 | tail[i];
  if (magic == rocksdb_table_magic)
    return index_format::native;
  if (magic == leveldb_table_magic)
    return index_format::stenographer;
  return std::nullopt;
}

std::optional<index_format> detect_index_format(const std::string& path, io::links l) {
  return detect_index_format(io::regular_file{path, l}, path);
}

const char* to_string(index_format f) {
  return f == index_format::stenographer ? "stenographer" : "native";
}

std::optional<index_format> parse_index_format(const std::string& text) {
  if (text == "native")
    return index_format::native;
  if (text == "stenographer")
    return index_format::stenographer;
  return std::nullopt;
}

} // namespace stenotype::index
