// io/directory_lock.cpp -- see directory_lock.hpp.
#include "io/directory_lock.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::io {

long lock_holder(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return 0;
  // /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; the
  // device is printed as major:minor in hex, the inode in decimal.
  char id[64];
  std::snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  std::ifstream locks{"/proc/locks"};
  for (std::string line; std::getline(locks, line);) {
    std::istringstream in{line};
    std::string n, kind, mode, access, inode;
    long pid = 0;
    if (in >> n >> kind >> mode >> access >> pid >> inode && kind == "FLOCK" && inode == id)
      return pid;
  }
  return 0;
}

directory_lock::directory_lock(const std::string& dir) : path_(dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0)
    throw failure(errc_from_errno(errno), "cannot open directory " + dir + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0)
    return;
  const int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (err != EWOULDBLOCK)
    throw failure(errc_from_errno(err), "cannot lock " + dir + ": " + std::strerror(err));
  const long pid = lock_holder(dir);
  throw failure(errc::in_use, dir + " is in use by another stenotype, stenoimport or stenoindex"
                           + (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()));
}

directory_lock::directory_lock(directory_lock&& other) noexcept
  : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

directory_lock::~directory_lock() {
  if (fd_ >= 0)
    ::close(fd_); // releases the lock
}

} // namespace stenotype::io
