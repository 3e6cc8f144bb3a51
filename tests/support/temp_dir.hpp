// tests/support/temp_dir.hpp -- a directory removed at scope exit.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <sys/stat.h>

namespace stenotype::test {

class temp_dir {
public:
  temp_dir() {
    std::string pattern = "/tmp/stenotype-test-XXXXXX";
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    // Like /var/lib: others may pass through. stenotype drops to nobody
    // after opening its rings and must still reach DIR/PKT<n>.
    ::chmod(path_.c_str(), 0755);
  }
  ~temp_dir() {
    if (std::getenv("STENOTYPE_KEEP_TEST_DIRS")) // for debugging a failed test
      return;
    std::string cmd = "rm -rf '" + path_ + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

} // namespace stenotype::test
