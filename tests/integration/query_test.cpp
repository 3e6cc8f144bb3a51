// stenoread end to end: a data set of known traffic (IPv4, IPv6, VLAN, QinQ,
// MPLS, TCP, UDP, ICMP; two threads; files across ten minutes) imported with
// stenoimport, then a table of queries whose exact packet sequence is
// computed from how the traffic was made. Outputs are read back with tcpdump
// and tshark. Plus conformance with tcpdump on the tcpdump test corpus.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <sys/stat.h>

#include "io/pcap_writer.hpp"
#include "support/frames.hpp"
#include "support/netns.hpp"
#include "support/skip.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::test;

namespace {

constexpr std::uint64_t t0_sec = 1795773600; // 2026-11-27T10:00:00Z

struct made {
  std::uint32_t seq;
  std::uint64_t ts_ns;
  int ip = 4;                 // 4 or 6
  std::uint8_t src_last = 0, dst_last = 0; // 10.0.0.x / 2001:db8::x
  std::uint8_t proto = 6;
  std::uint16_t sport = 0, dport = 0;
  std::vector<std::uint16_t> vlans;
  std::vector<std::uint32_t> labels;
  frame bytes;
};

std::vector<made> make_dataset(std::uint32_t n) {
  std::mt19937 rng(5);
  const std::uint16_t ports[] = {53, 80, 443, 8080};
  std::vector<made> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    made m;
    m.seq = i;
    m.ts_ns = (t0_sec * 1000000000ull) + std::uint64_t{i} * 150'000'000ull + rng() % 1000;
    frame_builder b;
    const unsigned shape = rng() % 8;
    if (shape == 1) {
      m.vlans = {100};
      b.vlan(100);
    } else if (shape == 2) {
      m.vlans = {200, 300};
      b.vlan(200, 0x88a8).vlan(300);
    } else if (shape == 3) {
      m.labels = {1000, 2000};
      b.mpls(1000).mpls(2000);
    }
    m.ip = shape == 4 || shape == 5 ? 6 : 4;
    m.src_last = static_cast<std::uint8_t>(1 + rng() % 6);
    m.dst_last = static_cast<std::uint8_t>(100 + rng() % 3);
    const unsigned p = rng() % 10;
    m.proto = p < 6 ? 6 : p < 9 ? 17 : (m.ip == 4 ? 1 : 58);
    if (m.ip == 4)
      b.ipv4({10, 0, 0, m.src_last}, {10, 0, 0, m.dst_last}, m.proto);
    else
      b.ipv6(test::v6(m.src_last), test::v6(m.dst_last), m.proto);
    if (m.proto == 6 || m.proto == 17) {
      m.sport = static_cast<std::uint16_t>(30000 + rng() % 1000);
      m.dport = ports[rng() % 4];
      b.ports(m.sport, m.dport);
    } else {
      b.payload(8);
    }
    b.payload(rng() % 400);
    m.bytes = b.build();
    const std::uint32_t nseq = htonl(i);
    const std::uint8_t tag[4] = {'S', 'Q', 0, 0};
    m.bytes.insert(m.bytes.end(), tag, tag + 4);
    m.bytes.insert(m.bytes.end(), reinterpret_cast<const std::uint8_t*>(&nseq),
                   reinterpret_cast<const std::uint8_t*>(&nseq) + 4);
    out.push_back(std::move(m));
  }
  return out;
}

void write_pcap(const std::string& path, const std::vector<const made*>& pkts) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  io::pcap_writer w{f};
  for (const made* m : pkts) {
    io::packet_ref r{0, static_cast<std::uint32_t>(m->ts_ns / 1000000000u),
                     static_cast<std::uint32_t>(m->ts_ns % 1000000000u),
                     static_cast<std::uint32_t>(m->bytes.size()), static_cast<std::uint32_t>(m->bytes.size()),
                     0, 0, 0, m->bytes.data()};
    REQUIRE(w.write(r));
  }
  w.flush();
  std::fclose(f);
}

struct pcap_packet {
  std::uint64_t ts_ns;
  frame bytes;
};

