// Reading packet files: the block mark, how a reader decides a file's block
// size (never by looking for headers), and the whole-file checks that keep
// damaged or forged bytes from being read as packets.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "io/block_builder.hpp"
#include "io/packet_file_reader.hpp"
#include "io/regular_file.hpp"
#include "stenotype/block_format.hpp"
#include "support/built_files.hpp"
#include "support/forged_blocks.hpp"
#include "support/frames.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::io;
using stenotype::test::build_packet_file;
using stenotype::test::temp_dir;
using stenotype::test::write_bytes;
using layout = block_builder::layout;
using bytes = std::vector<std::uint8_t>;

namespace {

std::vector<bytes> numbered_frames(std::uint32_t n, std::size_t size = 1514) {
  return test::numbered_frames(n, size);
}

struct read_result {
  std::vector<bytes> frames;
  std::vector<problem> problems;
  std::size_t block_size = 0;
  block_size_source source{};
};

read_result read_file(const std::string& path, std::size_t unmarked_block_size = 0) {
  read_result r;
  packet_file_reader reader{path, unmarked_block_size};
  r.block_size = reader.block_size();
  r.source = reader.layout().source;
  reader.for_each_packet([&](const packet_ref& p, std::uint64_t) { r.frames.emplace_back(p.frame, p.frame + p.caplen); },
                         [&](const problem& p) { r.problems.push_back(p); });
  return r;
}

bool has_problem(const read_result& r, problem_kind k) {
  for (const auto& p : r.problems)
    if (p.kind == k)
      return true;
  return false;
}

template <class T>
void put(bytes& file, std::size_t at, T value) {
  std::memcpy(file.data() + at, &value, sizeof value);
}

constexpr std::size_t num_pkts_at = offsetof(tpacket_block_desc, hdr) + offsetof(tpacket_hdr_v1, num_pkts);
constexpr std::size_t blk_len_at = offsetof(tpacket_block_desc, hdr) + offsetof(tpacket_hdr_v1, blk_len);

} // namespace

TEST_CASE("block_builder marks every block: magic, version, block size, packets after the mark") {
  for (std::size_t bs : {4096u, 65536u, 1u << 20}) {
    INFO(bs);
    const auto file = build_packet_file(numbered_frames(50), bs);
    REQUIRE(file.size() % bs == 0);
    for (std::size_t off = 0; off < file.size(); off += bs) {
      std::span<const std::uint8_t> block(file.data() + off, bs);
      block_header h{};
      REQUIRE(read_block_header(block, h));
      CHECK(h.offset_to_priv == 48);
      CHECK(h.offset_to_first_pkt == 64);
      const auto mark = read_block_mark(block);
      REQUIRE(mark);
      CHECK(mark->version == 1);
      CHECK(mark->block_size == bs);
      CHECK(std::memcmp(block.data() + 48, "STENOBLK", 8) == 0);
      CHECK(check_block(block, mark).fault == block_fault::none);
    }
  }
}

TEST_CASE("the mark is written only where the header reserves room for it") {
  bytes block(65536);
  block_builder b{block, layout::unmarked};
  const auto frames = numbered_frames(3, 200);
  for (const auto& f : frames)
    REQUIRE(b.add(1, 0, f, 200));
  b.finish(0);
  block_header h{};
  REQUIRE(read_block_header(block, h));
  CHECK(h.offset_to_first_pkt == 48); // Google stenotype's layout: no private area
  const bytes before = block;
  write_block_mark(block);
  CHECK(block == before); // the first packet's header is where a mark would go: untouched
  CHECK_FALSE(read_block_mark(block));
  bytes zero(4096);
  write_block_mark(zero); // no header at all
  CHECK(zero == bytes(4096));
}

