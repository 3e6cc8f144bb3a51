// Stenographer-format (LevelDB) indexes: the bytes Google's stenotype writes
// for the same keys and packets, read back exactly, and a damaged file is an
// error, never a crash or a wrong answer. Golden files: tests/data/stenographer.
#include <catch2/catch.hpp>

#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unistd.h>

#include <leveldb/env.h>
#include <leveldb/options.h>
#include <leveldb/table_builder.h>

#include "index/block_indexer.hpp"
#include "index/index_builder.hpp"
#include "index/index_file.hpp"
#include "index/index_format.hpp"
#include "index/keys.hpp"
#include "index/leveldb_index.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::index;
using positions = std::vector<std::uint32_t>;
using entries = std::map<std::string, positions>;

namespace {

const std::string golden_dir = STENOTYPE_TEST_DATA_DIR "/stenographer";
const std::string google_idx = golden_dir + "/google-testdata/IDX0/";
const std::string debian_dir = golden_dir + "/debian-capture/";
// Captured by Debian's /usr/sbin/stenotype (see the README there): an idle
// file, and one with three rounds of make_frames.py's frames.
const std::string debian_idle = "1796170002061828";
const std::string debian_frames = "1796170013070787";

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string write_bytes(const std::string& path, const std::vector<char>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
  return path;
}

// Every key but the version record, with its positions.
entries read_all(const leveldb_index_reader& r) {
  entries out;
  r.for_each_entry([&](std::string_view key, std::string_view value) {
    if (key == std::string_view("\0", 1))
      return;
    positions p;
    if (!decode_leveldb_positions(value, p))
      throw std::runtime_error("malformed value");
    out[std::string(key)] = std::move(p);
  });
  return out;
}

void write_entries(const entries& e, const std::string& path) {
  leveldb_index_writer w{path};
  for (const auto& [key, pos] : e)
    w.add(key, pos);
  w.finish();
}

std::string ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  const std::uint8_t v[4] = {a, b, c, d};
  return ipv4_key(v).str();
}

} // namespace

TEST_CASE("stenographer's own test indexes answer what its Go tests expect") {
  // google/stenographer indexfile/indexfile_test.go, on testdata/IDX0.
  leveldb_index_reader dhcp{google_idx + "dhcp"};
  CHECK(dhcp.minor_version() == 0);
  const positions dhcp_packets{1048624, 1049024, 1049448, 1049848};
  CHECK(dhcp.lookup_range(ip4(192, 168, 0, 1), ip4(192, 168, 0, 254)) == positions{1049024, 1049848});
  CHECK(dhcp.lookup_range(ip4(10, 0, 0, 1), ip4(10, 0, 0, 254)).empty());
  CHECK(dhcp.lookup(protocol_key(17).view()) == dhcp_packets);
  CHECK(dhcp.lookup(protocol_key(18).view()).empty());
  CHECK(dhcp.lookup(port_key(67).view()) == dhcp_packets);
  CHECK(dhcp.lookup(port_key(69).view()).empty());
  std::vector<std::string> first_keys; // their TestDump: keys 00..02
  dhcp.for_each_entry([&](std::string_view k, std::string_view) {
    if (k < std::string_view("\x02"))
      first_keys.emplace_back(k);
  });
  CHECK(first_keys == std::vector<std::string>{std::string("\0", 1), "\x01\x11", "\x01\x3a"});

  leveldb_index_reader mpls{google_idx + "mpls"};
  CHECK(mpls.lookup(mpls_key(29).view())
        == positions{1051144, 1054304, 1054592, 1054736, 1054888, 1055184, 1055328, 1055472, 1055800,
                     1056824, 1056968});
  CHECK(mpls.lookup(mpls_key(55).view()).empty());

  leveldb_index_reader vlan{google_idx + "vlan"};
  CHECK(vlan.lookup(vlan_key(7).view()) == positions{1123648, 1126248, 1178544, 1192552, 1208680});
  CHECK(vlan.lookup(vlan_key(8).view()).empty());
}

TEST_CASE("rewriting stenographer's index files key for key reproduces their bytes") {
  stenotype::test::temp_dir tmp;
  for (const std::string& path : {google_idx + "dhcp", google_idx + "mpls", google_idx + "vlan",
                                 debian_dir + "IDX0/" + debian_idle, debian_dir + "IDX0/" + debian_frames}) {
    INFO(path);
    const auto original = read_all(leveldb_index_reader{path});
    write_entries(original, tmp.path() + "/copy");
    CHECK(read_bytes(tmp.path() + "/copy") == read_bytes(path));
  }
}

