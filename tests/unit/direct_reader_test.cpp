// The O_DIRECT reader of long scans (io/direct_reader.hpp) and the
// file_stream that uses it (query/file_stream.hpp): the same bytes as a
// buffered read, only the span it was given, and a fall back to buffered
// reads where O_DIRECT is refused.
#include <catch2/catch.hpp>

#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <sys/statfs.h>
#include <unistd.h>

#include "io/block_builder.hpp"
#include "io/direct_reader.hpp"
#include "query/file_stream.hpp"
#include "query/query_parser.hpp"
#include "support/frames.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;

namespace {

constexpr std::uint32_t bs = 64 * 1024;

// A byte of the file at `offset`: every block different from the others.
std::uint8_t pattern(std::uint64_t offset) { return static_cast<std::uint8_t>(offset * 31 + offset / bs); }

std::string write_pattern_file(const std::string& dir, std::uint32_t blocks) {
  const std::string path = dir + "/pattern";
  std::vector<char> bytes(std::size_t{blocks} * bs);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(pattern(i));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

bool block_is(const std::uint8_t* p, std::uint64_t offset) {
  for (std::uint32_t i = 0; i < bs; ++i)
    if (p[i] != pattern(offset + i))
      return false;
  return true;
}

struct open_file {
  int fd;
  explicit open_file(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~open_file() { ::close(fd); }
};

// A file just written is in the page cache, which file_stream reads
// buffered (cheaper than the disk): out of it, as a cold file would be.
void drop_from_page_cache(const std::string& path) {
  open_file f(path);
  ::fdatasync(f.fd);
  ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_DONTNEED);
}

// A packet file of `blocks` marked blocks of `bs` bytes, `per_block` UDP packets each.
std::string write_packet_file(const std::string& dir, std::uint32_t blocks, int per_block) {
  const std::string path = dir + "/packets";
  std::vector<std::uint8_t> all(std::size_t{blocks} * bs);
  for (std::uint32_t b = 0; b < blocks; ++b) {
    io::block_builder builder{std::span<std::uint8_t>(all.data() + std::size_t{b} * bs, bs)};
    for (int i = 0; i < per_block; ++i) {
      auto f = test::frame_builder()
                 .ipv4({10, 0, static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(i)}, {10, 9, 9, 9}, 17)
                 .ports(1000, static_cast<std::uint16_t>(i))
                 .payload(100 + static_cast<std::size_t>(i), static_cast<std::uint8_t>(b))
                 .build();
      REQUIRE(builder.add(1000 + b, static_cast<std::uint32_t>(i), f, static_cast<std::uint32_t>(f.size())));
    }
    builder.finish(b);
  }
  std::ofstream(path, std::ios::binary)
    .write(reinterpret_cast<const char*>(all.data()), static_cast<std::streamsize>(all.size()));
  drop_from_page_cache(path);
  return path;
}

struct streamed {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::string> problems;
  bool direct = false;
};

// Every packet of `path`; `after_open` runs between opening and reading.
streamed stream_all(const std::string& path, const query::read_costs& costs, std::uint64_t readable = UINT64_MAX,
                    const std::function<void()>& after_open = {}) {
  drop_from_page_cache(path); // cold, as a file a query reads for the first time
  streamed out;
  query::stream_limits limits;
  limits.costs = costs;
  limits.readable_bytes = readable;
  query::file_stream s(path, nullptr, std::nullopt, query::parse_query("udp", 0),
                       [&](const io::problem& p) { out.problems.push_back(p.text); }, limits);
  if (after_open)
    after_open();
  while (s.next()) {
    out.frames.emplace_back(s.current().frame, s.current().frame + s.current().caplen);
    out.direct = out.direct || s.reads_direct();
  }
  return out;
}

query::read_costs direct_costs(unsigned depth) {
  query::read_costs c;
  c.first_window_bytes = 2 * bs;
  c.direct_min_bytes = 4 * bs;
  c.direct_depth = depth;
  return c;
}

} // namespace

TEST_CASE("the direct reader refuses spans it cannot read with O_DIRECT alignment") {
  test::temp_dir tmp;
  const auto path = write_pattern_file(tmp.path(), 4);
  open_file f(path);
  CHECK_FALSE(io::direct_reader::open(f.fd, path, 0, 4 * bs, 1000, 4));      // block size not 4 KiB multiple
  CHECK_FALSE(io::direct_reader::open(f.fd, path, 4096, 4 * bs, bs, 4));     // begin not block-aligned
  CHECK_FALSE(io::direct_reader::open(f.fd, path, 0, 4 * bs + 1, bs, 4));    // end not block-aligned
  CHECK_FALSE(io::direct_reader::open(f.fd, path, 2 * bs, 2 * bs, bs, 4));   // empty
  CHECK_FALSE(io::direct_reader::open(f.fd, path, 0, 4 * bs, bs, 0));        // no depth
  // Another file under the name than the one open (replaced meanwhile): not read.
  const std::string other = tmp.path() + "/other";
  std::ofstream(other) << "x";
  CHECK_FALSE(io::direct_reader::open(f.fd, other, 0, 4 * bs, bs, 4));
}

TEST_CASE("the direct reader delivers the file's blocks, only within its span") {
  test::temp_dir tmp;
  const auto path = write_pattern_file(tmp.path(), 20);
  open_file f(path);
  auto r = io::direct_reader::open(f.fd, path, 2 * bs, 18 * bs, bs, 4);
  if (!r)
    SKIP_TEST("this file system refuses O_DIRECT");
  CHECK(r->read(bs) == nullptr);      // before the span
  CHECK(r->read(18 * bs) == nullptr); // at its end (the durable extent, for a growing file)
  CHECK(r->read(2 * bs + 4096) == nullptr); // not a block's offset
  CHECK_FALSE(r->failed());           // none of those is a failure: nothing was read
  for (std::uint64_t b = 2; b < 18; ++b) {
    const std::uint8_t* p = r->read(b * bs);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 4096 == 0);
    CHECK(block_is(p, b * bs));
  }
  // Jumps ahead (skipped blocks) and back (start again there).
  const std::uint8_t* p = r->read(5 * bs);
  REQUIRE(p);
  CHECK(block_is(p, 5 * bs));
  p = r->read(12 * bs);
  REQUIRE(p);
  CHECK(block_is(p, 12 * bs));
  p = r->read(3 * bs);
  REQUIRE(p);
  CHECK(block_is(p, 3 * bs));
  CHECK_FALSE(r->failed());
}

