// Fleet queries [fleet]: the sensor list, the merge order, batches packed
// and read back (a malformed one refused), and the session's credit: it
// sends no batch it was not granted, and the whole answer on credit.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "fleet/merge.hpp"
#include "fleet/sensor.hpp"
#include "fleet/sensor_list.hpp"
#include "fleet/session.hpp"
#include "query/query_parser.hpp"
#include "store/pcap_import.hpp"
#include "stenotype/error_category.hpp"
#include "support/frames.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

#include <fstream>

using namespace stenotype;
using namespace stenotype::test;

namespace {

// A data directory under `tmp` imported from `n` UDP frames (10.1.0.1:1000
// -> 10.1.0.2:2000) of `payload` bytes each; returns its path.
std::string import_udp(const temp_dir& tmp, std::uint32_t n, std::size_t payload) {
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::uint32_t i = 0; i < n; ++i) {
    frame_builder b;
    b.ipv4({10, 1, 0, 1}, {10, 1, 0, 2}, 17).ports(1000, 2000).payload(payload);
    frames.push_back(b.build());
  }
  write_raw_pcap(tmp.path() + "/in.pcap", pcap_records_of(frames));
  store::import_options opts;
  opts.dir = tmp.path() + "/data";
  store::import_pcaps({tmp.path() + "/in.pcap"}, opts, [](const std::string&) {});
  return opts.dir;
}

} // namespace

TEST_CASE("fleet: sensor lists: HOST:PORT, [IPv6]:PORT, files with comments, duplicates once, bad entries named", "[fleet]") {
  std::string error;
  auto a = fleet::parse_sensor("sensor-1.example:9443", error);
  REQUIRE(a);
  CHECK(a->host == "sensor-1.example");
  CHECK(a->port == 9443);
  CHECK(a->name == "sensor-1.example:9443");
  auto b = fleet::parse_sensor("[2001:db8::1]:9000", error);
  REQUIRE(b);
  CHECK(b->host == "2001:db8::1");
  CHECK(b->port == 9000);
  for (const char* bad : {"host", "host:", ":80", "host:0", "host:65536", "host:8x", "2001:db8::1:80", "[::1]80", "[::1"}) {
    INFO(bad);
    CHECK_FALSE(fleet::parse_sensor(bad, error));
    CHECK(!error.empty());
  }
  const auto list = fleet::parse_sensor_lines("# the lab\n  10.0.0.1:9443  \n\n10.0.0.2:9443 # rack 2\r\n", "f");
  REQUIRE(list.size() == 2);
  CHECK(list[1].name == "10.0.0.2:9443");
  CHECK_THROWS_WITH(fleet::parse_sensor_lines("10.0.0.1:9443\nnonsense\n", "f"), Catch::Contains("f: line 2:"));
  temp_dir tmp;
  std::ofstream(tmp.path() + "/sensors") << "10.0.0.2:9443\n10.0.0.3:9443\n";
  const auto all = fleet::sensor_list({"10.0.0.1:9443", "10.0.0.2:9443"}, tmp.path() + "/sensors");
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "10.0.0.1:9443");
  CHECK(all[2].name == "10.0.0.3:9443");
  CHECK_THROWS_WITH(fleet::sensor_list({}, tmp.path() + "/missing"), Catch::Contains("cannot read"));
}

TEST_CASE("fleet: the merge takes the earliest head, equal stamps in sensor order", "[fleet]") {
  // Three sources' stamps, each in order.
  const std::vector<std::vector<std::uint64_t>> sources = {{1, 5, 5, 9}, {2, 5, 8}, {0, 5, 10, 11}};
  fleet::time_merge merge;
  std::vector<std::size_t> at(sources.size(), 0);
  for (std::size_t i = 0; i < sources.size(); ++i)
    merge.push(i, sources[i][0]);
  std::vector<std::pair<std::uint64_t, std::size_t>> got;
  while (!merge.empty()) {
    const std::size_t s = merge.pop();
    got.emplace_back(sources[s][at[s]], s);
    if (++at[s] < sources[s].size())
      merge.push(s, sources[s][at[s]]);
  }
  const std::vector<std::pair<std::uint64_t, std::size_t>> want = {
    {0, 2}, {1, 0}, {2, 1}, {5, 0}, {5, 0}, {5, 1}, {5, 2}, {8, 1}, {9, 0}, {10, 2}, {11, 2}};
  CHECK(got == want);
}

