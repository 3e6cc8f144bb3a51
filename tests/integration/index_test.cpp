// Captures of IP traffic over every encapsulation produce one index per
// packet file with exactly the right keys; an index rebuilt offline from the
// packet file is identical; stenocat gives back the frames as sent (VLAN tags
// that the veth stripped into tp_vlan_tci re-inserted).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sys/stat.h>
#include <thread>

#include "index/index_file.hpp"
#include "index/key_format.hpp"
#include "index/keys.hpp"
#include "index/packet_parser.hpp"
#include "support/frames.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;
using namespace stenotype::index;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block_kb = 64;

struct sent_packet {
  frame bytes;
  std::vector<std::string> keys;
};

// The last 8 bytes of every frame: "SQ", 2 zero bytes, sequence number.
long marker_seq(const std::vector<std::uint8_t>& f) {
  if (f.size() < 8 || f[f.size() - 8] != 'S' || f[f.size() - 7] != 'Q')
    return -1;
  std::uint32_t seq;
  std::memcpy(&seq, f.data() + f.size() - 4, 4);
  return static_cast<long>(ntohl(seq));
}

std::vector<sent_packet> make_ip_traffic(std::uint32_t n) {
  std::mt19937 rng(99);
  std::vector<sent_packet> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    sent_packet p;
    frame_builder b;
    const int shape = static_cast<int>(i % 5);
    if (shape == 1) {
      const auto vl = static_cast<std::uint16_t>(10 + i % 3);
      b.vlan(vl);
      p.keys.push_back(vlan_key(vl).str());
    } else if (shape == 2) {
      b.mpls(1000 + i % 2).mpls(77);
      p.keys.push_back(mpls_key(1000 + i % 2).str());
      p.keys.push_back(mpls_key(77).str());
    }
    const std::uint8_t proto = i % 3 == 0 ? 17 : 6;
    if (shape == 3) {
      auto src = v6(static_cast<std::uint8_t>(i % 4)), dst = v6(200);
      b.ipv6(src, dst, proto);
      p.keys.push_back(ipv6_key(src.data()).str());
      p.keys.push_back(ipv6_key(dst.data()).str());
    } else {
      std::array<std::uint8_t, 4> src{10, 0, 0, static_cast<std::uint8_t>(i % 7)}, dst{192, 168, 1, 1};
      b.ipv4(src, dst, proto);
      p.keys.push_back(ipv4_key(src.data()).str());
      p.keys.push_back(ipv4_key(dst.data()).str());
    }
    const auto sport = static_cast<std::uint16_t>(20000 + rng() % 100);
    const std::uint16_t dport = i % 2 ? 443 : 53;
    b.ports(sport, dport);
    p.keys.push_back(protocol_key(proto).str());
    p.keys.push_back(port_key(sport).str());
    p.keys.push_back(port_key(dport).str());
    b.payload(rng() % 900);
    const std::uint32_t nseq = htonl(i);
    frame f = b.build();
    const std::uint8_t marker[4] = {'S', 'Q', 0, 0};
    f.insert(f.end(), marker, marker + 4);
    f.insert(f.end(), reinterpret_cast<const std::uint8_t*>(&nseq), reinterpret_cast<const std::uint8_t*>(&nseq) + 4);
    p.bytes = std::move(f);
    out.push_back(std::move(p));
  }
  return out;
}

using key_map = std::map<std::string, std::set<std::uint32_t>>;

key_map read_index(const std::string& path) {
  key_map m;
  index_reader r{path};
  r.for_each_entry([&](std::string_view k, std::string_view v) {
    if (k[0] == 0)
      return;
    std::vector<std::uint32_t> pos;
    REQUIRE(decode_positions(v, pos));
    m[std::string(k)] = std::set<std::uint32_t>(pos.begin(), pos.end());
  });
  return m;
}

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::vector<std::uint8_t> out;
  if (!f)
    return out;
  std::uint8_t buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

} // namespace

