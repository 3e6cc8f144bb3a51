// Fleet queries [fleet]: three stenotype sensors, each on a veth of its own
// (no traffic: their answers are their imported data directories), with
// --fleet_port and certificates made by Debian's stenokeys; stenoread
// --sensor asks them all:
//  - the answer equals the union of the three local stenoread answers
//    merged by time, byte for byte; pcapng as tshark reads it, one
//    interface per sensor and thread, named after them; the example CAF
//    application (docs/examples/fleet_query.cpp) gets the same packets;
//  - one sensor stopped: the others' packets, exit 3, a warning naming it;
//    none: exit 4; bad flags: exit 2;
//  - a client certificate of another CA is refused, the sensor goes on;
//  - a sensor killed mid-stream: a partial answer (exit 3), the others whole;
//  - a sensor of another protocol version, and one that never answers
//    (tests/support/fake_sensor.cpp): named with why, the others whole;
//  - a crashed fleet server is restarted by its supervisor, the capture
//    goes on; nothing of the fleet outlives stenotype.
// Skipped without root or without stenokeys/tshark.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <csignal>
#include <fstream>
#include <map>
#include <thread>
#include <tuple>
#include <unistd.h>

#include "support/frames.hpp"
#include "support/netns.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace stenotype;
using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

#define REQUIRE_FLEET_TOOLS()                                                                            \
  do {                                                                                                   \
    REQUIRE_ROOT();                                                                                      \
    for (const char* tool : {"/usr/sbin/stenokeys", "/usr/bin/tshark", "/usr/bin/editcap"})             \
      if (::access(tool, X_OK) != 0)                                                                     \
        SKIP_TEST(tool << " is missing: install stenographer and tshark (scripts/setup.sh)");           \
  } while (0)

const std::string all_packets = "after 2020-01-01T00:00:00Z";

// A CertPath made by Debian's stenokeys (its config names only the path).
std::string make_certs(const std::string& dir, const std::string& name) {
  const std::string certs = dir + "/" + name, config = dir + "/" + name + ".conf";
  std::ofstream(config) << R"({ "Threads": [ { "PacketsDirectory": "/nonexistent/p", "IndexDirectory": "/nonexistent/i" } ],
  "StenotypePath": "/bin/false", "Interface": "lo", "Flags": [], "Port": 1, "Host": "127.0.0.1", "CertPath": ")"
                        << certs << R"(" })";
  std::string err;
  if (run_process({"/usr/bin/env", "STENOGRAPHER_CONFIG=" + config, "/usr/sbin/stenokeys", "root", "root"}, 180, &err) != 0)
    throw std::runtime_error("stenokeys failed: " + err);
  return certs;
}

// Sensor `s`'s traffic: UDP/TCP frames 1 ms apart, starting at the same
// second on every sensor, so that the sensors' packets interleave and some
// stamps are equal across sensors (ties go in sensor order).
std::vector<raw_pcap_record> sensor_traffic(int s, std::size_t n, std::size_t extra) {
  std::vector<raw_pcap_record> out;
  for (std::size_t i = 0; i < n; ++i) {
    frame_builder b;
    const auto host = static_cast<std::uint8_t>(1 + i % 4);
    b.ipv4({10, 40, static_cast<std::uint8_t>(s), host}, {10, 41, 0, 1}, i % 3 == 0 ? 6 : 17);
    b.ports(static_cast<std::uint16_t>(40000 + i % 1000), i % 2 ? 443 : 53);
    b.payload(i * 37 % 400 + extra);
    frame f = b.build();
    const auto len = static_cast<std::uint32_t>(f.size());
    // Sensor 0 every ms, sensor 1 every 2 ms, sensor 2 every 3 ms.
    const std::uint64_t us = i * 1000 * (s + 1);
    out.push_back({1790000000u + static_cast<std::uint32_t>(us / 1000000), static_cast<std::uint32_t>(us % 1000000),
                   len, len, std::move(f)});
  }
  return out;
}

struct sensor {
  std::string dir;
  std::uint16_t port;
  std::unique_ptr<veth_lab> lab;
  std::unique_ptr<background_process> process;
  std::string name() const { return "127.0.0.1:" + std::to_string(port); }
};

