// Hostile inputs around the data directory (issue 12, classes 8 and the
// "pcaps with lying headers" of its test list): entries stenotype did not
// write, and captures whose record headers lie. Foreign entries are neither
// touched nor read; a lying pcap imports what is true and says what is not,
// with no signal death and no hang.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sys/stat.h>

#include "support/capture_checks.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream{path} << text; }

std::string read_text(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>(in), {}};
}

// The frames of the pcap stenoread writes for `query` over `dir`, and its status.
std::vector<pcap_record> query(const std::string& dir, const std::string& q, const std::string& out, int& rc,
                               std::string& err) {
  rc = run_process({STENOREAD_BINARY, "--dir=" + dir, q, "-w", out}, 30, &err);
  return read_pcap_records(out);
}

} // namespace

TEST_CASE("entries stenotype did not write are neither touched nor read, by capture, recovery or stenoread") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string dir = tmp.path() + "/data", other = tmp.path() + "/other";
  // A complete packet file of other frames, to plant under names that are not ours.
  write_raw_pcap(tmp.path() + "/other.pcap", pcap_records_of(mixed_frames(30)));
  REQUIRE(run_process({STENOIMPORT_BINARY, "--dir=" + other, tmp.path() + "/other.pcap"}, 30) == 0);
  const auto planted = list_dir(other + "/PKT0");
  REQUIRE(planted.size() == 1);
  REQUIRE(std::system(("mkdir -p " + dir + "/PKT0/.snapshot " + dir + "/IDX0").c_str()) == 0);
  write_text(dir + "/PKT0/.keep", "keep me");
  write_text(dir + "/IDX0/.keep", "keep me too");
  write_text(dir + "/PKT0/.snapshot/1", "a snapshot");
  write_text(dir + "/PKT0/.1x", "not a hidden file of ours");
  REQUIRE(std::system(("cp " + other + "/PKT0/" + planted[0] + " " + dir + "/PKT0/0" + planted[0]).c_str()) == 0);
  REQUIRE(std::system(("cp " + other + "/IDX0/" + planted[0] + " " + dir + "/IDX0/0" + planted[0]).c_str()) == 0);

  // Two runs: the second one's start-up recovery meets the foreign entries too.
  std::vector<frame> sent;
  for (int run = 0; run < 2; ++run) {
    std::vector<frame> frames;
    for (std::uint32_t i = 0; i < 200; ++i)
      frames.push_back(make_test_frame(run * 200 + i, mixed_frame_size(run * 200 + i)));
    background_process cap{capture_command(lab, dir)};
    wait_ready(cap);
    lab.send(frames);
    const int rc = cap.stop(SIGTERM, 20);
    INFO(cap.stderr_text());
    REQUIRE(rc == 0);
    sent.insert(sent.end(), frames.begin(), frames.end());
  }
  CHECK(read_text(dir + "/PKT0/.keep") == "keep me");
  CHECK(read_text(dir + "/IDX0/.keep") == "keep me too");
  CHECK(read_text(dir + "/PKT0/.snapshot/1") == "a snapshot");
  CHECK(read_text(dir + "/PKT0/.1x") == "not a hidden file of ours");
  struct stat st;
  CHECK(::stat((dir + "/PKT0/0" + planted[0]).c_str(), &st) == 0);

  // stenoread answers from our files alone: the planted "0<id>" is not file <id>.
  int rc = -1;
  std::string err;
  const auto got = query(dir, "after 1970-01-01T00:00:00Z", tmp.path() + "/all.pcap", rc, err);
  INFO(err);
  CHECK(rc == 0);
  REQUIRE(got.size() == sent.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i].bytes == sent[i]);
}

TEST_CASE("pcaps with lying headers: what is true is imported, what is not is one line, never a crash") {
  temp_dir tmp;
  const auto frames = mixed_frames(50);
  struct lie {
    const char* what;
    std::vector<raw_pcap_record> records;
    std::uint32_t magic = 0xa1b2c3d4, linktype = 1, snaplen = 65535;
    std::size_t truthful; // records before the lie, which must be imported exactly
    bool import_fails;    // stenoimport refuses the file as a whole (exit 1, nothing written)
  };
  auto honest = pcap_records_of(frames);
  std::vector<lie> lies;
  {
    auto r = honest;
    r[20].caplen = 70000; // more than the snap length and the bytes that follow
    lies.push_back({"caplen beyond the snap length", r, 0xa1b2c3d4, 1, 65535, 20, false});
  }
  {
    auto r = honest;
    r[20].caplen = 0x7fffffff;
    lies.push_back({"caplen of 2 GiB", r, 0xa1b2c3d4, 1, 65535, 20, false});
  }
  {
    auto r = honest;
    r.resize(31);
    r[30].bytes.resize(r[30].bytes.size() / 2); // the file ends inside a record
    lies.push_back({"cut inside a record", r, 0xa1b2c3d4, 1, 65535, 30, false});
  }
  {
    auto r = honest;
    r[20].caplen = r[20].len = 0;
    r[20].bytes.clear();
    lies.push_back({"an empty record", r, 0xa1b2c3d4, 1, 65535, 20, false});
  }
  lies.push_back({"not a pcap", honest, 0x12345678, 1, 65535, 0, true});
  lies.push_back({"not Ethernet", honest, 0xa1b2c3d4, 105, 65535, 0, true});
  lies.push_back({"snap length 0", honest, 0xa1b2c3d4, 1, 0, 0, false});

  for (std::size_t n = 0; n < lies.size(); ++n) {
    const auto& l = lies[n];
    INFO(l.what);
    const std::string pcap = tmp.path() + "/lie" + std::to_string(n) + ".pcap";
    const std::string dir = tmp.path() + "/d" + std::to_string(n);
    write_raw_pcap(pcap, l.records, l.magic, l.linktype, l.snaplen);
    std::string err;
    const int rc = run_process({STENOIMPORT_BINARY, "--dir=" + dir, pcap}, 30, &err);
    INFO("stenoimport: " << rc << " " << err);
    CHECK(rc >= 0);  // no signal death, no hang
    CHECK(rc <= 1);
    if (l.import_fails) {
      CHECK(rc == 1);
      CHECK(std::count(err.begin(), err.end(), '\n') == 1);
      CHECK(list_dir(dir + "/PKT0").empty());
      continue;
    }
    // Whatever was imported is exactly the truthful prefix (and maybe
    // records libpcap could still read after it), in order, byte for byte.
    int qrc = -1;
    std::string qerr;
    const auto got = query(dir, "after 1970-01-01T00:00:00Z", tmp.path() + "/out" + std::to_string(n) + ".pcap",
                           qrc, qerr);
    INFO("stenoread: " << qrc << " " << qerr);
    const bool status_ok = qrc == 0 || (l.truthful == 0 && qrc == 4);
    CHECK(status_ok);
    REQUIRE(got.size() >= l.truthful);
    for (std::size_t i = 0; i < l.truthful; ++i)
      CHECK(got[i].bytes == frames[i]);
    for (const auto& g : got) { // never a packet that was not in the capture file
      const bool in_file = std::any_of(l.records.begin(), l.records.end(),
                                       [&](const raw_pcap_record& r) { return r.bytes == g.bytes; });
      CHECK(in_file);
    }
    if (got.size() < l.records.size())
      CHECK(rc == 1); // something was left out: stenoimport said so
  }
}