TEST_CASE("fleet: batches carry packets whole (stamps, lengths, VLAN, thread), a malformed one is refused", "[fleet]") {
  fleet_batch b;
  std::vector<std::uint8_t> f1(61, 0xab), f2(1514, 0xcd);
  append_packet(b, {0, 10, 20, 61, 70, 0x10, 100, 0x8100, f1.data()}, 3);
  append_packet(b, {0, 11, 999999999, 1514, 1514, 0, 0, 0, f2.data()}, 0);
  CHECK(b.packets == 2);
  fleet_batch_reader r{b.records};
  io::packet_ref p;
  std::uint16_t thread = 9;
  REQUIRE(r.next(p, thread));
  CHECK((p.sec == 10 && p.nsec == 20 && p.caplen == 61 && p.wire_len == 70 && p.status == 0x10 && p.vlan_tci == 100
         && p.vlan_tpid == 0x8100 && thread == 3));
  CHECK(std::vector<std::uint8_t>(p.frame, p.frame + p.caplen) == f1);
  REQUIRE(r.next(p, thread));
  CHECK((p.sec == 11 && p.caplen == 1514 && thread == 0));
  CHECK(std::vector<std::uint8_t>(p.frame, p.frame + p.caplen) == f2);
  CHECK_FALSE(r.next(p, thread));
  CHECK_FALSE(r.malformed());
  for (std::size_t cut : {std::size_t{5}, fleet_record_header + 10, b.records.size() - 3}) {
    const std::string shorter = b.records.substr(0, cut);
    fleet_batch_reader bad{shorter};
    while (bad.next(p, thread)) {
    }
    CHECK(bad.malformed());
  }
}

TEST_CASE("fleet: a session sends only the batches it has credit for, and the whole answer on credit", "[fleet]") {
  temp_dir tmp;
  // ~3.5 MiB of packets: four batches.
  store::import_options opts;
  opts.dir = import_udp(tmp, 2500, 1400);

  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto running = std::make_shared<std::atomic<std::uint32_t>>(1);
  auto session = fleet::spawn_session(system, opts.dir, query::parse_query("udp", 0), true,
                                      caf::actor_cast<fleet_sink>(self.ptr()), running);
  std::uint64_t packets = 0;
  int batches = 0;
  bool last = false;
  auto take = [&](bool expect_one) {
    bool got = false;
    self->receive(
      [&](fleet_batch_atom, const fleet_batch& b) {
        got = true;
        ++batches;
        packets += b.packets;
        last = b.last;
        CHECK(b.records.size() < fleet_batch_bytes + 2000);
      },
      caf::after(std::chrono::milliseconds(expect_one ? 30000 : 500)) >> [] {});
    return got;
  };
  CHECK_FALSE(take(false)); // no credit, no batch
  self->send(session, fleet_pull_atom::value, std::uint32_t{1});
  CHECK(take(true));
  CHECK_FALSE(take(false)); // that credit is spent
  CHECK(batches == 1);
  while (!last) {
    self->send(session, fleet_pull_atom::value, std::uint32_t{1});
    REQUIRE(take(true));
  }
  CHECK(batches >= 4);
  CHECK(packets == 2500);
  CHECK(wait_until([&] { return running->load() == 0; }, std::chrono::seconds(30))); // the slot is given back
}

TEST_CASE("fleet: a sensor runs at most 8 queries at once, refuses the 9th and a bad query, and frees a slot at cancel", "[fleet]") {
  temp_dir tmp;
  store::import_options opts;
  opts.dir = import_udp(tmp, 50, 100);

  caf::actor_system_config cfg;
  add_error_category(cfg);
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  const auto sensor = fleet::spawn_sensor(system, {opts.dir, "unit", fleet_max_sessions});
  const auto sink = caf::actor_cast<fleet_sink>(self.ptr());
  auto open = [&](const std::string& q, caf::error& refused) {
    fleet_session s;
    self->request(sensor, std::chrono::seconds(30), fleet_open_atom::value, fleet_query{q, 0, true}, sink)
      .receive([&](const fleet_session& h) { s = h; }, [&](const caf::error& e) { refused = e; });
    return s;
  };
  self->request(sensor, std::chrono::seconds(30), fleet_hello_atom::value, fleet_protocol_version)
    .receive([&](std::uint32_t v, const std::string& name) { CHECK((v == fleet_protocol_version && name == "unit")); },
             [&](const caf::error&) { FAIL("no hello"); });
  std::vector<fleet_session> sessions;
  for (std::uint32_t i = 0; i < fleet_max_sessions; ++i) { // none has credit: all stay open
    caf::error e;
    sessions.push_back(open("udp", e));
    REQUIRE(sessions.back());
  }
  caf::error refused;
  CHECK_FALSE(open("udp", refused));
  CHECK(code_of(refused) == errc::in_use);
  refused = caf::error{};
  CHECK_FALSE(open("port", refused));
  CHECK(code_of(refused) == errc::bad_query);
  self->send(sessions[0], fleet_cancel_atom::value);
  CHECK(wait_until([&] {
    caf::error e;
    return static_cast<bool>(open("udp", e));
  }, std::chrono::seconds(30)));
}
