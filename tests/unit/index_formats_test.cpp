// Both index formats through the readers that choose per file: a
// stenographer (LevelDB) index gives stenoread's selection the same
// candidate packets as a native index of the same file, and the same answers
// (time terms, which it cannot index, by reading its blocks whole); a data
// directory of Google's stenotype is answered without re-indexing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>

#include "index/file_index.hpp"
#include "index/index_file.hpp"
#include "index/leveldb_index.hpp"
#include "io/layout.hpp"
#include "query/evaluate.hpp"
#include "query/executor.hpp"
#include "query/query_parser.hpp"
#include "support/built_files.hpp"
#include "support/made_traffic.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using stenotype::test::made_packet;

namespace {

constexpr std::size_t bs = 64 * 1024;
// make_traffic stamps packet i at this + i ms.
constexpr std::uint64_t t0 = 1'700'000'000'000'000'000ull;

struct answer {
  std::uint64_t ts;
  std::vector<std::uint8_t> frame;
  auto operator<=>(const answer&) const = default;
};

struct run_result {
  std::vector<answer> packets;
  io::problem_list problems;
};

run_result run(const std::string& dir, const std::string& q) {
  run_result out;
  const auto stats = query::run_query(
    dir, query::parse_query(q, 0),
    [&](const io::packet_ref& p) {
      out.packets.push_back({std::uint64_t{p.sec} * 1000000000u + p.nsec, {p.frame, p.frame + p.caplen}});
      return true;
    },
    [](const io::problem&) {});
  out.problems = stats.problems;
  return out;
}

// Two data directories holding the same two packet files of `traffic`,
// one indexed natively, one in stenographer's format.
struct twin_dirs {
  test::temp_dir native, steno;
  std::vector<std::string> files; // the packet files' names

  explicit twin_dirs(const std::vector<made_packet>& traffic) {
    const std::size_t half = traffic.size() / 2;
    for (int part = 0; part < 2; ++part) {
      const std::vector<made_packet> slice(traffic.begin() + static_cast<long>(part ? half : 0),
                                           part ? traffic.end() : traffic.begin() + static_cast<long>(half));
      index::index_builder builder{bs};
      std::vector<std::uint8_t> bytes;
      test::index_traffic(slice, builder, bs, &bytes);
      const std::string name = io::final_name(slice.front().ts_ns / 1000);
      files.push_back(name);
      for (const auto* d : {&native, &steno}) {
        io::make_directories(io::packet_dir(d->path(), 0));
        io::make_directories(io::index_dir(d->path(), 0));
        test::write_bytes(io::packet_dir(d->path(), 0) + "/" + name, bytes);
      }
      index::write_index(builder, io::index_dir(native.path(), 0) + "/" + name, index_format::native);
      index::write_index(builder, io::index_dir(steno.path(), 0) + "/" + name, index_format::stenographer);
    }
  }
  std::string index(const test::temp_dir& d, std::size_t file) const {
    return io::index_dir(d.path(), 0) + "/" + files[file];
  }
};

std::string at_ms(std::uint64_t ms) { // an RFC 3339 time of make_traffic's clock
  const std::uint64_t ns = t0 + ms * 1'000'000ull;
  char buf[64];
  const std::time_t sec = static_cast<std::time_t>(ns / 1000000000u);
  std::tm tm{};
  gmtime_r(&sec, &tm);
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03uZ", static_cast<unsigned>(ms % 1000));
  return buf;
}

} // namespace

TEST_CASE("index formats: both readers behind file_index give the same keys and positions") {
  const auto traffic = test::make_traffic(4000, 21);
  twin_dirs d{traffic};
  for (std::size_t f = 0; f < d.files.size(); ++f) {
    const index::file_index native{d.index(d.native, f)}, steno{d.index(d.steno, f)};
    CHECK(native.format() == index_format::native);
    CHECK(steno.format() == index_format::stenographer);
    REQUIRE(native.summary());
    REQUIRE(native.blocks());
    CHECK(steno.summary() == nullptr); // no times, no block table in Google's format
    CHECK(steno.blocks() == nullptr);
    std::map<std::string, std::vector<std::uint32_t>> a, b;
    native.for_each_key([&](std::string_view k, const std::vector<std::uint32_t>& p) { a[std::string(k)] = p; });
    steno.for_each_key([&](std::string_view k, const std::vector<std::uint32_t>& p) { b[std::string(k)] = p; });
    CHECK(a.size() > 100);
    CHECK(a == b);
  }
  test::temp_dir tmp;
  test::write_bytes(tmp.path() + "/junk", std::vector<std::uint8_t>(200, 7));
  CHECK_THROWS_AS(index::file_index{tmp.path() + "/junk"}, failure);
  CHECK_THROWS(index::file_index{tmp.path() + "/missing"});
}

