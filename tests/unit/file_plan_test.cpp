#include <catch2/catch.hpp>

#include "io/file_plan.hpp"

using stenotype::io::file_plan;

TEST_CASE("file_plan places blocks back to back and rotates by size") {
  file_plan plan{100, 350, 60'000'000}; // 3 blocks of 100 fit in 350
  REQUIRE_FALSE(plan.due(1000));
  auto a = plan.place(1000);
  CHECK(a.file_id == 1000);
  CHECK(a.offset == 0);
  CHECK_FALSE(plan.due(1001));
  CHECK(plan.place(1001).offset == 100);
  CHECK(plan.place(1002).offset == 200);
  auto closed = plan.due(1003); // a 4th block would pass 350
  REQUIRE(closed);
  CHECK(*closed == 1000);
  auto b = plan.place(1003);
  CHECK(b.file_id == 1003);
  CHECK(b.offset == 0);
}

TEST_CASE("file_plan rotates by age, also with no traffic") {
  file_plan plan{100, 1000, 5'000'000};
  plan.place(10'000'000);
  CHECK_FALSE(plan.due(14'999'999));
  auto closed = plan.due(15'000'000);
  REQUIRE(closed);
  CHECK(*closed == 10'000'000);
  CHECK_FALSE(plan.has_open_file());
  CHECK_FALSE(plan.due(99'000'000)); // nothing open: nothing to rotate, no empty files
}

TEST_CASE("file_plan ids strictly increase even if the clock steps back") {
  file_plan plan{100, 100, 60'000'000}; // one block per file
  auto a = plan.place(5000);
  REQUIRE(plan.due(5000));
  auto b = plan.place(4000); // clock went back
  CHECK(b.file_id == a.file_id + 1);
  REQUIRE(plan.due(4000));
  auto c = plan.place(4000);
  CHECK(c.file_id == b.file_id + 1);
}

TEST_CASE("file_plan holds at least one block per file") {
  file_plan plan{100, 10, 60'000'000};
  CHECK(plan.place(1).offset == 0);
  CHECK(plan.due(2)); // full after one block
}

TEST_CASE("file_plan close returns the open file once") {
  file_plan plan{100, 1000, 1'000'000};
  CHECK_FALSE(plan.close());
  plan.place(7);
  auto c = plan.close();
  REQUIRE(c);
  CHECK(*c == 7);
  CHECK_FALSE(plan.close());
}

TEST_CASE("file_plan with always_open: a file at every age, with or without blocks") {
  file_plan plan{100, 1000, 5'000'000, /*always_open=*/true};
  CHECK_FALSE(plan.due(10'000'000)); // opens the first file, closes nothing
  REQUIRE(plan.has_open_file());
  CHECK(plan.open_file_id() == 10'000'000);
  CHECK(plan.open_file_bytes() == 0);
  // No block at all: closed by age, and the next one opens at once.
  CHECK(plan.due(15'000'000) == 10'000'000);
  CHECK(plan.open_file_id() == 15'000'000);
  CHECK_FALSE(plan.due(19'999'999));
  // A block goes into the open file (named when it opened, not by the block).
  const auto slot = plan.place(17'000'000);
  CHECK(slot.file_id == 15'000'000);
  CHECK(slot.offset == 0);
  CHECK(plan.due(20'000'000) == 15'000'000);
  CHECK(plan.due(25'000'000) == 20'000'000);
  // A late check closes one file (its age is past), never a burst of empty ones.
  CHECK(plan.due(99'000'000) == 25'000'000);
  CHECK(plan.open_file_id() == 99'000'000);
  CHECK_FALSE(plan.due(99'000'001));
  // Stopping closes the open file and opens none.
  CHECK(plan.close() == 99'000'000);
  CHECK_FALSE(plan.has_open_file());
}