TEST_CASE("the block size comes from the index, else the mark, else the flag, else 1 MiB") {
  const auto marked = build_packet_file(numbered_frames(10, 300), 65536);
  const auto unmarked = build_packet_file(numbered_frames(10, 300), 65536, layout::unmarked);
  const std::span<const std::uint8_t> m(marked.data(), marked_first_packet), u(unmarked.data(), marked_first_packet);
  struct row {
    const char* what;
    std::span<const std::uint8_t> head;
    std::uint32_t index;
    std::size_t flag;
    std::size_t want;
    block_size_source source;
    bool index_rejected;
  };
  const row rows[] = {
    {"marked, index agrees", m, 65536, 0, 65536, block_size_source::index, false},
    {"marked, no index", m, 0, 0, 65536, block_size_source::mark, false},
    {"marked, the flag does not override the mark", m, 0, 8192, 65536, block_size_source::mark, false},
    {"marked, index disagrees: the mark wins", m, 8192, 0, 65536, block_size_source::mark, true},
    {"marked, index block size 0", m, 0, 0, 65536, block_size_source::mark, false},
    {"marked, index block size impossible", m, 1000, 0, 65536, block_size_source::mark, true},
    {"unmarked, index", u, 65536, 0, 65536, block_size_source::index, false},
    {"unmarked, index of 256 MiB blocks", u, 256u << 20, 4096, 4096, block_size_source::flag, true},
    {"unmarked, flag", u, 0, 65536, 65536, block_size_source::flag, false},
    {"unmarked, nothing: Google's 1 MiB", u, 0, 0, 1 << 20, block_size_source::fixed, false},
    {"a file of 10 bytes", u.first(10), 0, 0, 1 << 20, block_size_source::fixed, false},
    {"an empty file", u.first(0), 0, 0, 1 << 20, block_size_source::fixed, false},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    const auto l = choose_block_layout(r.head, r.index, r.flag);
    CHECK(l.block_size == r.want);
    CHECK(l.source == r.source);
    CHECK(l.index_rejected.empty() != r.index_rejected);
    CHECK(l.mark.has_value() == (r.head.data() == m.data()));
  }
}

TEST_CASE("a mark of an unknown version or an impossible block size is not used") {
  auto file = build_packet_file(numbered_frames(10, 300), 65536);
  SECTION("version 2") { put<std::uint32_t>(file, 56, 2); }
  SECTION("block size 0") { put<std::uint32_t>(file, 60, 0); }
  SECTION("block size 1 GiB") { put<std::uint32_t>(file, 60, 1u << 30); }
  SECTION("block size not a multiple of 4 KiB") { put<std::uint32_t>(file, 60, 65536 + 8); }
  const auto l = choose_block_layout(std::span<const std::uint8_t>(file).first(marked_first_packet), 0, 0);
  CHECK_FALSE(l.mark);
  CHECK_FALSE(l.mark_rejected.empty());
  CHECK(l.block_size == google_block_size);
}

TEST_CASE("check_block: header, mark and packet chain must hold") {
  auto file = build_packet_file(numbered_frames(30, 1000), 65536);
  std::span<std::uint8_t> block(file.data(), 65536);
  const auto mark = read_block_mark(block);
  REQUIRE(mark);
  block_header h{};
  REQUIRE(read_block_header(block, h));
  tpacket3_hdr first;
  std::memcpy(&first, block.data() + h.offset_to_first_pkt, sizeof first);
  const std::size_t second = h.offset_to_first_pkt + first.tp_next_offset;
  block_fault want = block_fault::none;
  std::uint32_t want_valid = h.num_pkts;

  SECTION("intact") {}
  SECTION("zeros: never written") {
    std::fill(block.begin(), block.end(), 0);
    want = block_fault::bad_header;
    want_valid = 0;
  }
  SECTION("version flipped") {
    block[0] ^= 0xff;
    want = block_fault::bad_header;
    want_valid = 0;
  }
  SECTION("first packet not 8-byte aligned") {
    put<std::uint32_t>(file, offsetof(tpacket_block_desc, hdr) + offsetof(tpacket_hdr_v1, offset_to_first_pkt), 68);
    want = block_fault::bad_header;
    want_valid = 0;
  }
  SECTION("mark of another block size") {
    put<std::uint32_t>(file, 60, 4096);
    want = block_fault::wrong_mark;
    want_valid = 0;
  }
  SECTION("mark missing") {
    block[48] = 'X';
    want = block_fault::wrong_mark;
    want_valid = 0;
  }
  SECTION("more packets announced than chained") {
    put<std::uint32_t>(file, num_pkts_at, h.num_pkts + 5);
    want = block_fault::bad_packets;
  }
  SECTION("blk_len shorter than the packets") {
    put<std::uint32_t>(file, blk_len_at, static_cast<std::uint32_t>(second + 100));
    want = block_fault::bad_packets;
    want_valid = 1;
  }
  SECTION("a next offset into the packet's own frame (payload as structure)") {
    put<std::uint32_t>(file, second + offsetof(tpacket3_hdr, tp_next_offset), 200);
    want = block_fault::bad_packets;
    want_valid = 2; // the second packet holds; what follows it is not believed
  }
  SECTION("a snaplen past blk_len") {
    put<std::uint32_t>(file, second + offsetof(tpacket3_hdr, tp_snaplen), 60000);
    put<std::uint32_t>(file, second + offsetof(tpacket3_hdr, tp_len), 60000);
    want = block_fault::bad_packets;
    want_valid = 1;
  }
  const auto c = check_block(block, mark);
  CHECK(c.fault == want);
  CHECK(c.valid == want_valid);
  // A file without marks does not ask for one.
  if (want == block_fault::wrong_mark)
    CHECK(check_block(block, std::nullopt).fault == block_fault::none);
}

