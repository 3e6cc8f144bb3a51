// The index written for crafted traffic, read back through RocksDB, equals a
// map computed independently from how the frames were made.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "index/block_indexer.hpp"
#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "io/block_builder.hpp"
#include "stenotype/block_format.hpp"
#include "support/made_traffic.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::index;
using stenotype::test::frame_builder;

using stenotype::test::index_traffic;
using stenotype::test::make_traffic;

TEST_CASE("index round trip: every key maps to exactly the right packets") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 64 * 1024;
  const auto pkts = make_traffic(5000, 7);
  index_builder builder{bs};
  const auto expected = index_traffic(pkts, builder, bs);
  const std::string path = tmp.path() + "/idx";
  write_index_file(builder, path);

  index_reader reader{path};
  CHECK(reader.summary().packets == pkts.size());
  CHECK(reader.summary().first_ns == pkts.front().ts_ns);
  CHECK(reader.summary().last_ns == pkts.back().ts_ns);
  CHECK(reader.summary().block_size == bs);
  CHECK(reader.summary().blocks == reader.blocks().size());
  std::uint64_t in_blocks = 0;
  for (const auto& b : reader.blocks()) {
    CHECK(b.first_ns <= b.last_ns);
    in_blocks += b.packets;
  }
  CHECK(in_blocks == pkts.size());

  std::map<std::string, std::set<std::uint32_t>> got;
  reader.for_each_entry([&](std::string_view key, std::string_view value) {
    if (key[0] == 0)
      return;
    std::vector<std::uint32_t> pos;
    REQUIRE(decode_positions(value, pos));
    CHECK(std::is_sorted(pos.begin(), pos.end()));
    got[std::string(key)] = std::set<std::uint32_t>(pos.begin(), pos.end());
  });
  CHECK(got.size() == expected.size());
  CHECK(got == expected);

  // Point and range lookups.
  const auto https = reader.lookup(port_key(443).view());
  CHECK(std::set<std::uint32_t>(https.begin(), https.end()) == expected.at(port_key(443).str()));
  CHECK(reader.lookup(port_key(9).view()).empty());
  const std::uint8_t lo[4] = {10, 1, 0, 0}, hi[4] = {10, 1, 255, 255};
  auto net = reader.lookup_range(ipv4_key(lo).view(), ipv4_key(hi).view());
  std::set<std::uint32_t> want;
  for (const auto& [key, pos] : expected)
    if (key.size() == 5 && key[0] == 4 && static_cast<std::uint8_t>(key[1]) == 10 && key[2] == 1)
      want.insert(pos.begin(), pos.end());
  CHECK(std::set<std::uint32_t>(net.begin(), net.end()) == want);
}

TEST_CASE("the index file takes less than 4 bytes per position") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 1 << 20;
  const auto pkts = make_traffic(20000, 3);
  index_builder builder{bs};
  const auto expected = index_traffic(pkts, builder, bs);
  std::size_t positions = 0;
  for (const auto& [key, pos] : expected)
    positions += pos.size();
  const std::string path = tmp.path() + "/idx";
  write_index_file(builder, path);
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<std::size_t>(f.tellg());
  INFO("index bytes " << bytes << " for " << positions << " positions, " << pkts.size() << " packets");
  CHECK(bytes < positions * 4); // stenographer's encoding: 4 bytes per position
}

TEST_CASE("damaged and foreign index files are errors, not crashes") {
  stenotype::test::temp_dir tmp;
  const auto pkts = make_traffic(3000, 11);
  index_builder builder{64 * 1024};
  index_traffic(pkts, builder, 64 * 1024);
  const std::string good = tmp.path() + "/good";
  write_index_file(builder, good);
  std::ifstream in(good, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};

  auto write = [&](const std::string& name, const std::vector<char>& b) {
    std::ofstream out(tmp.path() + "/" + name, std::ios::binary);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
    return tmp.path() + "/" + name;
  };
  CHECK_THROWS(index_reader{tmp.path() + "/missing"});
  CHECK_THROWS(index_reader{write("empty", {})});
  CHECK_THROWS(index_reader{write("truncated", std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)))});
  CHECK_THROWS(index_reader{write("garbage", std::vector<char>(4096, 'x'))});
  auto flipped = bytes;
  flipped[flipped.size() / 3] ^= 0x5a; // inside a data block: checksum mismatch
  const auto flipped_path = write("flipped", flipped);
  CHECK_THROWS(index_reader{flipped_path});
  // Without the up-front check (queries), reading the damaged block throws:
  // never fewer results without a word.
  CHECK_THROWS([&] {
    index_reader lazy{flipped_path, /*verify=*/false};
    lazy.for_each_entry([](std::string_view, std::string_view) {});
  }());
}

TEST_CASE("decode_positions rejects malformed values") {
  std::vector<std::uint32_t> out;
  CHECK(decode_positions(std::string_view("\x05\x03", 2), out));
  CHECK(out == std::vector<std::uint32_t>{40, 64}); // units of 8 bytes, delta coded
  out.clear();
  CHECK_FALSE(decode_positions(std::string_view("\x85", 1), out));               // cut varint
  CHECK_FALSE(decode_positions(std::string_view("\x05\x00", 2), out));           // not increasing
  CHECK_FALSE(decode_positions(std::string_view("\xff\xff\xff\xff\x7f", 5), out)); // beyond 4 GiB
}