std::vector<pcap_packet> read_pcap(const std::string& path) {
  std::vector<pcap_packet> out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return out;
  std::uint32_t hdr[6];
  if (std::fread(hdr, 4, 6, f) == 6) {
    REQUIRE(hdr[0] == 0xa1b23c4d);
    CHECK(hdr[5] == 1); // Ethernet
    std::uint32_t rec[4];
    while (std::fread(rec, 4, 4, f) == 4) {
      pcap_packet p{std::uint64_t{rec[0]} * 1000000000u + rec[1], frame(rec[2])};
      REQUIRE(std::fread(p.bytes.data(), 1, rec[2], f) == rec[2]);
      out.push_back(std::move(p));
    }
  }
  std::fclose(f);
  return out;
}

long seq_of(const frame& f) {
  if (f.size() < 8 || f[f.size() - 8] != 'S' || f[f.size() - 7] != 'Q')
    return -1;
  std::uint32_t s;
  std::memcpy(&s, f.data() + f.size() - 4, 4);
  return static_cast<long>(ntohl(s));
}

int count_lines(const std::string& cmd) {
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return -1;
  int n = 0;
  char line[4096];
  while (std::fgets(line, sizeof line, p))
    ++n;
  return pclose(p) == 0 ? n : -1;
}

bool have(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

std::uint64_t at(int minute, int second = 0) {
  return (t0_sec + static_cast<std::uint64_t>(minute * 60 + second)) * 1000000000ull;
}

} // namespace