TEST_CASE("index formats: stenoread selects the same candidates from both, and answers the same") {
  const auto traffic = test::make_traffic(4000, 22); // 4 s of packets, 1 ms apart
  twin_dirs d{traffic};
  const std::vector<std::string> keyed = {
    "port 443", "tcp", "udp and port 53", "ip proto 1", "host 10.1.0.7", "net 10.2.0.0/16",
    "host 2001:db8::3", "net 2001:db8::/32", "vlan 100 or mpls 5", "port 80 or host 192.168.0.3",
    "(tcp and port 22) or (udp and net 192.168.0.0/28)", "port 9", "host 10.9.9.9",
  };
  const std::vector<std::string> timed = {
    "after " + at_ms(1500), "before " + at_ms(2500), "after " + at_ms(900) + " and before " + at_ms(3100),
    "port 443 and after " + at_ms(2000), "tcp and before " + at_ms(100), "after " + at_ms(3999) + " or port 53",
    "before " + at_ms(0), "after " + at_ms(5000),
  };
  for (std::size_t f = 0; f < d.files.size(); ++f) {
    const index::file_index native{d.index(d.native, f)}, steno{d.index(d.steno, f)};
    for (const auto& q : keyed) {
      INFO(q << " in file " << f);
      const auto tree = query::parse_query(q, 0);
      const auto a = query::select(*tree, native), b = query::select(*tree, steno);
      CHECK(a.positions == b.positions);
      CHECK_FALSE(b.every_block);
      CHECK(std::find(a.blocks.begin(), a.blocks.end(), true) == a.blocks.end());
    }
    for (const auto& q : timed) {
      INFO(q << " in file " << f);
      const auto tree = query::parse_query(q, 0);
      const auto a = query::select(*tree, native), b = query::select(*tree, steno);
      // Without times in the index a time term takes the whole file or,
      // ANDed with keys, their positions: never fewer candidates than native's.
      CHECK((b.every_block
             || std::includes(b.positions.begin(), b.positions.end(), a.positions.begin(), a.positions.end())));
      CHECK(b.blocks.empty());
    }
  }
  // The answers: equal for both directories, and to what the traffic holds.
  for (const auto& q : [&] {
         auto all = keyed;
         all.insert(all.end(), timed.begin(), timed.end());
         return all;
       }()) {
    INFO(q);
    const auto a = run(d.native.path(), q), b = run(d.steno.path(), q);
    CHECK(a.packets == b.packets);
    CHECK(a.problems.all.empty());
    CHECK(b.problems.all.empty());
    const auto tree = query::parse_query(q, 0);
    std::vector<answer> want;
    for (const auto& p : traffic) {
      index::packet_attributes attrs;
      index::parse_packet(p.frame.data(), p.frame.size(), p.stripped_vlan, attrs);
      if (query::matches(*tree, attrs, p.ts_ns))
        want.push_back({p.ts_ns, p.frame});
    }
    CHECK(b.packets.size() == want.size());
    if (q.find("vlan") == std::string::npos) // (stripped tags are put back into the frame on output)
      CHECK(b.packets == want);
  }
}

TEST_CASE("index formats: a data directory of Google's stenotype answers stenoread without re-indexing") {
  // tests/data/stenographer/debian-capture: written by Debian's stenotype;
  // its indexes are LevelDB tables, its packet files have no block mark.
  test::temp_dir tmp;
  std::filesystem::copy(STENOTYPE_TEST_DATA_DIR "/stenographer/debian-capture", tmp.path(),
                        std::filesystem::copy_options::recursive);
  // make_frames.py, three rounds of 12 frames (one of them ARP).
  CHECK(run(tmp.path(), "host 10.231.0.2").packets.size() == 3 * 4);
  CHECK(run(tmp.path(), "port 7777").packets.size() == 3);
  CHECK(run(tmp.path(), "mpls 29").packets.size() == 3 * 2);
  CHECK(run(tmp.path(), "mpls 29 and udp").packets.size() == 3);
  CHECK(run(tmp.path(), "net 2001:db8::/32").packets.size() == 3 * 4); // 3 plain, 1 behind MPLS
  // Time terms read the files whole (1 MiB blocks: no block mark); the idle
  // file, empty, holds nothing and is no problem.
  const auto all = run(tmp.path(), "after 2020-01-01T00:00:00Z");
  CHECK(all.packets.size() == 3 * 12);
  CHECK(all.problems.all.empty());
  CHECK(run(tmp.path(), "before 2020-01-01T00:00:00Z").packets.empty());
  const auto icmp = run(tmp.path(), "icmp and after 2020-01-01T00:00:00Z");
  CHECK(icmp.packets.size() == 3);
  CHECK(icmp.problems.all.empty());
}