TEST_CASE("indexing a packet file of Debian's stenotype gives its index, byte for byte") {
  stenotype::test::temp_dir tmp;
  for (const auto& name : {debian_frames, debian_idle}) {
    INFO(name);
    index_builder builder{1 << 20};
    CHECK(index_packet_file(debian_dir + "PKT0/" + name, builder) == 0);
    write_leveldb_index(builder, tmp.path() + "/" + name);
    const auto ours = read_bytes(tmp.path() + "/" + name);
    const auto theirs = read_bytes(debian_dir + "IDX0/" + name);
    if (ours != theirs) // say which keys differ, not just that bytes do
      CHECK(read_all(leveldb_index_reader{tmp.path() + "/" + name})
            == read_all(leveldb_index_reader{debian_dir + "IDX0/" + name}));
    CHECK(ours == theirs);
  }
  // And the frames are there: make_frames.py's MPLS labels 16, 29 / 29, 30, 31, three rounds.
  leveldb_index_reader r{debian_dir + "IDX0/" + debian_frames};
  CHECK(r.lookup(mpls_key(16).view()).size() == 3);
  CHECK(r.lookup(mpls_key(29).view()).size() == 6);
  CHECK(r.lookup(port_key(7777).view()).size() == 3); // equal ports: one position per packet
}

TEST_CASE("stenographer index round trip: random keys of every type, exact lookups, merged ranges") {
  stenotype::test::temp_dir tmp;
  std::mt19937 rng(5);
  entries want;
  auto random_positions = [&] {
    std::set<std::uint32_t> s;
    const auto n = 1 + rng() % 40;
    while (s.size() < n)
      s.insert(static_cast<std::uint32_t>(rng() % (1u << 29)) * 8u);
    if (rng() % 5 == 0)
      s.insert(0xfffffff8u); // the last position a 4 GiB file can have
    return positions(s.begin(), s.end());
  };
  for (int i = 0; i < 3000; ++i) {
    const auto r = rng();
    std::string key;
    switch (r % 6) {
    case 0: key = protocol_key(static_cast<std::uint8_t>(r >> 8)).str(); break;
    case 1: key = port_key(static_cast<std::uint16_t>(r >> 8)).str(); break;
    case 2: key = vlan_key(static_cast<std::uint16_t>((r >> 8) & 0xfff)).str(); break;
    case 3: key = ip4(10, static_cast<std::uint8_t>(r >> 8 & 3), static_cast<std::uint8_t>(r >> 10), static_cast<std::uint8_t>(r >> 18)); break;
    case 4: key = mpls_key((r >> 8) & 0xfffff).str(); break;
    default: {
      std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
      for (int j = 4; j < 16; ++j)
        a[j] = static_cast<std::uint8_t>(rng());
      key = ipv6_key(a).str();
    }
    }
    want[key] = random_positions();
  }
  const std::string path = tmp.path() + "/idx";
  write_entries(want, path);
  CHECK(detect_index_format(path) == index_format::stenographer);

  leveldb_index_reader reader{path};
  CHECK(read_all(reader) == want);
  for (const auto& [key, pos] : want)
    REQUIRE(reader.lookup(key) == pos);
  CHECK(reader.lookup(port_key(1).view()) == (want.count(port_key(1).str()) ? want[port_key(1).str()] : positions{}));
  CHECK(reader.lookup(std::string_view("\x07", 1)).empty()); // beyond every key

  // 10.1.0.0/16 as a key range: the union of its addresses' lists.
  std::set<std::uint32_t> net;
  for (const auto& [key, pos] : want)
    if (key.size() == 5 && key[0] == 4 && key[1] == 10 && key[2] == 1)
      net.insert(pos.begin(), pos.end());
  REQUIRE(!net.empty());
  CHECK(reader.lookup_range(ip4(10, 1, 0, 0), ip4(10, 1, 255, 255)) == positions(net.begin(), net.end()));
  CHECK(reader.lookup_range(ip4(11, 0, 0, 0), ip4(11, 255, 255, 255)).empty());
}

