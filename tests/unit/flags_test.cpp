#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "main/flags.hpp"
#include "store/retention_policy.hpp"

using stenotype::parse_flags;

namespace {
stenotype::parsed_flags parse(std::vector<std::string> args) {
  args.insert(args.begin(), "stenotype");
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  return parse_flags(static_cast<int>(argv.size()), argv.data());
}
} // namespace

TEST_CASE("defaults are stenotype's") {
  auto r = parse({"--dir=/tmp/x"});
  REQUIRE_FALSE(r.exit_code);
  const auto& o = r.options;
  CHECK(o.aiops == 128);
  CHECK(o.blocks == 2048);
  CHECK(o.blocksize_kb == 1024);
  CHECK(o.blockage_sec == 10);
  CHECK(o.count == -1);
  CHECK(o.fileage_sec == 60);
  CHECK(o.filesize_mb == 4096);
  CHECK(o.threads == 1);
  CHECK(o.seccomp == "kill");
  CHECK(o.index_nicelevel == 0);
  CHECK(o.preallocate_file_mb == 0);
  CHECK(o.fanout_type == (0x1000 | 1));
  CHECK(o.index);
  CHECK(o.promiscuous);
  CHECK(o.watchdogs);
  CHECK(o.iface == "eth0");
  CHECK(o.stats_blocks == 100); // stenotype.cc: with -v, every 100 blocks or 60 s
  CHECK(o.stats_sec == 60);
  CHECK(o.index_format == stenotype::index_format::native);
}

TEST_CASE("index format: --index_format takes native or stenographer, the latter with 1 MiB blocks only") {
  CHECK(parse({"--dir=/d", "--index_format=stenographer"}).options.index_format
        == stenotype::index_format::stenographer);
  CHECK(parse({"--dir=/d", "--index_format", "native"}).options.index_format == stenotype::index_format::native);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--dir=/d", "--index_format=leveldb"},
                                              {"--dir=/d", "--index_format=stenographer", "--blocksize_kb=64"}}) {
    INFO(args.back());
    auto r = parse(args);
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message.find("--index_format") != std::string::npos);
  }
}

TEST_CASE("retention flags: not given means stenographer's server's default, and 0 turns one off") {
  auto r = parse({"--dir=/d"});
  REQUIRE_FALSE(r.exit_code);
  CHECK_FALSE(r.options.disk_free_percentage);
  CHECK_FALSE(r.options.max_directory_files);
  CHECK_FALSE(r.options.max_data_mb);
  auto l = stenotype::store::effective_retention(r.options);
  CHECK(l.disk_free_percentage == 10);
  CHECK(l.max_directory_files == 30000);
  CHECK(l.max_data_mb == 0);
  CHECK(l.any());

  r = parse({"--dir=/d", "--disk_free_percentage=0", "--max_directory_files", "0", "--max_data_mb=0"});
  REQUIRE_FALSE(r.exit_code);
  REQUIRE(r.options.disk_free_percentage);
  CHECK(*r.options.disk_free_percentage == 0);
  l = stenotype::store::effective_retention(r.options);
  CHECK_FALSE(l.any());

  r = parse({"--dir=/d", "--disk_free_percentage=100", "--max_directory_files=7",
             "--max_data_mb=18446744073709551615"});
  REQUIRE_FALSE(r.exit_code);
  l = stenotype::store::effective_retention(r.options);
  CHECK(l.disk_free_percentage == 100);
  CHECK(l.max_directory_files == 7);
  CHECK(l.max_data_mb == 18446744073709551615ull);

  r = parse({"--dir=/d", "--disk_free_percentage=101"});
  REQUIRE(r.exit_code);
  CHECK(r.message == "--disk_free_percentage: expected a whole number from 0 to 100, got '101'");
  // An embedding application's options are checked too.
  stenotype::capture_options o;
  o.dir = "/d";
  o.disk_free_percentage = 101;
  REQUIRE(stenotype::validate(o));
  CHECK(stenotype::validate(o)->find("--disk_free_percentage must be in [0, 100]") == 0);
}

