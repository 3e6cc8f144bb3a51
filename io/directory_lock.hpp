// io/directory_lock.hpp -- one writer per data directory.
//
// Two captures (or a capture and stenoimport/stenoindex) writing into the
// same PKT<n>/IDX<n> corrupt each other: the second one's start-up recovery
// would cut and publish the first one's open hidden file. So every writer
// takes an exclusive flock(2) on each directory it writes into before it
// touches anything there. The lock is on the directory itself (no lock file
// to leave behind or to confuse Google's stenographer server, and symlinked
// PKT<n> -- as that server makes them -- resolve to the directory that
// matters); the kernel releases it when the process ends, however it ends.
#pragma once

#include <string>
#include <vector>

namespace stenotype::io {

class directory_lock {
public:
  /// Locks `dir` (which must exist) or throws std::runtime_error with one
  /// line naming the directory and, when the kernel tells, the holder's pid.
  explicit directory_lock(const std::string& dir);
  ~directory_lock();
  directory_lock(directory_lock&& other) noexcept;
  directory_lock& operator=(directory_lock&&) = delete;
  directory_lock(const directory_lock&) = delete;
  directory_lock& operator=(const directory_lock&) = delete;

  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
};

/// The pid holding a flock on the inode of `dir`, from /proc/locks; 0 when
/// unknown.
long lock_holder(const std::string& dir);

} // namespace stenotype::io
