// Typed errors: the errno rule, the codes exceptions stand for, and the
// round trip through CAF's error type that actors end with.
#include <catch2/catch.hpp>

#include <cerrno>
#include <set>
#include <stdexcept>
#include <system_error>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/sec.hpp>

#include "stenotype/error_category.hpp"

using namespace stenotype;

TEST_CASE("errno values map onto codes by one rule") {
  CHECK(errc_from_errno(ENOSPC) == errc::no_space);
  CHECK(errc_from_errno(EDQUOT) == errc::no_space);
  CHECK(errc_from_errno(EACCES) == errc::permission);
  CHECK(errc_from_errno(EPERM) == errc::permission);
  CHECK(errc_from_errno(EROFS) == errc::permission);
  CHECK(errc_from_errno(ENODEV) == errc::interface_gone);
  CHECK(errc_from_errno(ENXIO) == errc::interface_gone);
  CHECK(errc_from_errno(ENETDOWN) == errc::interface_gone);
  CHECK(errc_from_errno(ENOENT) == errc::not_found);
  CHECK(errc_from_errno(EIO) == errc::io_error);
  CHECK(errc_from_errno(EBADF) == errc::io_error);
  CHECK(errc_from_errno(0) == errc::io_error);
}

TEST_CASE("an exception stands for its own code, its errno, or a default") {
  CHECK(code_of(failure(errc::damaged_index, "damaged index x")) == errc::damaged_index);
  CHECK(code_of(std::system_error(ENOSPC, std::generic_category())) == errc::no_space);
  CHECK(code_of(std::system_error(EACCES, std::system_category())) == errc::permission);
  CHECK(code_of(std::logic_error("block for file 2 while file 1 is open")) == errc::internal);
  CHECK(code_of(std::bad_alloc()) == errc::internal);
  CHECK(code_of(std::runtime_error("cannot open index x")) == errc::io_error);
  const failure f{errc::interface_gone, "interface 'eth9' disappeared"};
  CHECK(std::string(f.what()) == "interface 'eth9' disappeared");
}

TEST_CASE("every code has a distinct name, and 0 stays free for CAF's 'no error'") {
  std::set<std::string_view> names;
  for (int c = 1; c <= static_cast<int>(errc_last); ++c) {
    const auto name = to_string(static_cast<errc>(c));
    CHECK(name != "unknown");
    names.insert(name);
  }
  CHECK(names.size() == static_cast<std::size_t>(errc_last));
  CHECK(to_string(errc::no_space) == "no_space");
}

TEST_CASE("a code travels through caf::error with its message, and renders once registered") {
  const caf::error e = make_error(failure(errc::no_space, "write to /d/PKT0/.1 failed: No space left on device"));
  REQUIRE(e);
  CHECK(code_of(e) == errc::no_space);
  CHECK(message_of(e) == "write to /d/PKT0/.1 failed: No space left on device");
  const caf::error bare = errc::hung_component; // CAF's conversion point (make_error by ADL)
  CHECK(code_of(bare) == errc::hung_component);
  CHECK(message_of(bare).empty());
  // CAF's own errors and "no error" have no code of ours.
  CHECK_FALSE(code_of(caf::make_error(caf::sec::request_timeout)));
  CHECK_FALSE(code_of(caf::error{}));

  caf::actor_system_config cfg;
  add_error_category(cfg);
  caf::actor_system sys{cfg};
  CHECK(sys.render(e) == "no_space: write to /d/PKT0/.1 failed: No space left on device");
  CHECK(sys.render(bare) == "hung_component");
}
