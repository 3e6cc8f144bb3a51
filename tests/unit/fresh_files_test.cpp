// The files that make the open packet file queryable (fresh packets): the
// writer's durable-extent sidecar, the indexer's partial indexes, their
// names, and how a query, recovery and the full index treat them.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

#include "index/block_indexer.hpp"
#include "index/file_index.hpp"
#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "index/part_set.hpp"
#include "io/durable_extent.hpp"
#include "io/layout.hpp"
#include "query/executor.hpp"
#include "query/query_parser.hpp"
#include "store/recovery.hpp"
#include "support/built_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;

namespace {

constexpr std::uint32_t bs = 16 * 1024;
constexpr std::uint64_t id = 1700000000000000;

struct fixture {
  test::temp_dir tmp;
  std::string dir = tmp.path(), pkt = io::packet_dir(dir, 0), idx = io::index_dir(dir, 0);
  std::vector<std::vector<std::uint8_t>> frames = test::numbered_frames(300);
  std::vector<std::uint8_t> file = test::build_packet_file(frames, bs);
  std::uint32_t blocks = static_cast<std::uint32_t>(file.size() / bs);

  fixture() {
    io::make_directories(pkt);
    io::make_directories(idx);
    REQUIRE(blocks >= 6);
  }

  // As the indexer does: a part after each of `cuts` (block counts), written whole, renamed.
  void write_parts(index::index_builder& b, const std::vector<std::uint32_t>& cuts) {
    b.enable_parts();
    std::uint32_t done = 0;
    for (const std::uint32_t cut : cuts) {
      for (; done < cut; ++done)
        index::index_block(b, std::span<const std::uint8_t>(file).subspan(std::size_t{done} * bs, bs),
                           std::uint64_t{done} * bs);
      const std::string draft = idx + "/" + io::part_draft_name(id);
      index::write_index_entries([&](const index::entry_fn& put) { b.for_each_part_entry(put); }, draft,
                                 index::table_use::transient);
      REQUIRE(::rename(draft.c_str(), (idx + "/" + io::part_name(id, b.part_first_block(), b.blocks())).c_str()) == 0);
      b.start_part();
    }
  }

  // The open file: its blocks, then preallocated zeros.
  void write_open_file() {
    auto bytes = file;
    bytes.resize(bytes.size() + 8 * bs, 0);
    test::write_bytes(pkt + "/" + io::hidden_name(id), bytes);
  }

  void write_extent(std::uint64_t bytes) {
    std::uint8_t rec[io::extent_record_bytes];
    io::encode_extent({id, bytes, bs}, rec);
    test::write_bytes(pkt + "/" + io::extent_name(id), std::vector<std::uint8_t>(rec, rec + sizeof rec));
  }

  struct result {
    std::vector<long> numbers;
    io::problem_list problems;
    query::run_stats stats;
  };
  result query(const std::string& text) {
    result r;
    r.stats = query::run_query(
      dir, query::parse_query(text, 1800000000ull * 1000000000ull),
      [&](const io::packet_ref& p) {
        r.numbers.push_back(test::frame_number({p.frame, p.frame + p.caplen}));
        return true;
      },
      [&](const io::problem& p) { r.problems.add(p); });
    return r;
  }

  // Frame numbers held by the first `n` blocks of the file that match `keep`.
  std::vector<long> numbers_in_blocks(std::uint32_t n, const std::function<bool(long)>& keep) const {
    std::vector<long> out;
    for (std::uint32_t b = 0; b < n; ++b)
      io::for_each_packet(std::span<const std::uint8_t>(file).subspan(std::size_t{b} * bs, bs),
                          [&](const io::packet_ref& p) {
                            const long num = test::frame_number({p.frame, p.frame + p.caplen});
                            if (keep(num))
                              out.push_back(num);
                          });
    return out;
  }
};

bool from_host_2(long n) { return n % 4 == 1; } // numbered_frames: 10.0.0.(1 + i % 4)

} // namespace

