// Hostile command lines against the real binaries: numbers at and past every
// type's range, values that are not numbers, ids that would not drop root,
// names the kernel refuses. Every one must end in exit status 2 with exactly
// one line on stderr, no signal death, no hang, and nothing created.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;

namespace {

constexpr int time_limit_sec = 20;

// Runs `argv` and checks the rule for a refused command line; `tmp` must be
// left as empty as it was.
void expect_refused(const std::vector<std::string>& argv, const temp_dir& tmp) {
  std::string cmd;
  for (const auto& a : argv)
    cmd += "'" + a + "' ";
  INFO(cmd);
  std::string err;
  const int rc = run_process(argv, time_limit_sec, &err);
  INFO("stderr: " << err);
  CHECK(rc != -1000);             // no hang
  CHECK(rc >= 0);                 // no signal death
  CHECK(rc < 128);
  CHECK(rc == 2);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  CHECK((!err.empty() && err.back() == '\n'));
  const std::string program = argv[0].substr(argv[0].rfind('/') + 1);
  CHECK(err.rfind(program + ": ", 0) == 0);
  CHECK(list_dir(tmp.path()).empty());
}

// What no numeric flag may take, whatever its type.
std::vector<std::string> not_numbers() {
  return {"", "0x10", "010x", "1x", "x", " 1", "1 ", "+1", "1.5", "1e3", "--", "4294967296abc",
          "18446744073709551616", "99999999999999999999999999", "1\n2", "\n"};
}

// A pcap with one 60-byte Ethernet frame: input for stenoimport, whose
// output is input for the other tools.
void write_pcap(const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  const std::uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  const std::uint32_t record[4] = {1700000000, 0, 60, 60};
  std::uint8_t frame[60] = {};
  frame[12] = 0x88; // experimental ethertype
  frame[13] = 0xb5;
  f.write(reinterpret_cast<const char*>(header), sizeof header);
  f.write(reinterpret_cast<const char*>(record), sizeof record);
  f.write(reinterpret_cast<const char*>(frame), sizeof frame);
}

// A data directory holding one imported packet file (64 KiB blocks).
struct fixture {
  temp_dir src;
  std::string data = src.path() + "/data", packet_file;
  fixture() {
    write_pcap(src.path() + "/in.pcap");
    REQUIRE(run_process({STENOIMPORT_BINARY, "--dir=" + data, "--blocksize_kb=64", src.path() + "/in.pcap"},
                        time_limit_sec) == 0);
    const auto files = list_dir(data + "/PKT0");
    REQUIRE(files.size() == 1);
    packet_file = data + "/PKT0/" + files[0];
  }
};

} // namespace

TEST_CASE("stenotype: every numeric flag refuses values outside its type, before creating anything") {
  // Each flag with the values just past its type's ends.
  struct numeric_flag {
    const char* name;
    const char* past_max;
    const char* past_min;
  };
  const char *u32_past = "4294967296", *i32_past = "2147483648", *i32_below = "-2147483649";
  const numeric_flag flags[] = {
    {"--aiops", u32_past, "-1"},          {"--blocks", u32_past, "-1"},
    {"--blocksize_kb", u32_past, "-1"},   {"--blockage_sec", u32_past, "-1"},
    {"--fileage_sec", u32_past, "-1"},    {"--filesize_mb", u32_past, "-1"},
    {"--preallocate_file_mb", u32_past, "-1"}, {"--stats_blocks", u32_past, "-1"},
    {"--stats_sec", u32_past, "-1"},      {"--threads", i32_past, i32_below},
    {"--fanout_id", i32_past, i32_below}, {"--fanout_type", i32_past, i32_below},
    {"--index_nicelevel", i32_past, i32_below},
    {"--count", "9223372036854775808", "-9223372036854775809"},
    {"--metrics_port", "65536", "-1"},    {"--control_port", "65536", "-1"},
  };
  for (const auto& f : flags) {
    auto values = not_numbers();
    values.push_back(f.past_max);
    values.push_back(f.past_min);
    if (std::string(f.name) != "--count")
      values.push_back("4294967297"); // 2^32 + 1: 1 if cut to 32 bits
    for (const auto& v : values) {
      temp_dir tmp;
      expect_refused({STENOTYPE_BINARY, "--dir=" + tmp.path() + "/data", "--iface=lo",
                      std::string(f.name) + "=" + v}, tmp);
    }
  }
}