TEST_CASE("write_leveldb_index writes the builder's keys and positions, not its metadata") {
  stenotype::test::temp_dir tmp;
  index_builder builder{1 << 20};
  packet_attributes a;
  a.ip_version = 4;
  const std::uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  std::memcpy(a.src_ip, src, 4);
  std::memcpy(a.dst_ip, dst, 4);
  a.has_protocol = true;
  a.protocol = 17;
  a.has_ports = true;
  a.src_port = 53;
  a.dst_port = 53;
  builder.add(48, 0, 1, a);
  a.vlan_count = 1;
  a.vlans[0] = 100;
  a.src_port = 5353;
  builder.add(1048576 + 48, 1, 2, a);
  builder.add(0xfffffff8u, 4095, 3, a);

  const std::string path = tmp.path() + "/idx";
  write_leveldb_index(builder, path);
  leveldb_index_reader reader{path};
  const entries want{
    {protocol_key(17).str(), {48, 1048624, 0xfffffff8u}},
    {port_key(53).str(), {48, 1048624, 0xfffffff8u}},
    {port_key(5353).str(), {1048624, 0xfffffff8u}},
    {vlan_key(100).str(), {1048624, 0xfffffff8u}},
    {ip4(10, 0, 0, 1), {48, 1048624, 0xfffffff8u}},
    {ip4(10, 0, 0, 2), {48, 1048624, 0xfffffff8u}},
  };
  CHECK(read_all(reader) == want);

  // A file without packets holds the version record only (Google's 105 bytes).
  index_builder empty{1 << 20};
  write_leveldb_index(empty, tmp.path() + "/empty");
  CHECK(read_bytes(tmp.path() + "/empty") == read_bytes(debian_dir + "IDX0/" + debian_idle));
}

TEST_CASE("the stenographer index writer refuses what the format cannot hold") {
  stenotype::test::temp_dir tmp;
  leveldb_index_writer w{tmp.path() + "/idx"};
  const positions one{8};
  CHECK_THROWS_AS(w.add(std::string_view("\0x", 2), one), std::invalid_argument); // type 0 is the version's
  CHECK_THROWS_AS(w.add("", one), std::invalid_argument);
  CHECK_THROWS_AS(w.add(port_key(80).view(), positions{}), std::invalid_argument);
  CHECK_THROWS_AS(w.add(port_key(80).view(), positions{16, 8}), std::invalid_argument);
  CHECK_THROWS_AS(w.add(port_key(80).view(), positions{8, 8}), std::invalid_argument);
  w.add(port_key(80).view(), positions{8, 16});
  CHECK_THROWS_AS(w.add(port_key(80).view(), one), std::invalid_argument); // twice
  CHECK_THROWS_AS(w.add(protocol_key(6).view(), one), std::invalid_argument); // before the last
  w.add(port_key(81).view(), one);
  w.finish();
  CHECK_THROWS(w.add(port_key(82).view(), one));
  CHECK_THROWS(w.finish());
  leveldb_index_reader r{tmp.path() + "/idx"};
  CHECK(read_all(r) == entries{{port_key(80).str(), {8, 16}}, {port_key(81).str(), {8}}});
}

TEST_CASE("damaged or foreign stenographer indexes are errors, never crashes or wrong answers") {
  stenotype::test::temp_dir tmp;
  const auto good = read_bytes(google_idx + "vlan");
  const auto want = read_all(leveldb_index_reader{google_idx + "vlan"});
  auto open_and_read = [](const std::string& path) { return read_all(leveldb_index_reader{path}); };

  CHECK_THROWS(leveldb_index_reader{tmp.path() + "/missing"});
  CHECK_THROWS(open_and_read(write_bytes(tmp.path() + "/empty", {})));
  CHECK_THROWS(open_and_read(write_bytes(tmp.path() + "/garbage", std::vector<char>(4096, 'x'))));

  // Every truncation (shortening one file step by step: cheaper than rewriting).
  const auto cut = write_bytes(tmp.path() + "/cut", good);
  for (std::size_t n = good.size(); n-- > 0;) {
    INFO("truncated to " << n);
    REQUIRE(::truncate(cut.c_str(), static_cast<off_t>(n)) == 0);
    CHECK_THROWS(open_and_read(cut));
  }
  // Every byte flipped: in the data and index blocks the checksums catch it.
  // LevelDB reads neither the metaindex block (it lists only filters, and
  // these tables have none) nor the footer's padding, so a flip there is
  // caught or harmless: never a different answer.
  const std::size_t footer_start = good.size() - 48;
  std::size_t meta_start = 0, meta_size = 0; // the footer's first block handle
  {
    std::size_t at = footer_start;
    for (std::size_t* v : {&meta_start, &meta_size})
      for (unsigned shift = 0;; shift += 7) {
        const auto b = static_cast<std::uint8_t>(good[at++]);
        *v |= std::size_t{b & 0x7fu} << shift;
        if (!(b & 0x80))
          break;
      }
  }
  const std::size_t meta_end = meta_start + meta_size + 5; // + block trailer
  REQUIRE(meta_end < footer_start);
  const auto path = write_bytes(tmp.path() + "/flipped", good);
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  auto put = [&](std::size_t at, char byte) { REQUIRE(::pwrite(fd, &byte, 1, static_cast<off_t>(at)) == 1); };
  for (std::size_t at = 0; at < good.size(); ++at) {
    INFO("byte " << at << " flipped");
    put(at, static_cast<char>(good[at] ^ 0xff));
    if (at < meta_start || (at >= meta_end && at < footer_start)) {
      CHECK_THROWS(open_and_read(path));
    } else {
      std::optional<entries> got;
      try {
        got = open_and_read(path);
      } catch (const std::runtime_error&) {
      }
      if (got)
        CHECK(*got == want);
    }
    put(at, good[at]);
  }
  ::close(fd);
  // Without the up-front pass (queries), the damaged block's read throws.
  auto bad = good;
  bad[good.size() / 3] = static_cast<char>(bad[good.size() / 3] ^ 0x10);
  const auto lazy_path = write_bytes(tmp.path() + "/lazy", bad);
  CHECK_THROWS([&] {
    leveldb_index_reader lazy{lazy_path, /*verify=*/false};
    read_all(lazy);
  }());
}