TEST_CASE("fresh: the durable-extent record round-trips, and torn, short or foreign records are refused") {
  std::uint8_t rec[io::extent_record_bytes];
  io::encode_extent({id, 5 * bs, bs}, rec);
  const auto back = io::decode_extent(rec);
  REQUIRE(back);
  CHECK(*back == io::durable_extent{id, 5 * bs, bs});
  for (std::size_t i = 0; i < sizeof rec; ++i) { // any byte of a half-done rewrite
    auto torn = std::vector<std::uint8_t>(rec, rec + sizeof rec);
    torn[i] ^= 0x10;
    CHECK_FALSE(io::decode_extent(torn));
  }
  CHECK_FALSE(io::decode_extent(std::span<const std::uint8_t>(rec, sizeof rec - 1)));
  io::encode_extent({id, 5 * bs + 1, bs}, rec); // not whole blocks: no writer of ours
  CHECK_FALSE(io::decode_extent(rec));
}

TEST_CASE("fresh: the writer's sidecar as readers find it: missing, valid, damaged, removed") {
  fixture f;
  CHECK(io::read_extent(f.pkt, id).s == io::extent_reading::state::absent);
  const int dir_fd = ::open(f.pkt.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir_fd >= 0);
  {
    io::extent_publisher p;
    REQUIRE(p.open(dir_fd, id, bs) == 0);
    auto r = io::read_extent(f.pkt, id);
    CHECK(r.s == io::extent_reading::state::valid);
    CHECK(r.extent.bytes == 0);
    REQUIRE(p.publish(3 * bs) == 0);
    r = io::read_extent(f.pkt, id);
    CHECK(r.s == io::extent_reading::state::valid);
    CHECK(r.extent.bytes == 3 * bs);
    CHECK(io::read_extent(f.pkt, id + 1).s == io::extent_reading::state::absent);
    p.remove();
    CHECK(io::read_extent(f.pkt, id).s == io::extent_reading::state::absent);
  }
  ::close(dir_fd);
  test::write_bytes(f.pkt + "/" + io::extent_name(id), std::vector<std::uint8_t>(32, 0x55));
  CHECK(io::read_extent(f.pkt, id).s == io::extent_reading::state::damaged);
  // Another file's record under this name is not this file's extent.
  std::uint8_t rec[io::extent_record_bytes];
  io::encode_extent({id + 1, bs, bs}, rec);
  test::write_bytes(f.pkt + "/" + io::extent_name(id), std::vector<std::uint8_t>(rec, rec + sizeof rec));
  CHECK(io::read_extent(f.pkt, id).s == io::extent_reading::state::damaged);
}

TEST_CASE("fresh: companion names round-trip, are never files, and list per file") {
  const io::companion_name part{io::companion_name::kind::part, id, 3, 7};
  CHECK(part.name() == ".1700000000000000.part-3-7");
  CHECK(io::parse_companion_name(part.name()) == part);
  CHECK(io::parse_companion_name(io::extent_name(id))->k == io::companion_name::kind::extent);
  CHECK(io::parse_companion_name(io::part_draft_name(id))->k == io::companion_name::kind::part_draft);
  for (const char* foreign : {".keep", ".1700.part-3", ".1700.part-7-3", ".1700.part-07-9", ".01700.extent",
                              "1700.extent", ".1700.extent.tmp", ".1700.part-1-2-3", ".1700"})
    CHECK_FALSE(io::parse_companion_name(foreign));
  fixture f;
  test::write_bytes(f.idx + "/" + io::final_name(id), {});
  test::write_bytes(f.idx + "/" + io::part_name(id, 0, 2), {});
  test::write_bytes(f.idx + "/" + io::part_name(id, 2, 10), {});
  test::write_bytes(f.idx + "/" + io::part_name(id + 1, 0, 1), {});
  CHECK(io::list_files(f.idx).size() == 1);
  const auto mine = io::list_companions(f.idx, id);
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].end_block == 2); // by first block, numerically
  CHECK(mine[1].first_block == 2);
  CHECK(io::list_companions(f.idx).size() == 3);
}

