// tests/support/loop_fs.hpp -- a small ext4 filesystem of the test's own,
// for full-disk and retention tests. Needs root (mount); ok() says whether
// it could be made, so a test without it can skip.
#pragma once

#include "support/skip.hpp"

#include <cstdlib>
#include <string>

#include "support/temp_dir.hpp"

namespace stenotype::test {

// An ext4 filesystem of `mb` MiB in a file, loop-mounted, world-traversable.
class loop_fs {
public:
  explicit loop_fs(int mb) {
    image_ = tmp_.path() + "/fs.img";
    mount_ = tmp_.path() + "/mnt";
    ok_ = std::system(("truncate -s " + std::to_string(mb) + "M " + image_ + " && mkfs.ext4 -q -F " + image_
                       + " >/dev/null 2>&1 && mkdir -p " + mount_ + " && mount -o loop " + image_ + " "
                       + mount_ + " && chmod 755 " + mount_)
                        .c_str())
          == 0;
  }
  ~loop_fs() {
    std::system(("fsfreeze --unfreeze " + mount_ + " >/dev/null 2>&1; umount " + mount_ + " >/dev/null 2>&1").c_str());
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return mount_; }

private:
  temp_dir tmp_;
  std::string image_, mount_;
  bool ok_ = false;
};

} // namespace stenotype::test

/// In a test case: `name`, a loop-mounted ext4 of `mb` MiB, or a skip when
/// this machine cannot mount one.
#define REQUIRE_LOOP_FS(name, mb)                                              \
  ::stenotype::test::loop_fs name{mb};                                         \
  if (!name.ok())                                                              \
  SKIP_TEST("cannot loop-mount a filesystem here")