TEST_CASE("a capture writes one complete index per packet file, with the right keys") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto traffic = make_ip_traffic(6000);
  std::vector<frame> frames;
  for (const auto& t : traffic)
    frames.push_back(t.bytes);
  background_process cap{{STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + tmp.path(),
                          "--blocks=64", "--blocksize_kb=64", "--aiops=8", "--blockage_sec=1",
                          "--filesize_mb=2", "--index_nicelevel=5", "-v"}};
  cap.wait_for_stderr("capturing on", 10);
  lab.send(frames);
  std::this_thread::sleep_for(300ms);
  const int rc = cap.stop(SIGTERM, 20);
  INFO(cap.stderr_text());
  REQUIRE(rc == 0);

  auto dir = read_capture_dir(tmp.path(), block_kb * 1024);
  CHECK(dir.hidden.empty());
  CHECK(dir.problems.empty());
  REQUIRE(dir.files.size() >= 2); // 2 MiB files: the traffic spans several

  // Expected keys per file, from how each frame was made; frames the kernel
  // sent on its own (none expected) by parsing.
  std::map<std::string, key_map> expected;
  std::set<long> seen;
  for (const auto& p : dir.packets) {
    auto& m = expected[p.file];
    std::vector<std::uint8_t> bytes = p.bytes;
    const long seq = marker_seq(bytes);
    if (seq >= 0 && static_cast<std::size_t>(seq) < traffic.size()) {
      seen.insert(seq);
      for (const auto& k : traffic[static_cast<std::size_t>(seq)].keys)
        m[k].insert(static_cast<std::uint32_t>(p.offset));
    } else {
      FAIL_CHECK("unexpected frame in capture");
    }
  }
  CHECK(seen.size() == traffic.size());

  for (const auto& f : dir.files) {
    INFO(f);
    const std::string name = f.substr(f.find('/') + 1);
    const std::string thread = f.substr(3, f.find('/') - 3);
    const std::string idx = tmp.path() + "/IDX" + thread + "/" + name;
    struct stat st;
    REQUIRE(stat(idx.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const auto got = read_index(idx);
    for (const auto& [k, pos] : expected[name])
      if (!got.count(k) || got.at(k) != pos)
        FAIL_CHECK("key " << describe_key(k) << ": expected " << pos.size() << " positions, index has "
                          << (got.count(k) ? got.at(k).size() : 0));
    for (const auto& [k, pos] : got)
      if (!expected[name].count(k))
        FAIL_CHECK("unexpected key " << describe_key(k) << " with " << pos.size() << " positions");

    // Rebuilding from the packet file gives the same entries.
    const std::string rebuilt = tmp.path() + "/rebuilt-" + name;
    std::string err;
    REQUIRE(run_process({STENOINDEX_BINARY, "--blocksize_kb=64", "--output=" + rebuilt,
                         tmp.path() + "/" + f}, 30, &err) == 0);
    std::vector<std::pair<std::string, std::string>> a, b;
    index_reader{idx}.for_each_entry([&](auto k, auto v) { a.emplace_back(k, v); });
    index_reader{rebuilt}.for_each_entry([&](auto k, auto v) { b.emplace_back(k, v); });
    CHECK(a == b);
  }
  // Every IDX file has its packet file.
  for (const auto& sub : list_dir(tmp.path()))
    if (sub.rfind("IDX", 0) == 0)
      for (const auto& name : list_dir(tmp.path() + "/" + sub))
        CHECK(expected.count(name) == 1);

  // stenocat: the frames as sent, VLAN tags back in place, in order.
  std::vector<std::string> args = {STENOCAT_BINARY, "-w", tmp.path() + "/out.pcap"};
  for (const auto& f : dir.files)
    args.push_back(tmp.path() + "/" + f);
  REQUIRE(run_process(args, 30) == 0);
  const auto pcap = slurp(tmp.path() + "/out.pcap");
  REQUIRE(pcap.size() > 24);
  std::uint32_t magic;
  std::memcpy(&magic, pcap.data(), 4);
  CHECK(magic == 0xa1b23c4d);
  std::size_t off = 24, count = 0;
  while (off + 16 <= pcap.size()) {
    std::uint32_t caplen;
    std::memcpy(&caplen, pcap.data() + off + 8, 4);
    REQUIRE(off + 16 + caplen <= pcap.size());
    std::vector<std::uint8_t> frame_bytes(pcap.begin() + static_cast<long>(off + 16),
                                          pcap.begin() + static_cast<long>(off + 16 + caplen));
    const long seq = marker_seq(frame_bytes);
    REQUIRE(seq >= 0);
    CHECK(frame_bytes == traffic[static_cast<std::size_t>(seq)].bytes);
    off += 16 + caplen;
    ++count;
  }
  CHECK(count == traffic.size());

  // stenoread on the live capture's files: the VLAN 10 frames (tag stripped
  // by the veth, indexed from tp_vlan_tci, re-inserted on output), in order.
  const std::string vout = tmp.path() + "/vlan10.pcap";
  REQUIRE(run_process({STENOREAD_BINARY, "--dir=" + tmp.path(), "vlan 10 and port 443", "-w", vout}, 30) == 0);
  std::vector<long> want;
  for (std::size_t i = 0; i < traffic.size(); ++i)
    if (i % 5 == 1 && i % 3 == 0 && i % 2 == 1)
      want.push_back(static_cast<long>(i));
  const auto vpcap = slurp(vout);
  std::vector<long> got;
  for (std::size_t o = 24; o + 16 <= vpcap.size();) {
    std::uint32_t caplen;
    std::memcpy(&caplen, vpcap.data() + o + 8, 4);
    std::vector<std::uint8_t> fb(vpcap.begin() + static_cast<long>(o + 16),
                                 vpcap.begin() + static_cast<long>(o + 16 + caplen));
    got.push_back(marker_seq(fb));
    if (got.back() >= 0)
      CHECK(fb == traffic[static_cast<std::size_t>(got.back())].bytes);
    o += 16 + caplen;
  }
  CHECK(!want.empty());
  CHECK(got == want);
}

TEST_CASE("a capture with --no_index writes packet files and no indexes") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto traffic = make_ip_traffic(200);
  std::vector<frame> frames;
  for (const auto& t : traffic)
    frames.push_back(t.bytes);
  background_process cap{{STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + tmp.path(),
                          "--blocks=16", "--blocksize_kb=64", "--aiops=8", "--blockage_sec=1",
                          "--no_index", "--count=200", "-v"}};
  cap.wait_for_stderr("capturing on", 10);
  lab.send(frames);
  REQUIRE(cap.wait(20) == 0);
  CHECK(list_dir(tmp.path() + "/PKT0").size() >= 1);
  CHECK(list_dir(tmp.path() + "/IDX0").empty());
}