// Imports `traffic` into DIR/PKT1 (thread 1; the capture writes PKT0) and
// hands it to the user the sensor runs as.
void import_into(const std::string& dir, const std::vector<raw_pcap_record>& traffic, const std::string& tmp) {
  const std::string pcap = tmp + "/import.pcap";
  write_raw_pcap(pcap, traffic);
  std::string err;
  REQUIRE(run_process({STENOIMPORT_BINARY, "--dir=" + dir, "--thread=1", "--fileage_sec=600", pcap}, 120, &err) == 0);
  REQUIRE(std::system(("chown -R nobody:nogroup " + dir).c_str()) == 0);
}

void start(sensor& s, const std::string& certs) {
  s.lab = std::make_unique<veth_lab>();
  s.process = std::make_unique<background_process>(std::vector<std::string>{
    STENOTYPE_BINARY, "--iface=" + s.lab->capture_if(), "--dir=" + s.dir, "--fleet_port=" + std::to_string(s.port),
    "--cert_path=" + certs, "--blocks=16", "--aiops=8", "-v"});
  if (!s.process->wait_for_stderr("fleet server: listening on", 30))
    throw std::runtime_error("the fleet server did not start: " + s.process->stderr_text());
}

struct fleet_lab {
  temp_dir tmp;
  std::string certs = make_certs(tmp.path(), "certs");
  std::vector<sensor> sensors;

  explicit fleet_lab(int port_offset, std::vector<std::size_t> sizes = {900, 700, 500}, std::size_t extra = 0) {
    const int base = 20000 + (::getpid() * 13 + port_offset * 101) % 20000;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      sensor s;
      s.dir = tmp.path() + "/data" + std::to_string(i);
      s.port = static_cast<std::uint16_t>(base + i);
      import_into(s.dir, sensor_traffic(static_cast<int>(i), sizes[i], extra), tmp.path());
      sensors.push_back(std::move(s));
    }
    for (auto& s : sensors)
      start(s, certs);
  }
  std::vector<std::string> stenoread(const std::vector<std::size_t>& which, const std::string& query,
                                     std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {STENOREAD_BINARY, "--cert_path=" + certs, "--timeout=20s"};
    for (auto i : which)
      argv.push_back("--sensor=" + sensors[i].name());
    argv.push_back(query);
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
};