TEST_CASE("no byte of a frame is read as structure: forged block headers at every 4 KiB boundary") {
  temp_dir tmp;
  const std::string path = tmp.path() + "/1700000000000000";
  struct row {
    const char* what;
    std::size_t block_size;
    layout l;
    std::size_t flag;
    block_size_source source;
  };
  const row rows[] = {
    {"ours, 64 KiB blocks", 65536, layout::marked, 0, block_size_source::mark},
    {"ours, 1 MiB blocks", 1 << 20, layout::marked, 0, block_size_source::mark},
    {"ours, 4 KiB blocks", 4096, layout::marked, 0, block_size_source::mark},
    {"ours, 64 KiB blocks, a wrong flag is ignored", 65536, layout::marked, 4096, block_size_source::mark},
    {"Google's, 1 MiB blocks", 1 << 20, layout::unmarked, 0, block_size_source::fixed},
    {"unmarked, 64 KiB blocks, --blocksize_kb=64", 65536, layout::unmarked, 65536, block_size_source::flag},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    auto frames = numbered_frames(1400);
    const std::size_t planted = test::plant_forged_blocks(frames, r.block_size, r.l, 50);
    if (r.block_size > 4096) // (a 4 KiB block has no boundary inside)
      CHECK(planted > 1400 * 1514 / 4096 / 2); // most boundaries carry one
    write_bytes(path, build_packet_file(frames, r.block_size, r.l));
    const auto got = read_file(path, r.flag);
    CHECK(got.block_size == r.block_size);
    CHECK(got.source == r.source);
    CHECK(got.problems.empty());
    CHECK(got.frames == frames); // every frame, in order, and nothing else
    for (const auto& f : got.frames)
      CHECK_FALSE(test::is_forged(f.data(), f.size()));
  }
  SECTION("unmarked 64 KiB blocks read as 1 MiB: a warning, and still nothing forged") {
    auto frames = numbered_frames(1400);
    test::plant_forged_blocks(frames, 65536, layout::unmarked, 50);
    auto file = build_packet_file(frames, 65536, layout::unmarked);
    REQUIRE(file.size() % (1 << 20) != 0);
    write_bytes(path, file);
    const auto got = read_file(path);
    CHECK(got.source == block_size_source::fixed);
    CHECK(has_problem(got, problem_kind::file_truncated));
    CHECK(got.frames.size() < frames.size());
    for (const auto& f : got.frames)
      CHECK_FALSE(test::is_forged(f.data(), f.size()));
  }
}