TEST_CASE("fresh: merged parts answer like the full index, and a gap ends the chain") {
  fixture f;
  index::index_builder b{bs};
  f.write_parts(b, {1, 2, 5, f.blocks});
  index::index_builder whole{bs};
  for (std::uint32_t k = 0; k < f.blocks; ++k)
    index::index_block(whole, std::span<const std::uint8_t>(f.file).subspan(std::size_t{k} * bs, bs),
                       std::uint64_t{k} * bs);
  const std::string full = f.dir + "/full";
  index::write_index_file(whole, full);
  const index::file_index expected{full};
  const index::file_index merged{index::part_set{f.idx, id}};
  REQUIRE(merged.summary());
  CHECK(merged.summary()->packets == expected.summary()->packets);
  CHECK(merged.summary()->first_ns == expected.summary()->first_ns);
  CHECK(merged.summary()->last_ns == expected.summary()->last_ns);
  CHECK(merged.summary()->blocks == f.blocks);
  REQUIRE(merged.blocks()->size() == expected.blocks()->size());
  for (std::size_t k = 0; k < f.blocks; ++k) {
    CHECK((*merged.blocks())[k].packets == (*expected.blocks())[k].packets);
    CHECK((*merged.blocks())[k].first_ns == (*expected.blocks())[k].first_ns);
  }
  std::size_t keys = 0;
  expected.for_each_key([&](std::string_view key, const std::vector<std::uint32_t>& positions) {
    CHECK(merged.lookup(key) == positions);
    ++keys;
  });
  CHECK(keys > 10);
  const std::uint8_t lo[4] = {10, 0, 0, 0}, hi[4] = {10, 0, 0, 255};
  CHECK(merged.lookup_range(index::ipv4_key(lo).view(), index::ipv4_key(hi).view())
        == expected.lookup_range(index::ipv4_key(lo).view(), index::ipv4_key(hi).view()));

  // The part of blocks [1, 2) went missing: only [0, 1) chains from block 0.
  REQUIRE(::unlink((f.idx + "/" + io::part_name(id, 1, 2)).c_str()) == 0);
  const index::part_set cut{f.idx, id};
  CHECK(cut.parts() == 1);
  CHECK(cut.summary().blocks == 1);
}

TEST_CASE("fresh: a query reads the open file up to its durable extent, through its parts and a scan") {
  fixture f;
  f.write_open_file();
  index::index_builder b{bs};
  f.write_parts(b, {2, 4}); // indexed: blocks [0, 4)
  const std::uint32_t durable = 3;
  f.write_extent(std::uint64_t{durable} * bs);
  // Parts reach past the extent (indexed from the ring before the write
  // completed): nothing past the extent is read.
  auto r = f.query("host 10.0.0.2");
  INFO(r.problems.all.size());
  CHECK(r.problems.all.empty());
  CHECK(r.numbers == f.numbers_in_blocks(durable, from_host_2));
  CHECK(r.stats.open_files == 1);
  // The extent past the parts: the unindexed blocks are scanned.
  f.write_extent(std::uint64_t{f.blocks} * bs);
  r = f.query("host 10.0.0.2");
  CHECK(r.problems.all.empty());
  CHECK(r.numbers == f.numbers_in_blocks(f.blocks, from_host_2));
  // Time terms on the open file, exactly per packet (frame i is stamped 1700000000 + i s).
  r = f.query("after 2023-11-14T22:15:00Z and before 2023-11-14T22:16:40Z"); // frames 100..199
  std::vector<long> want;
  for (long i = 100; i < 200; ++i)
    want.push_back(i);
  CHECK(r.numbers == want);
  // No parts at all: the durable blocks are scanned.
  for (const auto& c : io::list_companions(f.idx, id))
    ::unlink((f.idx + "/" + c.name()).c_str());
  r = f.query("host 10.0.0.2");
  CHECK(r.numbers == f.numbers_in_blocks(f.blocks, from_host_2));
  // Without completed writes, and left out on request: nothing.
  f.write_extent(0);
  CHECK(f.query("host 10.0.0.2").numbers.empty());
  f.write_extent(std::uint64_t{f.blocks} * bs);
  const auto closed_only = query::run_query(
    f.dir, query::parse_query("host 10.0.0.2", 0), [](const io::packet_ref&) { return true; },
    [](const io::problem&) {}, query::run_options{.open_files = false});
  CHECK(closed_only.packets == 0);
}

