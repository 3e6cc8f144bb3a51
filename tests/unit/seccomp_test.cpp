#include <catch2/catch.hpp>

#include <csignal>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/seccomp_policy.hpp"
#include "index/index_builder.hpp"
#include "index/index_file.hpp"
#include "index/index_format.hpp"
#include "io/layout.hpp"
#include "stenotype/log.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;

namespace {
// Runs `body` in a child with `role`'s filter in `mode`; returns its wait status.
template <class F>
int in_child(seccomp_role role, const char* mode, F body) {
  const pid_t child = fork();
  if (child == 0) {
    install_seccomp(role, mode);
    // Role threads end with exit (not exit_group, which their lists lack).
    syscall(SYS_exit, body());
  }
  int status = 0;
  waitpid(child, &status, 0);
  return status;
}
} // namespace

TEST_CASE("kill mode kills the whole process on a forbidden call") {
  for (auto role : {seccomp_role::reader, seccomp_role::writer, seccomp_role::indexer, seccomp_role::retention,
                    seccomp_role::process}) {
    // Opening a socket, the first step of most exploits, is in no list.
    const int status = in_child(role, "kill", [] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 3; });
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGSYS);
    const int exec = in_child(role, "kill", [] {
      execl("/bin/true", "true", nullptr);
      return 3;
    });
    CHECK(WIFSIGNALED(exec));
    CHECK(WTERMSIG(exec) == SIGSYS);
  }
}

TEST_CASE("allowed calls pass, and trace mode only logs") {
  const int ok = in_child(seccomp_role::writer, "kill", [] {
    char buf[1];
    return write(2, buf, 0) == 0 ? 0 : 3; // logging is allowed
  });
  CHECK(WIFEXITED(ok));
  CHECK(WEXITSTATUS(ok) == 0);
  const int traced = in_child(seccomp_role::reader, "trace", [] {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    return fd >= 0 ? 0 : 3;
  });
  CHECK(WIFEXITED(traced));
  CHECK(WEXITSTATUS(traced) == 0);
  const int none = in_child(seccomp_role::indexer, "none", [] { return socket(AF_INET, SOCK_DGRAM, 0) >= 0 ? 0 : 3; });
  CHECK(WIFEXITED(none));
}

TEST_CASE("the indexer's list lets it write and publish both index formats, the reader's lets it log a stats line") {
  // Each test case runs in a process of its own (CTest): LevelDB's Env and
  // the C library's time zone are not set up yet, as in a fresh capture.
  stenotype::test::temp_dir tmp;
  const std::string dir = tmp.path();
  const int indexer = in_child(seccomp_role::indexer, "kill", [&] {
    for (const auto format : {index_format::stenographer, index_format::native}) {
      const std::string name = format == index_format::native ? "1" : "2";
      index::index_builder none{1 << 20};
      index::write_index(none, dir + "/" + io::hidden_name(name), format);
      io::publish(dir, io::hidden_name(name), name);
    }
    return 0;
  });
  CHECK(WIFEXITED(indexer));
  CHECK(WEXITSTATUS(indexer) == 0);
  CHECK(index::detect_index_format(dir + "/1") == index_format::native);
  CHECK(index::detect_index_format(dir + "/2") == index_format::stenographer);
  const int reader = in_child(seccomp_role::reader, "kill", [] {
    set_log_level(log_level::info);
    LOG_INFO_STAMPED("Thread %d stats: MB=%d", 0, 0);
    return 0;
  });
  CHECK(WIFEXITED(reader));
  CHECK(WEXITSTATUS(reader) == 0);
}