TEST_CASE("flags take values as --flag=value and --flag value") {
  auto r = parse({"--dir", "/d", "--aiops=64", "--blocks", "256", "--iface=veth0",
                  "--count", "10", "--no_index", "--no_promisc", "--no_watchdogs"});
  REQUIRE_FALSE(r.exit_code);
  CHECK(r.options.dir == "/d");
  CHECK(r.options.aiops == 64);
  CHECK(r.options.blocks == 256);
  CHECK(r.options.iface == "veth0");
  CHECK(r.options.count == 10);
  CHECK_FALSE(r.options.index);
  CHECK_FALSE(r.options.promiscuous);
  CHECK_FALSE(r.options.watchdogs);
}

TEST_CASE("flags: --no_open_files turns off what fresh queries read, and only that") {
  const auto on = parse({"--dir=/d"});
  REQUIRE_FALSE(on.exit_code);
  CHECK(on.options.open_files);
  CHECK(stenotype::publishes_open_files(on.options));
  const auto off = parse({"--dir=/d", "--no_open_files"});
  REQUIRE_FALSE(off.exit_code);
  CHECK_FALSE(off.options.open_files);
  CHECK_FALSE(stenotype::publishes_open_files(off.options));
  CHECK(off.options.index);
  CHECK_FALSE(stenotype::publishes_open_files(parse({"--dir=/d", "--no_index"}).options));
  CHECK_FALSE(stenotype::publishes_open_files(parse({"--dir=/d", "--index_format=stenographer"}).options));
}

TEST_CASE("verbosity counts -v against -q") {
  CHECK(parse({"--dir=/d", "-v", "-v", "-v", "-q"}).options.verbosity == 2);
  CHECK(parse({"--dir=/d", "-vv"}).options.verbosity == 2);
  CHECK(parse({"--dir=/d", "-q"}).options.verbosity == -1);
}

TEST_CASE("help and usage exit 0 with text") {
  for (const char* flag : {"--help", "-?"}) {
    auto r = parse({flag});
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 0);
    CHECK(r.message.find("--fileage_sec") != std::string::npos);
  }
  auto u = parse({"--usage"});
  REQUIRE(u.exit_code);
  CHECK(*u.exit_code == 0);
  CHECK(u.message.find("Usage: stenotype") == 0);
}