TEST_CASE("fresh: a torn or missing sidecar never lets a reader past completed writes") {
  fixture f;
  f.write_open_file();
  // Missing: no write completed yet (or a capture without fresh queries).
  auto r = f.query("host 10.0.0.2");
  CHECK(r.numbers.empty());
  CHECK(r.problems.all.empty());
  // Damaged for good: reported, nothing read.
  test::write_bytes(f.pkt + "/" + io::extent_name(id), std::vector<std::uint8_t>(32, 0x55));
  r = f.query("host 10.0.0.2");
  CHECK(r.numbers.empty());
  REQUIRE(r.problems.all.size() == 1);
  CHECK(r.problems.all[0].kind == io::problem_kind::file_unreadable);
  CHECK(r.problems.exit_status() == io::exit_status::incomplete);
}

TEST_CASE("fresh: the full index supersedes the parts, and a rotated file is read once") {
  fixture f;
  f.write_open_file();
  index::index_builder b{bs};
  f.write_parts(b, {3});
  f.write_extent(std::uint64_t{f.blocks} * bs);
  const auto all_host_2 = f.numbers_in_blocks(f.blocks, from_host_2);
  CHECK(f.query("host 10.0.0.2").numbers == all_host_2);
  // Rotated: the packet file has its final name (trimmed), the sidecar is
  // gone, the index is not yet published: parts and a scan still answer.
  test::write_bytes(f.pkt + "/" + io::final_name(id), f.file);
  ::unlink((f.pkt + "/" + io::hidden_name(id)).c_str());
  ::unlink((f.pkt + "/" + io::extent_name(id)).c_str());
  auto r = f.query("host 10.0.0.2");
  CHECK(r.numbers == all_host_2);
  CHECK(r.problems.all.empty());
  // The full index published, parts not yet removed: the full index is used.
  index::index_builder whole{bs};
  for (std::uint32_t k = 0; k < f.blocks; ++k)
    index::index_block(whole, std::span<const std::uint8_t>(f.file).subspan(std::size_t{k} * bs, bs),
                       std::uint64_t{k} * bs);
  index::write_index_file(whole, f.idx + "/" + io::final_name(id));
  r = f.query("host 10.0.0.2");
  CHECK(r.numbers == all_host_2);
  CHECK(r.problems.all.empty());
  CHECK(r.stats.open_files == 0);
  CHECK(r.stats.files == 1);
}

TEST_CASE("fresh: recovery removes sidecars and parts and makes the file whole as after any crash") {
  fixture f;
  f.write_open_file();
  index::index_builder b{bs};
  f.write_parts(b, {2, 4});
  f.write_extent(4 * bs);
  test::write_bytes(f.idx + "/" + io::part_draft_name(id), {1, 2, 3});
  test::write_bytes(f.pkt + "/.keep", {1});
  std::vector<std::string> log;
  store::recover_thread_dir(f.dir, 0, bs, index_format::native, [&](const std::string& l) { log.push_back(l); });
  INFO(Catch::Detail::stringify(log));
  CHECK(io::list_names(f.pkt) == std::vector<std::string>{".keep", io::final_name(id)});
  CHECK(io::list_names(f.idx) == std::vector<std::string>{io::final_name(id)});
  CHECK(index::index_reader{f.idx + "/" + io::final_name(id)}.summary().packets == f.frames.size());
  const auto r = f.query("host 10.0.0.2");
  CHECK(r.numbers == f.numbers_in_blocks(f.blocks, from_host_2));
  CHECK(r.problems.all.empty());
}
