#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "main/privileges.hpp"
#include "support/skip.hpp"

using namespace stenotype;

TEST_CASE("users and groups resolve by name and number") {
  if (geteuid() != 0) {
    CHECK_THROWS_WITH(resolve_identity("nobody", ""), Catch::Contains("root"));
    CHECK_FALSE(resolve_identity("", "").change);
    return;
  }
  auto def = resolve_identity("", "");
  CHECK(def.change);
  CHECK(def.uid == 65534);
  CHECK(def.gid == 65534); // nogroup
  auto num = resolve_identity("65534", "0");
  CHECK(num.uid == 65534);
  CHECK(num.gid == 0);
  CHECK_THROWS_WITH(resolve_identity("no-such-user-here", ""), Catch::Contains("no user"));
  CHECK_THROWS_WITH(resolve_identity("nobody", "no-such-group-here"), Catch::Contains("no group"));
}

TEST_CASE("after the drop, root cannot be regained") {
  if (geteuid() != 0)
    SKIP_TEST("needs root");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // In the child: drop, then try every way back.
    drop_privileges(resolve_identity("", ""));
    gid_t groups[4];
    const bool ok = getuid() == 65534 && geteuid() == 65534 && getgid() == 65534
                    && getgroups(4, groups) == 0 && setuid(0) != 0 && seteuid(0) != 0
                    && setresuid(0, 0, 0) != 0 && setgid(0) != 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
