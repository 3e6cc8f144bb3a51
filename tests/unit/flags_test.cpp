#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "main/flags.hpp"

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
