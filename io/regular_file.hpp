// io/regular_file.hpp -- opening a file to read that must be a plain file.
//
// A data directory can hold anything under a packet or index file's name: a
// FIFO (a plain open() waits forever for a writer), a device, a directory, a
// socket, a symbolic link. Readers open with O_NONBLOCK, so that a FIFO opens
// at once instead of hanging, and then refuse whatever fstat does not call a
// regular file before reading a byte. Names inside a data directory are ours,
// never links, so those are opened with O_NOFOLLOW; paths a user names on
// the command line may be links.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::io {

enum class links { follow, refuse };

class regular_file {
public:
  /// Throws std::runtime_error (one line naming `path` and why) when it
  /// cannot be opened or is not a regular file.
  explicit regular_file(const std::string& path, links l = links::follow) {
    const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (l == links::refuse ? O_NOFOLLOW : 0);
    fd_ = ::open(path.c_str(), flags);
    if (fd_ < 0) {
      if (errno == ELOOP && l == links::refuse)
        throw failure(errc::damaged_packet_file, path + " is a symbolic link, not a file stenotype wrote");
      throw failure(errc_from_errno(errno), "cannot open " + path + ": " + std::strerror(errno));
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      const int e = errno;
      ::close(fd_);
      throw failure(errc_from_errno(e), "cannot stat " + path + ": " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw failure(errc::damaged_packet_file, path + " is " + kind(st.st_mode) + ", not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~regular_file() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  regular_file(regular_file&& o) noexcept : fd_(o.fd_), size_(o.size_) { o.fd_ = -1; }
  regular_file& operator=(regular_file&&) = delete;
  regular_file(const regular_file&) = delete;
  regular_file& operator=(const regular_file&) = delete;

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }

private:
  static const char* kind(mode_t m) {
    if (S_ISDIR(m))
      return "a directory";
    if (S_ISFIFO(m))
      return "a FIFO";
    if (S_ISSOCK(m))
      return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
      return "a device";
    return "of another kind";
  }

  int fd_ = -1;
  std::uint64_t size_ = 0;
};

} // namespace stenotype::io