TEST_CASE("stenotype: values the kernel or the pipeline would overflow or refuse exit 2, nothing created") {
  const std::vector<std::vector<std::string>> cases = {
    {"--blocksize_kb=4194304"},        // * 1024 wraps to 0 in 32 bits
    {"--blocksize_kb=131076"},
    {"--blockage_sec=66", "--fileage_sec=66"}, // the kernel's 16-bit millisecond timeout
    {"--blockage_sec=4294968"},        // * 1000 wraps
    {"--fileage_sec=4294967290"},      // 3x for the watchdog wraps
    {"--preallocate_file_mb=4294967295"},
    {"--threads=257"},
    {"--threads=-1"},
    {"--aiops=0"},
    {"--count=-2"},
    {"--index_nicelevel=20"},
    {"--fanout_id=65536"},
    {"--fanout_type=-1"},
    {"--iface=abcdefghijklmnop"},      // IFNAMSIZ: 15 characters at most
    {"--iface=" + std::string(300, 'x')},
    {"--iface=a/b"},
    {"--iface=eth0:1"},
    {"--iface=eth0\nsecond line"},
    {"--iface="},
    {"--filter=0000000000000000"},     // no final return
    {"--filter=0005000000000005" "0006000000000000"}, // jump past the end
    {"--filter=00ff000000000000" "0006000000000000"}, // unknown opcode
    {"--filter=0034000000000000" "0006000000000000"}, // division by constant 0
    {"--filter=not a (valid expression"},
    {"--seccomp=maybe"},
  };
  for (const auto& extra : cases) {
    temp_dir tmp;
    std::vector<std::string> argv = {STENOTYPE_BINARY, "--dir=" + tmp.path() + "/data/deeper"};
    if (extra[0].rfind("--iface", 0) != 0)
      argv.push_back("--iface=lo");
    argv.insert(argv.end(), extra.begin(), extra.end());
    expect_refused(argv, tmp);
  }
}

TEST_CASE("stenotype: --uid/--gid that would not drop privileges exit 2, nothing created") {
  const std::vector<std::string> cases = {
    "--uid=4294967296",  // was uid 0
    "--uid=4294967297",  // was uid 1
    "--uid=4294967295",  // (uid_t)-1: setresuid leaves the uid unchanged
    "--uid=-1",
    "--uid=18446744073709551616",
    "--uid=99999999999999999999999", // was "stoul"
    "--uid=no-such-user-here",
    "--gid=4294967296",
    "--gid=4294967295",
    "--gid=-1",
    "--gid=no-such-group-here",
    "--uid=no\nsuch",
  };
  for (const auto& flag : cases) {
    temp_dir tmp;
    expect_refused({STENOTYPE_BINARY, "--dir=" + tmp.path() + "/data", "--iface=lo", flag}, tmp);
  }
}