TEST_CASE("stenoread answers a table of queries with exactly the right packets, in time order") {
  temp_dir tmp;
  const auto data = make_dataset(4000);
  std::vector<const made*> even, odd;
  for (const auto& m : data)
    (m.seq % 2 ? odd : even).push_back(&m);
  write_pcap(tmp.path() + "/t0.pcap", even);
  write_pcap(tmp.path() + "/t1.pcap", odd);
  const std::string dir = tmp.path() + "/data";
  for (int t = 0; t < 2; ++t) {
    std::string err;
    REQUIRE(run_process({STENOIMPORT_BINARY, "--dir=" + dir, "--thread=" + std::to_string(t),
                         "--fileage_sec=60", "--blocksize_kb=64", tmp.path() + "/t" + std::to_string(t) + ".pcap"},
                        60, &err) == 0);
  }
  CHECK(list_dir(dir + "/PKT0").size() >= 9); // ten minutes of packets, 60 s files
  CHECK(list_dir(dir + "/PKT1").size() >= 9);

  using pred = std::function<bool(const made&)>;
  auto has_vlan = [](const made& m, std::uint16_t v) {
    return std::find(m.vlans.begin(), m.vlans.end(), v) != m.vlans.end();
  };
  struct row {
    std::string query;
    pred want;
  };
  const std::vector<row> table = {
    {"host 10.0.0.1", [](const made& m) { return m.ip == 4 && m.src_last == 1; }},
    {"host 10.0.0.101", [](const made& m) { return m.ip == 4 && m.dst_last == 101; }},
    {"host 2001:db8::2", [](const made& m) { return m.ip == 6 && m.src_last == 2; }},
    {"net 10.0.0.0/30", [](const made& m) { return m.ip == 4 && m.src_last <= 3; }},
    {"net 10.0.0.0 mask 255.255.255.252", [](const made& m) { return m.ip == 4 && m.src_last <= 3; }},
    {"net 2001:db8::/32", [](const made& m) { return m.ip == 6; }},
    {"port 443", [](const made& m) { return m.dport == 443; }},
    {"tcp and port 53", [](const made& m) { return m.proto == 6 && m.dport == 53; }},
    {"udp", [](const made& m) { return m.proto == 17; }},
    {"icmp", [](const made& m) { return m.proto == 1; }},
    {"ip proto 58", [](const made& m) { return m.proto == 58; }},
    {"vlan 100", [&](const made& m) { return has_vlan(m, 100); }},
    {"vlan 300 && udp", [&](const made& m) { return has_vlan(m, 300) && m.proto == 17; }},
    {"mpls 2000", [](const made& m) { return m.labels.size() == 2; }},
    {"host 10.0.0.1 and port 443 and after 2026-11-27T10:02:00Z and before 2026-11-27T10:05:00Z",
     [](const made& m) {
       return m.ip == 4 && m.src_last == 1 && m.dport == 443 && m.ts_ns >= at(2) && m.ts_ns < at(5);
     }},
    {"after 2026-11-27T10:08:00Z", [](const made& m) { return m.ts_ns >= at(8); }},
    {"before 2026-11-27T10:00:30Z or vlan 200", [&](const made& m) { return m.ts_ns < at(0, 30) || has_vlan(m, 200); }},
    {"(tcp or udp) and net 2001:db8::/64 and after 2026-11-27T11:00:00+01:00",
     [](const made& m) { return (m.proto == 6 || m.proto == 17) && m.ip == 6; }},
    {"port 9", [](const made&) { return false; }},
    {"after 2026-11-27T10:09:59.5Z and before 2026-11-27T10:10:00.2Z",
     [](const made& m) { return m.ts_ns >= at(9, 59) + 500'000'000 && m.ts_ns < at(10) + 200'000'000; }},
  };
  for (const auto& r : table) {
    INFO(r.query);
    const std::string out = tmp.path() + "/out.pcap";
    std::string err;
    REQUIRE(run_process({STENOREAD_BINARY, "--dir=" + dir, r.query, "-w", out}, 60, &err) == 0);
    CHECK(err.find("warning") == std::string::npos);
    std::vector<long> expected;
    for (const auto& m : data) // `data` is in time order
      if (r.want(m))
        expected.push_back(static_cast<long>(m.seq));
    const auto got = read_pcap(out);
    std::vector<long> got_seq;
    for (const auto& p : got) {
      const long s = seq_of(p.bytes);
      got_seq.push_back(s);
      if (s >= 0) {
        CHECK(p.bytes == data[static_cast<std::size_t>(s)].bytes);
        CHECK(p.ts_ns == data[static_cast<std::size_t>(s)].ts_ns);
      }
    }
    CHECK(got_seq == expected);
    if (!expected.empty() && have("tcpdump"))
      CHECK(count_lines("tcpdump -nr '" + out + "' 2>/dev/null") == static_cast<int>(expected.size()));
    if (!expected.empty() && have("tshark"))
      CHECK(count_lines("tshark -r '" + out + "' 2>/dev/null") == static_cast<int>(expected.size()));
  }

  SECTION("microsecond pcap for old tools") {
    const std::string out = tmp.path() + "/us.pcap";
    REQUIRE(run_process({STENOREAD_BINARY, "--dir=" + dir, "--format=pcap-us", "icmp", "-w", out}, 60) == 0);
    std::FILE* f = std::fopen(out.c_str(), "rb");
    std::uint32_t magic = 0;
    REQUIRE(std::fread(&magic, 4, 1, f) == 1);
    std::fclose(f);
    CHECK(magic == 0xa1b2c3d4);
    if (have("tcpdump"))
      CHECK(count_lines("tcpdump -nr '" + out + "' 2>/dev/null") > 0);
  }
  SECTION("stdout carries the same pcap") {
    CHECK(count_lines("'" STENOREAD_BINARY "' -q --dir='" + dir + "' 'udp' | tcpdump -nr - 2>/dev/null")
          == static_cast<int>(std::count_if(data.begin(), data.end(), [](const made& m) { return m.proto == 17; })));
  }
  SECTION("bad queries and directories: one line, exit 2, no output file") {
    for (const char* q : {"port 70000", "host", "tcp and", "hostname 1.2.3.4", "(tcp"}) {
      std::string err;
      INFO(q);
      CHECK(run_process({STENOREAD_BINARY, "--dir=" + dir, q, "-w", tmp.path() + "/never.pcap"}, 20, &err) == 2);
      CHECK(err.rfind("stenoread: query error at column ", 0) == 0);
      CHECK(std::count(err.begin(), err.end(), '\n') == 1);
      struct stat st;
      CHECK(stat((tmp.path() + "/never.pcap").c_str(), &st) != 0);
    }
    std::string err;
    CHECK(run_process({STENOREAD_BINARY, "--dir=" + tmp.path() + "/nope", "tcp"}, 20, &err) == 2);
    CHECK(err.find("no data directory") != std::string::npos);
  }
  SECTION("a damaged index is reported, and the packet file is scanned instead") {
    const auto names = list_dir(dir + "/IDX0");
    REQUIRE(!names.empty());
    const std::string victim = dir + "/IDX0/" + names[names.size() / 2];
    REQUIRE(truncate(victim.c_str(), 100) == 0);
    std::string err;
    const std::string out = tmp.path() + "/after-damage.pcap";
    CHECK(run_process({STENOREAD_BINARY, "--dir=" + dir, "udp", "-w", out}, 60, &err) == 0);
    CHECK(err.find(victim) != std::string::npos);
    CHECK(read_pcap(out).size()
          == static_cast<std::size_t>(std::count_if(data.begin(), data.end(), [](const made& m) { return m.proto == 17; })));
  }
  SECTION("a truncated packet file gives what it still holds, and a warning") {
    const auto names = list_dir(dir + "/PKT1");
    const std::string victim = dir + "/PKT1/" + names[0];
    REQUIRE(truncate(victim.c_str(), 64 * 1024 + 3000) == 0); // one block and a bit
    std::string err;
    const int rc = run_process({STENOREAD_BINARY, "--dir=" + dir, "udp", "-w", tmp.path() + "/t.pcap"}, 60, &err);
    CHECK(rc == 3); // the answer is incomplete (docs/OPERATIONS.md, exit codes)
    CHECK(err.find("warning: " + victim) != std::string::npos);
    CHECK(read_pcap(tmp.path() + "/t.pcap").size() > 0);
  }
}