TEST_CASE("bad flags and violated start-up checks exit 2 with a reason") {
  struct bad {
    std::vector<std::string> args;
    const char* mentions;
  };
  const std::vector<bad> cases = {
    {{"--dir=/d", "--aiops=abc"}, "aiops"},
    {{"--dir=/d", "--nonsense"}, "nonsense"},
    {{"--dir=/d", "extra"}, "extra"},
    {{"--aiops=8"}, "--dir"},
    {{"--dir=/d", "--filesize_mb=1"}, "--filesize_mb"},
    {{"--dir=/d", "--filesize_mb=4097"}, "--filesize_mb"},
    {{"--dir=/d", "--blocks=15", "--aiops=8"}, "--blocks"},
    {{"--dir=/d", "--blocks=64", "--aiops=65"}, "--aiops"},
    {{"--dir=/d", "--filesize_mb=64", "--aiops=65", "--blocks=128"}, "--filesize_mb"},
    {{"--dir=/d", "--fileage_sec=15", "--blockage_sec=10"}, "--fileage_sec"},
    {{"--dir=/d", "--blocksize_kb=6"}, "--blocksize_kb"},
    {{"--dir=/d", "--seccomp=maybe"}, "--seccomp"},
    {{"--dir=/d", "--threads=0"}, "--threads"},
    {{"--dir=/d", "--count=-2"}, "--count"},
    {{"--dir=/d", "--blocks=-1"}, "blocks"},
    {{"--dir=/d", "--filter=not a (valid expression"}, "--filter"},
  };
  for (const auto& c : cases) {
    INFO(c.args.back());
    auto r = parse(c.args);
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message.find(c.mentions) != std::string::npos);
    CHECK(r.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("filter takes compiled hex and tcpdump expressions alike") {
  // "tcp port 80" compiled by libpcap, then fed back as hex, gives the same program.
  auto expr = parse({"--dir=/d", "--filter=tcp port 80"});
  REQUIRE_FALSE(expr.exit_code);
  REQUIRE(expr.options.filter.size() > 4);
  std::string hex;
  char buf[17];
  for (const auto& i : expr.options.filter) {
    std::snprintf(buf, sizeof buf, "%04x%02x%02x%08x", i.code, i.jt, i.jf, i.k);
    hex += buf;
  }
  auto compiled = parse({"--dir=/d", "--filter=" + hex});
  REQUIRE_FALSE(compiled.exit_code);
  REQUIRE(compiled.options.filter.size() == expr.options.filter.size());
  for (std::size_t i = 0; i < compiled.options.filter.size(); ++i) {
    CHECK(compiled.options.filter[i].code == expr.options.filter[i].code);
    CHECK(compiled.options.filter[i].k == expr.options.filter[i].k);
  }
  // The last instruction of "tcp port 80" is "ret #0".
  CHECK(expr.options.filter.back().code == 0x06);
  CHECK(expr.options.filter.back().k == 0);
}

// --- numbers: exactly what was typed, in the flag's own type ---------------

#include <cstdint>
#include <limits>

#include "main/numeric_flags.hpp"

namespace {

template <class T>
std::string max_of() { return std::to_string(std::numeric_limits<T>::max()); }
template <class T>
std::string min_of() { return std::to_string(std::numeric_limits<T>::min()); }

// Decimal text one past `s` (a non-negative number in decimal): max + 1 without overflow.
std::string plus_one(std::string s) {
  for (auto i = s.size(); i-- > 0;) {
    if (s[i] != '9') {
      ++s[i];
      return s;
    }
    s[i] = '0';
  }
  return "1" + s;
}

// Texts no integer type may take: not decimal, or not only a number.
const std::vector<std::string> never_numbers = {
  "", " ", " 1", "1 ", "\t1", "1\n", "+1", "0x10", "0X10", "1x", "x1", "1.0", "1e3", "1,000", "1_000",
  "--1", "-", "abc", "٣", "\xef\xbc\x91", // fullwidth 1
};

template <class T>
void check_decimal_type() {
  using lim = std::numeric_limits<T>;
  CHECK(stenotype::parse_decimal<T>("0") == T{0});
  CHECK(stenotype::parse_decimal<T>("7") == T{7});
  CHECK(stenotype::parse_decimal<T>("010") == T{10}); // decimal, not octal
  CHECK(stenotype::parse_decimal<T>(max_of<T>()) == lim::max());
  CHECK_FALSE(stenotype::parse_decimal<T>(plus_one(max_of<T>())));
  CHECK_FALSE(stenotype::parse_decimal<T>("4294967296" + std::string(sizeof(T) > 4 ? "0000000000" : "")));
  CHECK_FALSE(stenotype::parse_decimal<T>("18446744073709551616"));
  CHECK_FALSE(stenotype::parse_decimal<T>("99999999999999999999999999999999"));
  if constexpr (lim::is_signed) {
    CHECK(stenotype::parse_decimal<T>(min_of<T>()) == lim::min());
    CHECK(stenotype::parse_decimal<T>("-1") == T{-1});
    CHECK(stenotype::parse_decimal<T>("-0") == T{0});
    CHECK_FALSE(stenotype::parse_decimal<T>("-" + plus_one(min_of<T>().substr(1))));
  } else {
    CHECK_FALSE(stenotype::parse_decimal<T>("-1"));
    CHECK_FALSE(stenotype::parse_decimal<T>("-0"));
  }
  for (const auto& s : never_numbers) {
    INFO("'" << s << "'");
    CHECK_FALSE(stenotype::parse_decimal<T>(s));
  }
}

} // namespace

TEST_CASE("parse_decimal takes decimal numbers within the type, and nothing else") {
  check_decimal_type<std::uint8_t>();
  check_decimal_type<std::int8_t>();
  check_decimal_type<std::uint16_t>();
  check_decimal_type<std::int16_t>();
  check_decimal_type<std::uint32_t>();
  check_decimal_type<std::int32_t>();
  check_decimal_type<std::uint64_t>();
  check_decimal_type<std::int64_t>();
  // 2^32 fits 64 bits: a uid-sized value must not be truncated on the way.
  CHECK(stenotype::parse_decimal<std::uint64_t>("4294967296") == 4294967296ull);
  CHECK_FALSE(stenotype::parse_decimal<std::uint32_t>("4294967296"));
  CHECK_FALSE(stenotype::parse_decimal<std::uint32_t>("4294967297"));
}

TEST_CASE("every numeric flag of stenotype refuses what is not a number of its type") {
  struct numeric_flag {
    const char* name;
    std::string type_min, type_max;
  };
  const std::string u32_max = max_of<std::uint32_t>(), i32_min = min_of<int>(), i32_max = max_of<int>();
  const std::vector<numeric_flag> flags = {
    {"--aiops", "0", u32_max},        {"--blocks", "0", u32_max},
    {"--blocksize_kb", "0", u32_max}, {"--blockage_sec", "0", u32_max},
    {"--fileage_sec", "0", u32_max},  {"--filesize_mb", "0", u32_max},
    {"--preallocate_file_mb", "0", u32_max}, {"--stats_blocks", "0", u32_max},
    {"--stats_sec", "0", u32_max},    {"--threads", i32_min, i32_max},
    {"--fanout_id", i32_min, i32_max}, {"--fanout_type", i32_min, i32_max},
    {"--index_nicelevel", i32_min, i32_max},
    {"--count", min_of<std::int64_t>(), max_of<std::int64_t>()},
    {"--metrics_port", "0", "65535"}, {"--control_port", "0", "65535"},
    {"--disk_free_percentage", "0", "100"},
    {"--max_directory_files", "0", max_of<std::uint64_t>()},
    {"--max_data_mb", "0", max_of<std::uint64_t>()},
  };
  for (const auto& f : flags) {
    const bool is_signed = f.type_min[0] == '-';
    std::vector<std::string> bad = never_numbers;
    bad.erase(bad.begin()); // "" is "missing a value", below
    bad.push_back(plus_one(f.type_max));
    bad.push_back("4294967296");
    bad.push_back("18446744073709551616");
    bad.push_back("18446744073709551617");
    bad.push_back("-" + plus_one(is_signed ? f.type_min.substr(1) : "0"));
    for (const auto& v : bad) {
      if (v == "4294967296" && f.type_max.size() > 10)
        continue; // fits --count
      INFO(f.name << "=" << v);
      auto r = parse({"--dir=/d", std::string(f.name) + "=" + v});
      REQUIRE(r.exit_code);
      CHECK(*r.exit_code == 2);
      CHECK(r.message == std::string(f.name) + ": expected a whole number from " + f.type_min + " to "
                           + f.type_max + ", got '" + stenotype::shown(v) + "'");
      CHECK(r.message.find('\n') == std::string::npos);
    }
    // No value at all: named, one line.
    auto empty = parse({"--dir=/d", std::string(f.name) + "="});
    REQUIRE(empty.exit_code);
    CHECK(*empty.exit_code == 2);
    CHECK(empty.message.find(f.name) != std::string::npos);
    CHECK(empty.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("numeric flags keep the exact value, up to their type's limits") {
  auto r = parse({"--dir=/d", "--stats_blocks=4294967295", "--stats_sec=4294967295",
                  "--count=9223372036854775807", "--metrics_port=65535", "--control_port=65535",
                  "--fanout_id=65535", "--fanout_type=65535", "--index_nicelevel=-20", "--blocks=0100",
                  "--aiops=100"});
  REQUIRE_FALSE(r.exit_code);
  CHECK(r.options.stats_blocks == 4294967295u);
  CHECK(r.options.stats_sec == 4294967295u);
  CHECK(r.options.count == std::numeric_limits<std::int64_t>::max());
  CHECK(r.metrics_port == 65535);
  CHECK(r.control_port == 65535);
  CHECK(r.options.fanout_id == 65535);
  CHECK(r.options.fanout_type == 65535);
  CHECK(r.options.index_nicelevel == -20);
  CHECK(r.options.blocks == 100); // decimal: CLI11 alone reads 0100 as octal 64
  CHECK(r.options.aiops == 100);
  auto space = parse({"--dir=/d", "--count", "-1", "--index_nicelevel", "19", "--threads", "256"});
  REQUIRE_FALSE(space.exit_code);
  CHECK(space.options.count == -1);
  CHECK(space.options.index_nicelevel == 19);
  CHECK(space.options.threads == 256);
  // Twice: the last one counts, and a bad last one is named by itself.
  CHECK(parse({"--dir=/d", "--blocks=300", "--blocks=400"}).options.blocks == 400);
  auto twice = parse({"--dir=/d", "--blocks", "16", "--blocks=-1"});
  REQUIRE(twice.exit_code);
  CHECK(twice.message == "--blocks: expected a whole number from 0 to 4294967295, got '-1'");
}

TEST_CASE("start-up checks bound every flag the kernel or the pipeline would overflow") {
  struct edge {
    std::vector<std::string> args;
    bool ok;
    const char* mentions;
  };
  const std::vector<edge> cases = {
    {{"--blockage_sec=65", "--fileage_sec=65"}, true, ""},
    {{"--blockage_sec=66", "--fileage_sec=66"}, false, "--blockage_sec must be in [1, 65]"},
    {{"--blockage_sec=4294968", "--fileage_sec=4294968"}, false, "--blockage_sec"}, // *1000 wraps 32 bits
    {{"--blockage_sec=0"}, false, "--blockage_sec"},
    {{"--fileage_sec=31536000"}, true, ""},
    {{"--fileage_sec=31536010"}, false, "--fileage_sec must be in [1, 31536000]"},
    {{"--fileage_sec=4294967290"}, false, "--fileage_sec"}, // 3x for the watchdog wraps 32 bits
    {{"--blocksize_kb=131072", "--aiops=16"}, true, ""},
    {{"--blocksize_kb=131076", "--aiops=16"}, false, "--blocksize_kb must be at most 131072"},
    {{"--blocksize_kb=4194304"}, false, "--blocksize_kb"}, // *1024 wraps 32 bits to 0
    {{"--blocksize_kb=0"}, false, "--blocksize_kb"},
    {{"--preallocate_file_mb=4096"}, true, ""},
    {{"--preallocate_file_mb=4097"}, false, "--preallocate_file_mb"},
    {{"--preallocate_file_mb=4294967295"}, false, "--preallocate_file_mb"}, // <<20 in 32 bits
    {{"--threads=257"}, false, "--threads"},
    {{"--threads=-1"}, false, "--threads"},
    {{"--index_nicelevel=20"}, false, "--index_nicelevel"},
    {{"--index_nicelevel=-21"}, false, "--index_nicelevel"},
    {{"--fanout_id=65536"}, false, "--fanout_id"},
    {{"--fanout_id=-1"}, false, "--fanout_id"},
    {{"--fanout_type=65536"}, false, "--fanout_type"},
    {{"--count=-1"}, true, ""},
    {{"--count=0"}, true, ""},
    {{"--count=-2"}, false, "--count"},
    {{"--count=-9223372036854775808"}, false, "--count"},
    {{"--aiops=0"}, false, "--aiops"},
    {{"--aiops=4294967295", "--blocks=4294967295"}, false, "--filesize_mb"}, // no overflow on the way
    {{"--blocks=4294967295"}, true, ""},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    args.insert(args.begin(), "--dir=/d");
    INFO(args.back());
    auto r = parse(args);
    if (c.ok) {
      CHECK_FALSE(r.exit_code);
      continue;
    }
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message.find(c.mentions) != std::string::npos);
    CHECK(r.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("iface: --iface must be a name the kernel could have given an interface") {
  for (const std::string ok : {"eth0", "lo", "a", "veth-123456789a", "enp0s31f6.100", "br_lan"}) {
    INFO(ok);
    CHECK_FALSE(parse({"--dir=/d", "--iface=" + ok}).exit_code);
  }
  // IFNAMSIZ is 16 with the NUL: 15 characters at most.
  const std::vector<std::string> bad_names = {"veth-123456789abc", "abcdefghijklmnop", std::string(100, 'x'),
                                             "a/b", "eth0:1", "eth 0", "eth0\n", ".", ".."};
  for (const auto& bad : bad_names) {
    INFO(bad);
    auto r = parse({"--dir=/d", "--iface=" + bad});
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message.find("--iface: an interface name has at most 15 characters") == 0);
    CHECK(r.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("filter: a --filter program the kernel would refuse is refused at start-up") {
  // Syntactically fine hex, but: no final return; a jump past the end; an
  // unknown opcode; a memory slot out of range; a division by constant zero.
  for (const std::string bad : {"0000000000000000", "0005000000000005" "0006000000000000",
                                "00ff000000000000" "0006000000000000", "0060000000000020" "0006000000000000",
                                "0034000000000000" "0006000000000000"}) {
    INFO(bad);
    auto r = parse({"--dir=/d", "--filter=" + bad});
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message.find("--filter: the kernel refuses") == 0);
    CHECK(r.message.find('\n') == std::string::npos);
  }
  // "ret #65535", and a bad hex length or digit.
  CHECK_FALSE(parse({"--dir=/d", "--filter=000600000000ffff"}).exit_code);
  for (const std::string bad : {"000600000000fff", "000600000000fffg"}) {
    auto r = parse({"--dir=/d", "--filter=" + bad});
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message.find("--filter") != std::string::npos);
  }
}

TEST_CASE("uid/gid: --uid/--gid take a number of uid_t/gid_t, never (uid_t)-1, or a name that exists") {
  const std::vector<std::pair<std::string, std::string>> ok = {
    {"--uid=0", ""}, {"--uid=65534", ""}, {"--uid=4294967294", ""}, {"--uid=nobody", ""}, {"--uid=root", ""},
    {"--gid=0", ""}, {"--gid=4294967294", ""}, {"--gid=root", ""}, {"--uid=010", "--gid=010"},
  };
  for (const auto& [a, b] : ok) {
    INFO(a << " " << b);
    std::vector<std::string> args = {"--dir=/d", a};
    if (!b.empty())
      args.push_back(b);
    CHECK_FALSE(parse(args).exit_code);
  }
  struct bad {
    std::string arg;
    const char* says;
  };
  const std::string number_rule = "expected a name or a whole number from 0 to 4294967294, got '";
  const std::vector<bad> cases = {
    {"--uid=4294967296", "--uid: "},  {"--uid=4294967297", "--uid: "}, {"--uid=4294967295", "--uid: "},
    {"--uid=-1", "--uid: "},          {"--uid=-4294967296", "--uid: "}, {"--uid=18446744073709551616", "--uid: "},
    {"--uid=99999999999999999999999", "--uid: "},
    {"--gid=4294967296", "--gid: "},  {"--gid=4294967295", "--gid: "}, {"--gid=-1", "--gid: "},
    {"--gid=18446744073709551617", "--gid: "},
  };
  for (const auto& c : cases) {
    INFO(c.arg);
    auto r = parse({"--dir=/d", c.arg});
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    const std::string value = c.arg.substr(6);
    CHECK(r.message == c.says + number_rule + value + "'");
  }
  for (const std::string name : {"--uid=no-such-user-here", "--uid=0x0", "--uid= 0", "--uid=+0", "--uid=1e3"}) {
    INFO(name);
    auto r = parse({"--dir=/d", name});
    REQUIRE(r.exit_code);
    CHECK(*r.exit_code == 2);
    CHECK(r.message == "--uid: no user '" + name.substr(6) + "'");
  }
  auto g = parse({"--dir=/d", "--gid=no-such-group-here"});
  REQUIRE(g.exit_code);
  CHECK(g.message == "--gid: no group 'no-such-group-here'");
}
