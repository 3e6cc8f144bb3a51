// An index's file summary is believed only when it can describe a packet
// file: a reader divides by its block size and sizes tables by its counts.
#include <catch2/catch.hpp>

#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "support/damage.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::index;
using stenotype::test::temp_dir;

namespace {

// An index file with the given summary and block table, and no positions.
void write_index(const std::string& path, const file_summary& s, const std::vector<block_times>& blocks) {
  write_index_entries(
    [&](const entry_fn& put) {
      put(version_key, stenotype::test::big_endian(format_version, 4));
      put(block_meta_key, stenotype::test::block_table_value(blocks));
      put(file_meta_key, stenotype::test::summary_value(s));
    },
    path);
}

} // namespace

TEST_CASE("index summaries that cannot describe a packet file are refused") {
  const std::vector<block_times> two = {{10, 20, 5}, {30, 40, 7}};
  struct row {
    const char* what;
    file_summary s;
    std::vector<block_times> blocks;
    bool ok;
  };
  const row rows[] = {
    {"a good one", {12, 10, 40, 2, 65536}, two, true},
    {"no packets, no blocks", {0, 0, 0, 0, 1 << 20}, {}, true},
    {"block size 0 (a division by zero)", {12, 10, 40, 2, 0}, two, false},
    {"block size not a multiple of 4 KiB", {12, 10, 40, 2, 65537}, two, false},
    {"block size of 1 GiB", {12, 10, 40, 2, 1u << 30}, two, false},
    {"more than 4 GiB of blocks", {12, 10, 40, 5000, 1 << 20}, two, false},
    {"more blocks than the table", {12, 10, 40, 3, 65536}, two, false},
    {"more packets than the table counts", {13, 10, 40, 2, 65536}, two, false},
    {"more packets in a block than fit", {100000, 10, 40, 1, 4096}, {{10, 40, 100000}}, false},
    {"first after last", {12, 50, 40, 2, 65536}, two, false},
  };
  temp_dir tmp;
  for (const auto& r : rows) {
    INFO(r.what);
    CHECK(summary_problem(r.s, r.blocks).empty() == r.ok);
    const std::string path = tmp.path() + "/idx";
    ::unlink(path.c_str());
    write_index(path, r.s, r.blocks);
    if (r.ok) {
      CHECK(index_reader{path}.summary().block_size == r.s.block_size);
    } else {
      CHECK_THROWS_WITH(index_reader{path}, Catch::StartsWith("damaged index " + path + ": "));
    }
  }
}

TEST_CASE("an index that is not a regular file is refused without waiting") {
  temp_dir tmp;
  alarm(20); // RocksDB's own open() of a FIFO would wait forever
  const std::string fifo = tmp.path() + "/fifo", dir = tmp.path() + "/dir", link = tmp.path() + "/link";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  write_index(tmp.path() + "/good", {0, 0, 0, 0, 65536}, {});
  REQUIRE(::symlink((tmp.path() + "/good").c_str(), link.c_str()) == 0);
  CHECK_THROWS_WITH(index_reader{fifo}, Catch::Contains("is a FIFO, not a regular file"));
  CHECK_THROWS_WITH(index_reader{dir}, Catch::Contains("is a directory, not a regular file"));
  CHECK_THROWS_WITH(index_reader(link, true, stenotype::io::links::refuse), Catch::Contains("symbolic link"));
  CHECK_NOTHROW(index_reader{link});
  alarm(0);
}