TEST_CASE("a whole file is checked: partial tail, damaged blocks, a block of another file") {
  temp_dir tmp;
  const std::string path = tmp.path() + "/1";
  const auto frames = numbered_frames(400, 700); // ~90 per 64 KiB block: 5 blocks
  const auto intact = build_packet_file(frames, 65536);
  REQUIRE(intact.size() == 5 * 65536);
  std::vector<std::size_t> first_in_block; // index of each block's first frame
  {
    write_bytes(path, intact);
    packet_file_reader r{path};
    std::size_t i = 0;
    r.for_each_block([&](std::span<const std::uint8_t> b, std::uint64_t) {
      first_in_block.push_back(i);
      block_header h{};
      read_block_header(b, h);
      i += h.num_pkts;
    });
    first_in_block.push_back(i);
    REQUIRE(i == frames.size());
  }
  auto file = intact;
  std::vector<bytes> want = frames;
  problem_kind kind{};
  auto lose_block = [&](std::size_t b) {
    want.erase(want.begin() + static_cast<long>(first_in_block[b]),
               want.begin() + static_cast<long>(first_in_block[b + 1]));
  };
  SECTION("cut inside block 3") {
    file.resize(3 * 65536 + 3000);
    lose_block(4);
    lose_block(3);
    kind = problem_kind::file_truncated;
  }
  SECTION("block 2's header zeroed") {
    std::fill_n(file.begin() + 2 * 65536, 48, 0);
    lose_block(2);
    kind = problem_kind::block_damaged;
  }
  SECTION("block 1 from a file of 4 KiB blocks (another mark)") {
    put<std::uint32_t>(file, 65536 + 60, 4096);
    lose_block(1);
    kind = problem_kind::block_damaged;
  }
  SECTION("block 4's packet count too high: its packets that hold are kept") {
    put<std::uint32_t>(file, 4 * 65536 + num_pkts_at, 1000);
    kind = problem_kind::block_damaged;
  }
  SECTION("block 0's mark of an unknown version: read as 1 MiB blocks, of which it holds none") {
    put<std::uint32_t>(file, 56, 7);
    want.clear();
    kind = problem_kind::block_damaged;
  }
  write_bytes(path, file);
  const auto got = read_file(path);
  CHECK(has_problem(got, kind));
  for (const auto& p : got.problems)
    CHECK(p.text.find(path) != std::string::npos); // every warning names the file
  CHECK(got.frames == want);
}

TEST_CASE("an empty packet file holds no packets and is no problem: an idle period's file") {
  // Google's stenotype, and ours with --index_format=stenographer, rotate an
  // idle file at every --fileage_sec: empty packet files are normal there.
  temp_dir tmp;
  const std::string path = tmp.path() + "/1";
  write_bytes(path, {});
  const auto got = read_file(path);
  CHECK(got.problems.empty());
  CHECK(got.frames.empty());
  CHECK(tail_problem(path, 0, 65536).empty());
  CHECK_FALSE(tail_problem(path, 100, 65536).empty());
}

TEST_CASE("only regular files are opened, and opening never waits") {
  temp_dir tmp;
  alarm(20); // a reader that waits on the FIFO would hang the suite: die instead
  const std::string fifo = tmp.path() + "/1", dir = tmp.path() + "/2", link = tmp.path() + "/3",
                    file = tmp.path() + "/4";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  write_bytes(file, build_packet_file(numbered_frames(5, 100), 4096));
  REQUIRE(::symlink(file.c_str(), link.c_str()) == 0);
  for (const auto& [path, what] : {std::pair{fifo, "a FIFO"}, std::pair{dir, "a directory"}}) {
    INFO(path);
    try {
      packet_file_reader r{path};
      FAIL("opened " << path);
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == path + " is " + what + ", not a regular file");
    }
    CHECK_THROWS(regular_file{path, links::refuse});
  }
  CHECK_THROWS_WITH(regular_file(link, links::refuse), Catch::Contains("symbolic link"));
  CHECK(regular_file(link, links::follow).size() == 4096);
  CHECK_THROWS_WITH(regular_file(tmp.path() + "/none"), Catch::Contains("No such file"));
  alarm(0);
}

TEST_CASE("every problem kind makes its documented exit status, the worst one wins") {
  using k = problem_kind;
  const std::pair<k, int> table[] = {
    {k::index_missing, 0},   {k::index_unusable, 0},    {k::index_short, 0},
    {k::file_unreadable, 3}, {k::file_truncated, 3},    {k::block_damaged, 3},
    {k::packets_missing, 3}, {k::folder_unreadable, 3}, {k::not_a_data_directory, 4},
  };
  problem_list all;
  CHECK(all.exit_status() == exit_status::complete);
  for (const auto& [kind, status] : table) {
    CHECK(exit_status_of(kind) == status);
    problem_list one;
    one.add({kind, "f", "f: x"});
    CHECK(one.exit_status() == status);
  }
  all.add({k::index_missing, "a", "a"});
  CHECK(all.exit_status() == 0);
  all.add({k::block_damaged, "b", "b"});
  all.add({k::index_short, "c", "c"});
  CHECK(all.exit_status() == 3);
  all.add({k::not_a_data_directory, "d", "d"});
  CHECK(all.exit_status() == 4);
  CHECK(all.all.size() == 4);
}
