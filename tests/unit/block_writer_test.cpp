#include <catch2/catch.hpp>

#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "io/block_builder.hpp"
#include "io/block_writer.hpp"
#include "io/layout.hpp"
#include "io/memory_blocks.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::io;

namespace {
std::vector<std::string> list(const std::string& dir) { return list_names(dir); }
std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
} // namespace

TEST_CASE("blocks land at their offsets, files appear only when finished") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 64 * 1024;
  auto pool = std::make_shared<memory_blocks>(8, bs);
  for (std::uint32_t i = 0; i < 6; ++i) {
    pool->mark_taken(i);
    std::memset(pool->block(i).data(), 'a' + static_cast<int>(i), bs);
  }
  writer_config cfg;
  cfg.directory = tmp.path() + "/PKT0";
  cfg.block_size = bs;
  cfg.aiops = 4;
  cfg.grow_bytes = 2 * bs;
  block_writer w{cfg};
  for (std::uint32_t i = 0; i < 3; ++i)
    w.write(1000, i * bs, block_handle{pool, i, pool->block(i), i, 0});
  // While open, the file is hidden.
  CHECK(list(cfg.directory) == std::vector<std::string>{".1000"});
  auto f = w.finish(1000);
  REQUIRE(f);
  CHECK(f->blocks == 3);
  CHECK(f->bytes == 3 * bs);
  for (std::uint32_t i = 3; i < 6; ++i)
    w.write(2000, (i - 3) * bs, block_handle{pool, i, pool->block(i), i, 0});
  REQUIRE(w.finish(2000));
  CHECK_FALSE(w.finish(3000)); // never opened: nothing to finish
  CHECK(list(cfg.directory) == std::vector<std::string>{"1000", "2000"});

  // Every block returned to its source once written.
  for (std::size_t i = 0; i < 6; ++i)
    CHECK(pool->is_free(i));
  // Contents byte for byte, preallocated tail trimmed, mode 0600.
  auto a = slurp(cfg.directory + "/1000");
  REQUIRE(a.size() == 3 * bs);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(std::count(a.begin() + static_cast<long>(i * bs), a.begin() + static_cast<long>((i + 1) * bs),
                     'a' + static_cast<int>(i)) == static_cast<long>(bs));
  struct stat st;
  REQUIRE(stat((cfg.directory + "/2000").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == static_cast<off_t>(3 * bs));
  CHECK(w.stats().blocks == 6);
  CHECK(w.stats().files == 2);
}

TEST_CASE("the writer never has more than aiops writes in flight") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 4096;
  auto pool = std::make_shared<memory_blocks>(64, bs);
  writer_config cfg;
  cfg.directory = tmp.path() + "/x";
  cfg.block_size = bs;
  cfg.aiops = 2;
  block_writer w{cfg};
  for (std::uint32_t i = 0; i < 64; ++i) {
    pool->mark_taken(i);
    w.write(1, i * bs, block_handle{pool, i, pool->block(i), i, 0});
    CHECK(w.stats().in_flight <= 2);
  }
  REQUIRE(w.finish(1));
  CHECK(w.stats().blocks == 64);
}

TEST_CASE("an unwritable directory is a clear error") {
  writer_config cfg;
  cfg.directory = "/proc/self/nope";
  CHECK_THROWS_WITH(block_writer{cfg}, Catch::Contains("/proc/self/nope"));
}
