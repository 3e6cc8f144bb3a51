#include <catch2/catch.hpp>

#include <grp.h>
#include <string>
#include <vector>
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

TEST_CASE("without root, --uid/--gid may name the user and group stenotype runs as (file capabilities)") {
  if (geteuid() != 0)
    SKIP_TEST("needs root to become another user");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // As stenographer's server runs its stenotype: an ordinary user, with
    // Security Onion's --uid=<that user> --gid=<its group>.
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
      _exit(2);
    int failed = 0;
    try {
      const auto same = resolve_identity("nobody", "65534");
      failed |= same.change ? 4 : 0;
      failed |= resolve_identity("65534", "").change ? 4 : 0;
      failed |= resolve_identity("", "").change ? 4 : 0;
    } catch (...) {
      failed |= 8;
    }
    for (const auto& [u, g] : {std::pair<std::string, std::string>{"root", ""}, {"", "0"}, {"nobody", "0"}}) {
      try {
        resolve_identity(u, g);
        failed |= 16;
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find("without root") == std::string::npos)
          failed |= 32;
      }
    }
    _exit(failed);
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
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

TEST_CASE("numeric ids are taken whole: never truncated to 32 bits, never (uid_t)-1") {
  // Without root only the flags' check runs; it must say the same.
  struct bad {
    std::string uid, gid;
    const char* says;
  };
  const std::vector<bad> cases = {
    {"4294967296", "", "--uid: expected a name or a whole number from 0 to 4294967294"}, // was uid 0
    {"4294967297", "", "--uid: expected a name"},                                      // was uid 1
    {"4294967295", "", "--uid: expected a name"},                                      // (uid_t)-1
    {"-1", "", "--uid: expected a name"},
    {"18446744073709551616", "", "--uid: expected a name"},
    {"99999999999999999999999999", "", "--uid: expected a name"}, // was "stoul"
    {"nobody", "4294967296", "--gid: expected a name or a whole number from 0 to 4294967294"},
    {"nobody", "4294967295", "--gid: expected a name"},
    {"nobody", "-1", "--gid: expected a name"},
    {"no-such-user-here", "", "--uid: no user 'no-such-user-here'"},
    {"nobody", "no-such-group-here", "--gid: no group 'no-such-group-here'"},
  };
  for (const auto& c : cases) {
    INFO(c.uid << " / " << c.gid);
    const auto problem = identity_problem(c.uid, c.gid);
    REQUIRE(problem);
    CHECK(problem->find(c.says) == 0);
    if (geteuid() == 0)
      CHECK_THROWS_WITH(resolve_identity(c.uid, c.gid), Catch::StartsWith(c.says));
  }
  CHECK_FALSE(identity_problem("", ""));
  CHECK_FALSE(identity_problem("4294967294", "4294967294"));
  CHECK_FALSE(identity_problem("nobody", "0"));
  if (geteuid() != 0)
    return;
  // The largest real id, unknown to the user database: taken as it is.
  auto top = resolve_identity("4294967294", "");
  CHECK(top.uid == 4294967294u);
  CHECK(top.gid == 4294967294u);
  auto both = resolve_identity("65534", "4294967294");
  CHECK(both.uid == 65534);
  CHECK(both.gid == 4294967294u);
  // Leading zeros are decimal, as everywhere else.
  CHECK(resolve_identity("0065534", "").uid == 65534);
}