TEST_CASE("stenographer indexes need the version record of major version 2") {
  stenotype::test::temp_dir tmp;
  // Tables written with LevelDB itself, as another program might.
  auto table = [&](const std::string& name, const std::vector<std::pair<std::string, std::string>>& kv) {
    const std::string path = tmp.path() + "/" + name;
    leveldb::WritableFile* raw = nullptr;
    REQUIRE(leveldb::Env::Default()->NewWritableFile(path, &raw).ok());
    std::unique_ptr<leveldb::WritableFile> file{raw};
    leveldb::Options o;
    o.compression = leveldb::kNoCompression;
    leveldb::TableBuilder b{o, file.get()};
    for (const auto& [k, v] : kv)
      b.Add(k, v);
    REQUIRE(b.Finish().ok());
    REQUIRE(file->Close().ok());
    return path;
  };
  const std::string v2_1{"\0\0\0\x02\0\0\0\x01", 8}, v3{"\0\0\0\x03\0\0\0\0", 8};
  const std::string port80 = port_key(80).str(), pos{"\0\0\0\x30", 4};
  CHECK_THROWS(leveldb_index_reader{table("none", {{port80, pos}})});
  CHECK_THROWS(leveldb_index_reader{table("v3", {{std::string("\0", 1), v3}, {port80, pos}})});
  CHECK_THROWS(leveldb_index_reader{table("short", {{std::string("\0", 1), v3.substr(0, 4)}, {port80, pos}})});
  CHECK_THROWS(leveldb_index_reader{table("ragged", {{std::string("\0", 1), v2_1}, {port80, std::string("\0\0\0", 3)}})});
  CHECK_THROWS(leveldb_index_reader{table("unsorted", {{std::string("\0", 1), v2_1}, {port80, pos + pos}})});
  leveldb_index_reader minor1{table("v2.1", {{std::string("\0", 1), v2_1}, {port80, pos}})};
  CHECK(minor1.minor_version() == 1); // minor versions are compatible: the server accepts them too
  CHECK(minor1.lookup(port80) == positions{48});
}

TEST_CASE("index files are told apart by their footer magic") {
  stenotype::test::temp_dir tmp;
  index_builder builder{1 << 20};
  write_index_file(builder, tmp.path() + "/native");
  write_leveldb_index(builder, tmp.path() + "/steno");
  CHECK(detect_index_format(tmp.path() + "/native") == index_format::native);
  CHECK(detect_index_format(tmp.path() + "/steno") == index_format::stenographer);
  CHECK(detect_index_format(google_idx + "dhcp") == index_format::stenographer);
  CHECK(detect_index_format(write_bytes(tmp.path() + "/short", {'a', 'b'})) == std::nullopt);
  CHECK(detect_index_format(write_bytes(tmp.path() + "/other", std::vector<char>(100, 0))) == std::nullopt);
  CHECK_THROWS(detect_index_format(tmp.path() + "/missing"));
  // Each reader refuses the other's files.
  CHECK_THROWS(leveldb_index_reader{tmp.path() + "/native"});
  CHECK_THROWS(index_reader{tmp.path() + "/steno"});
}
