// Start-up recovery touches only the names stenotype writes (io/layout.hpp).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "index/file_index.hpp"
#include "index/index_file.hpp"
#include "index/index_format.hpp"
#include "index/keys.hpp"
#include "io/block_builder.hpp"
#include "io/layout.hpp"
#include "store/recovery.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;

namespace {

void write_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos)
      return true;
  return false;
}

// A packet file as the writer leaves it: one block of `packets` 60-byte
// frames (1000 ns apart), then zeros (preallocation) up to `file_bytes`.
std::string one_block_file(std::uint32_t bs, std::size_t file_bytes, int packets) {
  std::string out(file_bytes, '\0');
  io::block_builder b{{reinterpret_cast<std::uint8_t*>(out.data()), bs}};
  const std::vector<std::uint8_t> frame(60, 0xab);
  for (int i = 0; i < packets; ++i)
    REQUIRE(b.add(1700000000, static_cast<std::uint32_t>(1000 * i), frame, 60));
  b.finish(0);
  return out;
}

// PKT0 and IDX0 of a fresh data directory.
struct thread_dirs {
  test::temp_dir tmp;
  std::string pkt = io::packet_dir(tmp.path(), 0), idx = io::index_dir(tmp.path(), 0);
  thread_dirs() {
    io::make_directories(pkt);
    io::make_directories(idx);
  }
};

} // namespace

TEST_CASE("recovery: our hidden files are made whole, foreign entries are left alone") {
  constexpr std::uint32_t bs = 4096;
  thread_dirs d;
  const std::string &pkt = d.pkt, &idx = d.idx;
  // A crash's leftovers: a hidden packet file (one written block, then
  // preallocated zeros) and a hidden index of no packet file.
  const std::string packets = one_block_file(bs, 2 * bs, 2);
  write_file(pkt + "/.1000", packets);
  write_file(idx + "/.2000", "half an index");
  // Someone else's: a marker file, a snapshot folder, a name that looks
  // like a number but is not one we write.
  write_file(pkt + "/.keep", "keep me");
  write_file(idx + "/.keep", "keep me too");
  REQUIRE(::mkdir((pkt + "/.snapshot").c_str(), 0700) == 0);
  write_file(pkt + "/00001", "not ours");

  std::vector<std::string> log;
  REQUIRE_NOTHROW(store::recover_thread_dir(d.tmp.path(), 0, bs, index_format::native,
                                         [&](const std::string& line) { log.push_back(line); }));
  INFO(Catch::Detail::stringify(log));
  CHECK(io::list_names(pkt) == std::vector<std::string>{".keep", ".snapshot", "00001", "1000"});
  CHECK(io::list_names(idx) == std::vector<std::string>{".keep", "1000"});
  CHECK(read_file(pkt + "/.keep") == "keep me");
  CHECK(read_file(idx + "/.keep") == "keep me too");
  CHECK(read_file(pkt + "/00001") == "not ours");
  CHECK(read_file(pkt + "/1000") == packets.substr(0, bs)); // cut after the valid block
  CHECK(index::index_reader{idx + "/1000"}.summary().packets == 2);
  CHECK(contains(log, "kept 1 complete block(s) of " + pkt + "/.1000"));
  CHECK(contains(log, "removed " + idx + "/.2000 (no packet file)"));
  CHECK(log.size() == 2);
}

TEST_CASE("recovery: with --index_format=stenographer the indexes it builds are stenographer's, also for an idle file") {
  constexpr std::uint32_t bs = 1 << 20;
  thread_dirs d;
  const std::string &pkt = d.pkt, &idx = d.idx;
  // A crash's leftover (a hidden file with one block) and, older, an idle
  // file published without its index (killed between the two renames).
  const std::string packets = one_block_file(bs, bs, 1);
  write_file(pkt + "/.2000", packets);
  write_file(pkt + "/3000", "");
  std::vector<std::string> log;
  REQUIRE_NOTHROW(store::recover_thread_dir(d.tmp.path(), 0, bs, index_format::stenographer,
                                         [&](const std::string& line) { log.push_back(line); }));
  INFO(Catch::Detail::stringify(log));
  CHECK(io::list_names(pkt) == std::vector<std::string>{"2000", "3000"});
  CHECK(io::list_names(idx) == std::vector<std::string>{"2000", "3000"});
  for (const auto* name : {"2000", "3000"})
    CHECK(index::detect_index_format(idx + "/" + name) == index_format::stenographer);
  CHECK(index::file_index{idx + "/3000"}.lookup(index::protocol_key(6).view()).empty());
  CHECK(contains(log, "built the missing index of " + pkt + "/3000"));
}

TEST_CASE("recovery: an index it builds as root belongs to the owner of its packet file") {
  if (::geteuid() != 0)
    SKIP_TEST("needs root (recovery runs as root before the capture drops its privileges)");
  constexpr std::uint32_t bs = 4096;
  const uid_t uid = 65534; // nobody: the capture's default user
  const gid_t gid = 65534;
  for (const auto format : {index_format::native, index_format::stenographer}) {
    thread_dirs d;
    const std::string &pkt = d.pkt, &idx = d.idx;
    const std::string packets = one_block_file(bs, bs, 1);
    // Written by the capture as its user: a hidden file (a crash), and the
    // newest file published without its index.
    write_file(pkt + "/.1000", packets);
    write_file(pkt + "/2000", packets);
    for (const auto* name : {"/.1000", "/2000"})
      REQUIRE(::chown((pkt + name).c_str(), uid, gid) == 0);
    std::vector<std::string> log;
    REQUIRE_NOTHROW(store::recover_thread_dir(d.tmp.path(), 0, bs, format,
                                           [&](const std::string& line) { log.push_back(line); }));
    INFO(Catch::Detail::stringify(log));
    REQUIRE(io::list_names(idx) == std::vector<std::string>{"1000", "2000"});
    for (const auto* name : {"/1000", "/2000"}) {
      struct stat st;
      REQUIRE(::stat((idx + name).c_str(), &st) == 0);
      CHECK(st.st_uid == uid);
      CHECK(st.st_gid == gid);
      CHECK((st.st_mode & 0777) == 0600);
    }
  }
}