TEST_CASE("stenoindex, stenocat, stenoimport: --blocksize_kb and the other numbers are checked whole") {
  fixture fx;
  // The flags below are fine when valid: each tool then creates its output.
  {
    temp_dir tmp;
    REQUIRE(run_process({STENOINDEX_BINARY, "--blocksize_kb=64", "-o", tmp.path() + "/out/idx", fx.packet_file},
                        time_limit_sec) == 0);
    REQUIRE(run_process({STENOCAT_BINARY, "--blocksize_kb=64", "-w", tmp.path() + "/out.pcap", fx.packet_file},
                        time_limit_sec) == 0);
    REQUIRE(run_process({STENOIMPORT_BINARY, "--dir=" + tmp.path() + "/data", "--blocksize_kb=64",
                         fx.src.path() + "/in.pcap"}, time_limit_sec) == 0);
    CHECK(list_dir(tmp.path()) == std::vector<std::string>{"data", "out", "out.pcap"});
  }
  auto blocksizes = not_numbers();
  // 4194304 KiB * 1024 is 2^32: once 0 and a SIGFPE in stenoindex.
  for (const char* v : {"4194304", "4294967296", "131076", "-4", "-1", "6"})
    blocksizes.push_back(v);
  for (const auto& v : blocksizes) {
    temp_dir tmp;
    expect_refused({STENOINDEX_BINARY, "--blocksize_kb=" + v, "-o", tmp.path() + "/out/idx", fx.packet_file}, tmp);
    expect_refused({STENOCAT_BINARY, "--blocksize_kb=" + v, "-w", tmp.path() + "/out.pcap", fx.packet_file}, tmp);
    expect_refused({STENOIMPORT_BINARY, "--dir=" + tmp.path() + "/data", "--blocksize_kb=" + v,
                    fx.src.path() + "/in.pcap"}, tmp);
  }
  {
    temp_dir tmp;
    expect_refused({STENOINDEX_BINARY, "--blocksize_kb=0", "-o", tmp.path() + "/out/idx", fx.packet_file}, tmp);
    expect_refused({STENOIMPORT_BINARY, "--dir=" + tmp.path() + "/data", "--blocksize_kb=65540",
                    fx.src.path() + "/in.pcap"}, tmp);
  }
  for (const char* flag : {"--thread", "--filesize_mb", "--fileage_sec"}) {
    auto values = not_numbers();
    for (const char* v : {"-1", "4294967296", "4294967297", "0"})
      values.push_back(v);
    values.push_back(std::string(flag) == "--thread" ? "10000" : std::string(flag) == "--filesize_mb" ? "4097"
                                                                                                     : "31536001");
    for (const auto& v : values) {
      if (v == "0" && std::string(flag) == "--thread")
        continue; // thread 0 is fine
      temp_dir tmp;
      expect_refused({STENOIMPORT_BINARY, "--dir=" + tmp.path() + "/data", std::string(flag) + "=" + v,
                      fx.src.path() + "/in.pcap"}, tmp);
    }
  }
}

TEST_CASE("stenotype-ctl: --port is a whole number from 1 to 65535") {
  auto values = not_numbers();
  for (const char* v : {"0", "65536", "-1", "4294967296", "4294967377"})
    values.push_back(v);
  for (const auto& v : values) {
    temp_dir tmp;
    expect_refused({STENOTYPE_CTL_BINARY, "--port=" + v, "stats"}, tmp);
  }
}

TEST_CASE("stenoread: times out of range are one query error, exit 2, nothing written") {
  fixture fx;
  {
    temp_dir tmp;
    REQUIRE(run_process({STENOREAD_BINARY, "--dir=" + fx.data, "-q", "after 2023-11-14T22:13:20Z", "-w",
                         tmp.path() + "/out.pcap"}, time_limit_sec) == 0);
    CHECK(list_dir(tmp.path()) == std::vector<std::string>{"out.pcap"});
  }
  for (const char* q : {"after 2555-01-01T00:00:00Z", "before 2554-07-21T23:34:33.709551616Z",
                        "after 1969-12-31T23:59:59Z", "after 2026-02-31T00:00:00Z", "after 2023-02-29T00:00:00Z",
                        "after 2026-01-01T-1:00:00Z", "after 2026-01-01T24:00:00Z", "after 2026-01-01T00:60:00Z",
                        "after 2026-01-01T00:00:61Z", "after 2026-01-01T00:00:00.1234567890Z",
                        "after 2026-01-01T00:00:00+24:00", "after 2026-01-01T00:00:00+01:60",
                        "after 2026-02-31", "after -5m ago", "after 5 weeks ago", "after 0x10m ago"}) {
    temp_dir tmp;
    expect_refused({STENOREAD_BINARY, "--dir=" + fx.data, q, "-w", tmp.path() + "/out.pcap"}, tmp);
  }
}
