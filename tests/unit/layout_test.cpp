// The data directory's names, listings and publish (io/layout.hpp).
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "io/directory_lock.hpp"
#include "io/layout.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::io;

namespace {

void write_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_CASE("layout: file names round-trip to their ids") {
  for (const std::uint64_t id : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{42},
                                 std::uint64_t{1700000000123456}, UINT64_MAX}) {
    INFO(id);
    CHECK(parse_final_name(final_name(id)) == id);
    CHECK(parse_hidden_name(hidden_name(id)) == id);
    CHECK(hidden_name(id).substr(1) == final_name(id));
    CHECK(hidden_name(id)[0] == '.');
    CHECK(hidden_name(final_name(id)) == hidden_name(id));
    // Each kind of name is only that kind.
    CHECK_FALSE(parse_final_name(hidden_name(id)));
    CHECK_FALSE(parse_hidden_name(final_name(id)));
  }
  CHECK(final_name(1700000000123456) == "1700000000123456");
  CHECK(parse_final_name("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("layout: a name that is not exactly what we write is not ours") {
  for (const char* name : {"", "00001", "01", "00", "+1", "-1", " 1", "1 ", "1a", "0x10", "1e3",
                           "18446744073709551616", "99999999999999999999", ".", "..", ".keep",
                           ".snapshot", "keep"}) {
    INFO('"' << name << '"');
    CHECK_FALSE(parse_final_name(name));
    CHECK_FALSE(parse_hidden_name(name));
    CHECK_FALSE(parse_hidden_name(std::string(".") + name));
  }
  CHECK_FALSE(parse_hidden_name("..1"));
  CHECK_FALSE(parse_hidden_name(".00001"));
}

TEST_CASE("layout: thread folders and the packet-to-index path") {
  CHECK(packet_dir("/data", 3) == "/data/PKT3");
  CHECK(index_dir("/data", 3) == "/data/IDX3");
  CHECK(index_path_for("/data/PKT3/1700") == "/data/IDX3/1700");
  CHECK(index_path_for("PKT0/1") == "IDX0/1");
  CHECK(index_path_for("/data/other/1700").empty());
}

TEST_CASE("layout: listing gives our files in time order and skips foreign names") {
  stenotype::test::temp_dir tmp;
  const std::string dir = tmp.path() + "/PKT0";
  make_directories(dir);
  for (const char* n : {"20", ".3", "3", "100", ".keep", "00001", "abc", ".100x"})
    write_file(dir + "/" + n, "x");
  REQUIRE(::mkdir((dir + "/.snapshot").c_str(), 0700) == 0);

  const std::vector<file_name> expected{{3, false}, {3, true}, {20, false}, {100, false}};
  CHECK(list_files(dir) == expected); // by number: 100 after 20
  CHECK(list_final_ids(dir) == std::vector<std::uint64_t>{3, 20, 100});
  CHECK(list_files(dir)[1].name() == ".3");
  CHECK(list_files(tmp.path() + "/missing").empty());
  // list_names sees everything, ours or not.
  CHECK(list_names(dir).size() == 9);

  for (const char* n : {"PKT2", "PKT10", "PKT01", "PKTx", "PKT", "IDX5"})
    make_directories(tmp.path() + "/" + n);
  CHECK(list_threads(tmp.path()) == std::vector<int>{0, 2, 10});
}

TEST_CASE("layout: make_directories creates every level, private, and refuses a file") {
  stenotype::test::temp_dir tmp;
  const std::string dir = tmp.path() + "/a/b/PKT0";
  make_directories(dir);
  make_directories(dir); // again: nothing to do
  struct stat st;
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0777) == 0700);
  write_file(tmp.path() + "/file", "x");
  CHECK_THROWS_WITH(make_directories(tmp.path() + "/file"),
                    Catch::Contains(tmp.path() + "/file") && Catch::Contains(std::strerror(ENOTDIR)));
}

TEST_CASE("layout: PKT<n>/IDX<n> may be symbolic links, as stenographer's server makes them") {
  stenotype::test::temp_dir tmp;
  const std::string real = tmp.path() + "/thread0/packets", dir = tmp.path() + "/run";
  make_directories(real);
  make_directories(dir);
  REQUIRE(::symlink(real.c_str(), packet_dir(dir, 0).c_str()) == 0);
  make_directories(packet_dir(dir, 0)); // the link is there: nothing to do
  const directory_lock lock{packet_dir(dir, 0)};
  CHECK_THROWS_WITH(directory_lock{real}, Catch::Contains("in use")); // the real directory is the one locked
  write_file(packet_dir(dir, 0) + "/.5", "x");
  publish(packet_dir(dir, 0), ".5", "5");
  CHECK(list_final_ids(real) == std::vector<std::uint64_t>{5});
  CHECK(list_threads(dir) == std::vector<int>{0});
  // A link to nowhere is no directory.
  REQUIRE(::symlink((tmp.path() + "/gone").c_str(), index_dir(dir, 0).c_str()) == 0);
  CHECK_THROWS(make_directories(index_dir(dir, 0)));
}

TEST_CASE("layout: publish makes the final name appear and the hidden one vanish") {
  stenotype::test::temp_dir tmp;
  const std::string dir = tmp.path() + "/IDX0";
  make_directories(dir);
  write_file(dir + "/" + hidden_name(7), "seven");
  publish(dir, hidden_name(7), final_name(7));
  CHECK(list_names(dir) == std::vector<std::string>{"7"});
  CHECK(read_file(dir + "/7") == "seven");

  // With the caller's directory descriptor, as the writer does.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  write_file(dir + "/.8", "eight");
  publish(fd, dir, ".8", "8");
  ::close(fd);
  CHECK(list_names(dir) == std::vector<std::string>{"7", "8"});
  CHECK(read_file(dir + "/8") == "eight");
}

TEST_CASE("layout: a failed publish is reported with the file and the reason") {
  stenotype::test::temp_dir tmp;
  const std::string dir = tmp.path();
  // Nothing to publish.
  CHECK_THROWS_WITH(publish(dir, hidden_name(9), final_name(9)),
                    Catch::Contains(dir + "/.9") && Catch::Contains(std::strerror(ENOENT)));
  CHECK(list_names(dir).empty());
  // The rename cannot replace what is in the way (a non-empty directory):
  // the file keeps its hidden name.
  write_file(dir + "/.10", "ten");
  make_directories(dir + "/10/x");
  CHECK_THROWS_WITH(publish(dir, ".10", "10"), Catch::Contains(dir + "/.10") && Catch::Contains(dir + "/10"));
  CHECK(read_file(dir + "/.10") == "ten");
  // A directory that cannot be opened for its sync.
  CHECK_THROWS_WITH(publish(dir + "/missing", ".1", "1"), Catch::Contains(dir + "/missing/.1"));
}