TEST_CASE("the direct reader fails for good where the file is shorter than its span") {
  test::temp_dir tmp;
  const auto path = write_pattern_file(tmp.path(), 6);
  open_file f(path);
  auto r = io::direct_reader::open(f.fd, path, 0, 10 * bs, bs, 8); // reads are asked past the file's end
  if (!r)
    SKIP_TEST("this file system refuses O_DIRECT");
  for (std::uint64_t b = 0; b < 6; ++b)
    REQUIRE(r->read(b * bs));
  CHECK(r->read(6 * bs) == nullptr);
  CHECK(r->failed());
  CHECK(r->why().find("short read") != std::string::npos);
  CHECK(r->read(0) == nullptr); // for good: the caller reads the rest buffered
}

TEST_CASE("a file in the page cache (tmpfs) is read buffered") {
  struct statfs fs;
  if (::statfs("/dev/shm", &fs) != 0 || fs.f_type != 0x01021994 /* TMPFS_MAGIC */)
    SKIP_TEST("no tmpfs at /dev/shm");
  const std::string dir = "/dev/shm/stenotype-direct-test-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0700);
  const auto path = write_packet_file(dir, 12, 5);
  const auto buffered = stream_all(path, direct_costs(0));
  const auto fallback = stream_all(path, direct_costs(4));
  CHECK_FALSE(fallback.direct);
  CHECK(fallback.frames == buffered.frames);
  CHECK(fallback.frames.size() == 12 * 5);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a direct read that fails falls back to buffered reads, which report what they find") {
  // The file is cut after the stream opened it: the direct read of the
  // first missing block comes back short, the buffered one finds it gone.
  test::temp_dir tmp;
  const auto path = write_packet_file(tmp.path(), 16, 7);
  auto cut = [&] { REQUIRE(::truncate(path.c_str(), 10 * bs) == 0); };
  const auto buffered = stream_all(path, direct_costs(0), UINT64_MAX, cut);
  write_packet_file(tmp.path(), 16, 7);
  const auto direct = stream_all(path, direct_costs(4), UINT64_MAX, cut);
  CHECK(buffered.frames.size() == 10 * 7);
  CHECK(direct.frames == buffered.frames);
  CHECK(direct.problems == buffered.problems);
  CHECK_FALSE(buffered.problems.empty());
}

TEST_CASE("a scan read with O_DIRECT yields the packets a buffered one does, and stops at the durable extent") {
  test::temp_dir tmp;
  const auto path = write_packet_file(tmp.path(), 16, 7);
  const auto buffered = stream_all(path, direct_costs(0));
  REQUIRE(buffered.frames.size() == 16 * 7);
  const auto direct = stream_all(path, direct_costs(4));
  if (!direct.direct)
    SKIP_TEST("this file system refuses O_DIRECT");
  CHECK(direct.frames == buffered.frames);
  CHECK(direct.problems == buffered.problems);
  // A growing file: only its durable extent is read, with or without O_DIRECT.
  const auto growing_buffered = stream_all(path, direct_costs(0), 11 * bs);
  const auto growing_direct = stream_all(path, direct_costs(4), 11 * bs);
  CHECK(growing_buffered.frames.size() == 11 * 7);
  CHECK(growing_direct.frames == growing_buffered.frames);
  CHECK(growing_direct.direct);
}

TEST_CASE("a damaged block read with O_DIRECT is reported as it is when read buffered") {
  test::temp_dir tmp;
  const auto path = write_packet_file(tmp.path(), 16, 7);
  {
    // Garbage over block 9's header (inside the direct span).
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9 * bs);
    const std::string junk(64, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto buffered = stream_all(path, direct_costs(0));
  const auto direct = stream_all(path, direct_costs(4));
  if (!direct.direct)
    SKIP_TEST("this file system refuses O_DIRECT");
  CHECK(buffered.frames.size() < 16 * 7);
  CHECK_FALSE(buffered.problems.empty());
  CHECK(direct.frames == buffered.frames);
  CHECK(direct.problems == buffered.problems);
}