TEST_CASE("queries agree with tcpdump on the tcpdump test corpus") {
  const std::string corpus = STENOTYPE_SHARED_DIR "/corpus/tcpdump-tests";
  struct stat st;
  if (stat(corpus.c_str(), &st) != 0 || !have("tcpdump"))
    SKIP_TEST("../shared/corpus or tcpdump not present");
  temp_dir tmp;
  int files = 0, compared = 0;
  for (const auto& name : list_dir(corpus)) {
    const std::string f = corpus + "/" + name;
    // tcpdump does not look through VLAN/MPLS without saying so: plain files only.
    if (count_lines("tcpdump -nr '" + f + "' 'vlan or mpls' 2>/dev/null") != 0)
      continue;
    const std::string dir = tmp.path() + "/" + std::to_string(files++);
    // 128 KiB blocks hold any frame whole (64 KiB ones cut the corpus's 65 KB
    // frames, and tcpdump then decodes the cut frame differently).
    if (run_process({STENOIMPORT_BINARY, "--dir=" + dir, "--blocksize_kb=128", "--filesize_mb=2", f}, 30) > 1)
      FAIL_CHECK("stenoimport failed on " << f);
    // One address and one port seen in the file, as a user would pick them.
    std::FILE* p = popen(("tcpdump -nr '" + f + "' -c 50 'ip and (tcp or udp)' 2>/dev/null").c_str(), "r");
    char line[4096];
    std::string ip, port;
    while (p && std::fgets(line, sizeof line, p) && ip.empty()) {
      unsigned a, b, c, d, prt;
      if (const char* s = std::strstr(line, " IP "); s && std::sscanf(s, " IP %u.%u.%u.%u.%u", &a, &b, &c, &d, &prt) == 5) {
        ip = std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." + std::to_string(d);
        port = std::to_string(prt);
      }
    }
    if (p)
      pclose(p);
    if (ip.empty())
      continue;
    const std::string wellformed = "ip[0] & 0xf0 == 0x40 and ip[0] & 0x0f >= 5";
    const std::pair<std::string, std::string> pairs[] = {
      {"host " + ip, "ip host " + ip + " and " + wellformed},
      {"tcp and net 0.0.0.0/0", "ip proto 6 and " + wellformed},
      {"port " + port, "((ip and ip[0] & 0x0f >= 5) or ip6) and (tcp port " + port + " or udp port " + port + ")"},
    };
    for (const auto& [ours, theirs] : pairs) {
      INFO(f << ": '" << ours << "' vs tcpdump '" << theirs << "'");
      const int a = count_lines("'" STENOREAD_BINARY "' -q --dir='" + dir + "' '" + ours + "' | tcpdump -nr - 2>/dev/null");
      const int b = count_lines("tcpdump -nr '" + f + "' '" + theirs + "' 2>/dev/null");
      CHECK(a == b);
      ++compared;
    }
  }
  INFO("compared " << compared << " queries");
  CHECK(compared > 300);
}