// The local answer of each sensor, merged by time (ties in sensor order):
// what the fleet answer must be, byte for byte.
std::string expected_merge(const fleet_lab& lab, const std::vector<std::size_t>& which, const std::string& query) {
  std::vector<std::tuple<std::uint64_t, std::size_t, std::size_t, std::string>> all;
  std::string header;
  for (std::size_t k = 0; k < which.size(); ++k) {
    const std::string out = lab.tmp.path() + "/local" + std::to_string(which[k]) + ".pcap";
    REQUIRE(run_process({STENOREAD_BINARY, "--dir=" + lab.sensors[which[k]].dir, query, "-w", out}, 60) == 0);
    std::ifstream in(out, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() >= 24);
    header = bytes.substr(0, 24);
    std::size_t at = 24, n = 0;
    while (at + 16 <= bytes.size()) {
      std::uint32_t rec[4];
      std::memcpy(rec, bytes.data() + at, 16);
      all.emplace_back(std::uint64_t{rec[0]} * 1000000000u + rec[1], k, n++, bytes.substr(at, 16 + rec[2]));
      at += 16 + rec[2];
    }
  }
  std::sort(all.begin(), all.end());
  std::string merged = header;
  for (const auto& r : all)
    merged += std::get<3>(r);
  return merged;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace

TEST_CASE("fleet: three sensors answer the union of their local answers merged by time, pcap and pcapng", "[fleet]") {
  REQUIRE_FLEET_TOOLS();
  fleet_lab lab{1};
  const std::string out = lab.tmp.path() + "/fleet.pcap";
  for (const std::string& query : {all_packets, std::string("port 443"), std::string("host 10.40.1.2 or tcp")}) {
    INFO(query);
    std::string err;
    auto argv = lab.stenoread({0, 1, 2}, query, {"-w", out});
    REQUIRE(run_process(argv, 120, &err) == 0);
    INFO(err);
    const std::string want = expected_merge(lab, {0, 1, 2}, query);
    CHECK(want.size() > 24);
    CHECK(file_text(out) == want);
  }

  // pcapng: the same packets (tshark converts it back to pcap), one
  // interface per sensor and thread, named after them.
  const std::string ng = lab.tmp.path() + "/fleet.pcapng", back = lab.tmp.path() + "/back.pcap";
  REQUIRE(run_process(lab.stenoread({0, 1, 2}, all_packets, {"--format=pcapng", "-w", ng}), 120) == 0);
  REQUIRE(run_process({"/usr/bin/editcap", "-F", "nsecpcap", ng, back}, 60) == 0);
  std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> got, want;
  for (auto& r : read_pcap_records(back))
    got.emplace_back(r.ts_ns, std::move(r.bytes));
  const std::string merged = expected_merge(lab, {0, 1, 2}, all_packets);
  const std::string merged_path = lab.tmp.path() + "/merged.pcap";
  std::ofstream(merged_path, std::ios::binary) << merged;
  for (auto& r : read_pcap_records(merged_path))
    want.emplace_back(r.ts_ns, std::move(r.bytes));
  CHECK(got.size() == 2100);
  CHECK(got == want);
  const std::string names = command_output("tshark -r " + ng + " -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c");
  INFO(names);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(names.find(lab.sensors[i].name() + "/thread-1") != std::string::npos);

  // The example CAF application, through the typed interface.
  const std::string said = command_output(std::string(FLEET_QUERY_BINARY) + " 127.0.0.1 " + std::to_string(lab.sensors[1].port)
                                          + " " + lab.certs + " '" + all_packets + "'");
  INFO(said);
  CHECK(said.find("speaks fleet protocol 1") != std::string::npos);
  CHECK(said.find("thread 1: 700 packets") != std::string::npos);
  CHECK(said.find("total: 700 packets") != std::string::npos);
}

TEST_CASE("fleet: a stopped sensor gives a partial answer with a warning naming it, none answering is exit 4", "[fleet]") {
  REQUIRE_FLEET_TOOLS();
  fleet_lab lab{2};
  REQUIRE(lab.sensors[1].process->stop(SIGTERM, 30) == 0);
  const std::string out = lab.tmp.path() + "/fleet.pcap";
  std::string err;
  CHECK(run_process(lab.stenoread({0, 1, 2}, all_packets, {"-w", out}), 120, &err) == 3);
  INFO(err);
  CHECK(err.find("warning: sensor " + lab.sensors[1].name() + ": down") != std::string::npos);
  CHECK(err.find("sensor " + lab.sensors[0].name() + ":") == std::string::npos);
  CHECK(file_text(out) == expected_merge(lab, {0, 2}, all_packets)); // the others' packets, whole

  for (std::size_t i : {0, 2})
    REQUIRE(lab.sensors[i].process->stop(SIGTERM, 30) == 0);
  err.clear();
  CHECK(run_process(lab.stenoread({0, 1, 2}, all_packets, {"-w", out}), 120, &err) == 4);
  CHECK(err.find("no sensor answered") != std::string::npos);

  // Bad command lines: exit 2.
  CHECK(run_process({STENOREAD_BINARY, "--sensor=127.0.0.1", all_packets}, 30) == 2);
  CHECK(run_process({STENOREAD_BINARY, "--sensor=127.0.0.1:1", "--dir=/tmp", all_packets}, 30) == 2);
  CHECK(run_process({STENOREAD_BINARY, "--sensor=127.0.0.1:1", "--timeout=soon", all_packets}, 30) == 2);
}

TEST_CASE("fleet: a client certificate of another CA is refused, and the sensor goes on answering", "[fleet]") {
  REQUIRE_FLEET_TOOLS();
  fleet_lab lab{3, {300}};
  const std::string other = make_certs(lab.tmp.path(), "other");
  std::string err;
  std::vector<std::string> argv = {STENOREAD_BINARY, "--cert_path=" + other, "--sensor=" + lab.sensors[0].name(),
                                   all_packets, "-w", "/dev/null"};
  CHECK(run_process(argv, 60, &err) == 4);
  INFO(err);
  CHECK(err.find("sensor " + lab.sensors[0].name() + ": certificate refused") != std::string::npos);
  const std::string out = lab.tmp.path() + "/fleet.pcap";
  CHECK(run_process(lab.stenoread({0}, all_packets, {"-w", out}), 60) == 0);
  CHECK(file_text(out) == expected_merge(lab, {0}, all_packets));
}

TEST_CASE("fleet: a sensor killed mid-stream gives a partial answer, the others' packets whole", "[fleet]") {
  REQUIRE_FLEET_TOOLS();
  // Sensor 0: ~60 MB, far more than credit and pipes hold; the client's
  // reader waits 3 s before reading, and sensor 0 dies meanwhile.
  fleet_lab lab{4, {60000, 300}, 600};
  const std::string out = lab.tmp.path() + "/fleet.pcap", err = lab.tmp.path() + "/err", rc = lab.tmp.path() + "/rc";
  std::string cmd;
  for (const auto& a : lab.stenoread({0, 1}, all_packets))
    cmd += "'" + a + "' ";
  std::thread client([&] {
    command_output("bash -c \"" + cmd + " 2>" + err + " | (sleep 3; cat > " + out + "); echo \\${PIPESTATUS[0]} > " + rc + "\"");
  });
  std::this_thread::sleep_for(1500ms);
  ::kill(lab.sensors[0].process->pid(), SIGKILL); // its fleet server follows (PR_SET_PDEATHSIG)
  client.join();
  const std::string said = file_text(err);
  INFO(said);
  CHECK(file_text(rc) == "3\n");
  CHECK(said.find("sensor " + lab.sensors[0].name() + ": connection lost mid-stream") != std::string::npos);
  std::size_t from0 = 0, from1 = 0;
  for (const auto& r : read_pcap_records(out))
    (r.bytes[28] == 0 ? from0 : from1) += 1; // IPv4 source 10.40.<sensor>.x
  CHECK(from0 > 0);
  CHECK(from0 < 60000);
  CHECK(from1 == 300);
}

TEST_CASE("fleet: a sensor of another protocol version and one that never answers are named with why, the others answer", "[fleet]") {
  REQUIRE_FLEET_TOOLS();
  fleet_lab lab{5, {300}};
  const int other = lab.sensors[0].port + 1, silent = lab.sensors[0].port + 2;
  background_process versioned({FAKE_SENSOR_BINARY, std::to_string(other), lab.certs, "version"});
  background_process mute({FAKE_SENSOR_BINARY, std::to_string(silent), lab.certs, "silent"});
  REQUIRE(versioned.wait_for_stderr("listening", 30));
  REQUIRE(mute.wait_for_stderr("listening", 30));
  const std::string out = lab.tmp.path() + "/fleet.pcap";
  std::string err;
  CHECK(run_process({STENOREAD_BINARY, "--cert_path=" + lab.certs, "--timeout=2s", "--sensor=" + lab.sensors[0].name(),
                     "--sensor=127.0.0.1:" + std::to_string(other), "--sensor=127.0.0.1:" + std::to_string(silent),
                     all_packets, "-w", out}, 60, &err) == 3);
  INFO(err);
  CHECK(err.find("sensor 127.0.0.1:" + std::to_string(other) + ": incompatible version") != std::string::npos);
  CHECK(err.find("sensor 127.0.0.1:" + std::to_string(silent) + ": timeout") != std::string::npos);
  CHECK(file_text(out) == expected_merge(lab, {0}, all_packets));
}

namespace {

// The pids of `pid`'s children (Linux /proc/PID/task/PID/children).
std::vector<int> children_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<int> out;
  for (int c; in >> c;)
    out.push_back(c);
  return out;
}

} // namespace

