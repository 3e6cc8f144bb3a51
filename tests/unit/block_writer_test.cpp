#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

#include "io/block_builder.hpp"
#include "io/block_writer.hpp"
#include "io/layout.hpp"
#include "io/memory_blocks.hpp"
#include "stenotype/error.hpp"
#include "support/loop_fs.hpp"
#include "support/skip.hpp"
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

// --- a full disk, and space freed meanwhile (root: a loop-mounted ext4) -------

namespace {

// Writes `n` blocks of `bs` bytes, block k filled with (k % 251), into file 1
// through `w`, reusing a small pool as a ring would.
void write_numbered_blocks(block_writer& w, std::size_t n, std::size_t bs) {
  auto pool = std::make_shared<memory_blocks>(16, bs);
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::uint32_t i = k % 16;
    REQUIRE(pool->is_free(i)); // at most aiops (< 16) writes in flight
    pool->mark_taken(i);
    std::memset(pool->block(i).data(), static_cast<int>(k % 251), bs);
    w.write(1, std::uint64_t{k} * bs, block_handle{pool, i, pool->block(i), k, 0});
  }
}

// `count` files of `mb` MiB each (fallocated: the space is really taken).
std::vector<std::string> ballast(const std::string& dir, int count, int mb) {
  std::vector<std::string> files;
  for (int i = 0; i < count; ++i) {
    files.push_back(dir + "/ballast" + std::to_string(i));
    const int fd = ::open(files.back().c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::fallocate(fd, 0, 0, static_cast<off_t>(mb) << 20) == 0);
    ::close(fd);
  }
  return files;
}

// Fills what is left of the filesystem of `dir` but `keep` bytes.
void fill_but(const std::string& dir, std::uint64_t keep) {
  struct statvfs v {};
  REQUIRE(::statvfs(dir.c_str(), &v) == 0);
  const std::uint64_t avail = std::uint64_t{v.f_bavail} * v.f_frsize;
  REQUIRE(avail > keep);
  REQUIRE(std::system(("fallocate -l " + std::to_string(avail - keep) + " " + dir + "/filler").c_str()) == 0);
}

} // namespace

TEST_CASE("a full disk: the writer asks for space (before it is full, when it preallocates) and writes every block") {
  if (::geteuid() != 0)
    SKIP_TEST("needs root to loop-mount a filesystem");
  REQUIRE_LOOP_FS(fs, 32);
  constexpr std::size_t bs = 64 * 1024, n = 200; // 12.5 MiB
  auto old = ballast(fs.path(), 8, 2);           // what retention would delete
  fill_but(fs.path(), 1 << 20);
  // What the retention actor does: delete the oldest (here: a ballast file).
  auto delete_oldest = [&] {
    if (old.empty())
      return false;
    REQUIRE(::unlink(old.back().c_str()) == 0);
    old.pop_back();
    return true;
  };
  std::vector<std::string> asked_for; // waited for: the disk was full
  int nearly_full = 0;                // not waited for
  writer_config cfg;
  cfg.directory = fs.path() + "/PKT0";
  cfg.block_size = bs;
  cfg.aiops = 8;
  cfg.grow_bytes = GENERATE(0, 16 * bs); // 0: no preallocation, the writes themselves find the disk full
  cfg.reclaim_space = [&](const std::string& path) {
    asked_for.push_back(path);
    return delete_oldest();
  };
  cfg.want_space = [&](const std::string& path, std::uint64_t bytes) {
    CHECK(path == cfg.directory + "/.1");
    CHECK(bytes == cfg.grow_bytes);
    ++nearly_full;
    delete_oldest();
  };
  block_writer w{cfg};
  write_numbered_blocks(w, n, bs);
  const auto f = w.finish(1);
  REQUIRE(f);
  CHECK(f->blocks == n);
  CHECK(w.stats().blocks == n);
  CHECK(w.stats().in_flight == 0);
  CHECK(w.stats().space_requests == asked_for.size());
  CHECK(w.stats().headroom_requests == static_cast<std::uint64_t>(nearly_full));
  // 12.5 MiB in a 1 MiB gap: 2 MiB per deletion.
  const std::size_t deletions = asked_for.size() + static_cast<std::size_t>(nearly_full);
  CHECK(deletions >= 5);
  CHECK(deletions <= 8);
  if (cfg.grow_bytes == 0) {
    CHECK(nearly_full == 0);
    CHECK(w.stats().no_space_retries >= asked_for.size());
  } else { // asked when less than a step is left after reserving one: no write finds the disk full
    CHECK(asked_for.empty());
    CHECK(w.stats().no_space_retries == 0);
  }
  for (const auto& p : asked_for)
    CHECK(p == cfg.directory + "/.1");
  const auto bytes = slurp(cfg.directory + "/1");
  REQUIRE(bytes.size() == n * bs);
  for (std::size_t k = 0; k < n; ++k) {
    INFO("block " << k);
    CHECK(std::count(bytes.begin() + static_cast<long>(k * bs), bytes.begin() + static_cast<long>((k + 1) * bs),
                     static_cast<std::uint8_t>(k % 251)) == static_cast<long>(bs));
  }
}

TEST_CASE("a full disk with nothing left to free fails the write, naming the file") {
  if (::geteuid() != 0)
    SKIP_TEST("needs root to loop-mount a filesystem");
  REQUIRE_LOOP_FS(fs, 32);
  constexpr std::size_t bs = 64 * 1024;
  fill_but(fs.path(), 1 << 20);
  int asked = 0;
  writer_config cfg;
  cfg.directory = fs.path() + "/PKT0";
  cfg.block_size = bs;
  cfg.aiops = 8;
  cfg.reclaim_space = [&](const std::string&) {
    ++asked;
    return false;
  };
  block_writer w{cfg};
  try {
    write_numbered_blocks(w, 64, bs);
    w.finish(1);
    FAIL("4 MiB fitted into 1 MiB");
  } catch (const stenotype::failure& e) {
    CHECK(e.code() == stenotype::errc::no_space);
    CHECK_THAT(e.what(), Catch::Contains("No space left on device") && Catch::Contains(cfg.directory + "/.1"));
  }
  CHECK(asked == 1); // one refusal is final
}