TEST_CASE("fleet: a crashed fleet server is restarted by its supervisor, the capture goes on", "[fleet]") {
  REQUIRE_FLEET_TOOLS();
  fleet_lab lab{6, {300}};
  auto& s = lab.sensors[0];
  const auto supervisors = children_of(s.process->pid());
  REQUIRE(supervisors.size() == 1);
  const auto servers = children_of(supervisors[0]);
  REQUIRE(servers.size() == 1);
  ::kill(servers[0], SIGKILL);
  CHECK(s.process->wait_for_stderr("fleet server: ended (killed by signal 9); restarting it", 30));
  const std::string out = lab.tmp.path() + "/fleet.pcap";
  CHECK(wait_until([&] { return run_process(lab.stenoread({0}, all_packets, {"-w", out}), 60) == 0; }, 30s));
  CHECK(file_text(out) == expected_merge(lab, {0}, all_packets));
  const auto now = children_of(supervisors[0]);
  CHECK((now.size() == 1 && now[0] != servers[0]));
  CHECK(::kill(s.process->pid(), 0) == 0); // the capture is still running
  CHECK(s.process->stop(SIGTERM, 30) == 0);
  // The supervisor and its server end with stenotype (PR_SET_PDEATHSIG).
  for (int pid : {supervisors[0], now.empty() ? supervisors[0] : now[0]})
    CHECK(wait_until([&] { return ::kill(pid, 0) != 0; }, 30s));
}
