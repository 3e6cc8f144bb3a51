// End-to-end captures: the real `stenotype` binary on a veth pair, frames
// sent from a network namespace, packet files read back and compared byte for
// byte with what was sent.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <fstream>
#include <csignal>
#include <map>
#include <set>
#include <sys/stat.h>
#include <thread>

#include "stenotype/block_format.hpp"
#include "support/capture_checks.hpp"
#include "support/frames.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block_kb = test_block_kb;

// Captures here need no index (index_test.cpp checks those).
std::vector<std::string> capture_args(const veth_lab& lab, const std::string& dir,
                                      std::vector<std::string> extra) {
  extra.insert(extra.begin(), "--no_index");
  return capture_command(lab, dir, extra);
}

} // namespace

TEST_CASE("capture with --count keeps every frame byte for byte and exits 0") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto frames = mixed_frames(3000);
  background_process cap{capture_args(lab, tmp.path(), {"--count=3000"})};
  wait_ready(cap);
  lab.send(frames);
  const int rc = cap.wait(30);
  INFO(cap.stderr_text());
  REQUIRE(rc == 0);
  auto dir = read_capture_dir(tmp.path(), block_kb * 1024);
  REQUIRE(dir.files.size() >= 1);
  check_all_captured(dir, frames);
  // Files are private to the capture user: nobody, after the privilege drop.
  struct stat st;
  REQUIRE(stat((tmp.path() + "/" + dir.files[0]).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_uid == 65534);
  REQUIRE(stat((tmp.path() + "/PKT0").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(stenotype::test::list_dir(tmp.path()) == std::vector<std::string>{"IDX0", "PKT0"});
}

TEST_CASE("files rotate by size, each renamed and a whole number of blocks") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  std::vector<frame> frames;
  for (std::uint32_t i = 0; i < 6000; ++i)
    frames.push_back(make_test_frame(i, 1514));
  // 2 MiB files of 64 KiB blocks: 32 blocks, ~1300 full-size frames each.
  background_process cap{capture_args(lab, tmp.path(), {"--count=6000", "--filesize_mb=2"})};
  wait_ready(cap);
  // 9 MB against a 4 MiB ring: paced, so that a busy machine's veth and
  // ring keep every frame (a lost one would leave --count unreached).
  lab.send(frames, 16, 1000);
  const int rc = cap.wait(30);
  INFO(cap.stderr_text());
  REQUIRE(rc == 0);
  auto dir = read_capture_dir(tmp.path(), block_kb * 1024);
  CHECK(dir.files.size() >= 4);
  for (const auto& f : dir.files) {
    struct stat st;
    REQUIRE(stat((tmp.path() + "/" + f).c_str(), &st) == 0);
    CHECK(st.st_size <= 2 << 20);
    CHECK(st.st_size % static_cast<off_t>(block_kb * 1024) == 0);
  }
  check_all_captured(dir, frames);
}

TEST_CASE("files rotate by age, also while the link is idle") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  background_process cap{capture_args(lab, tmp.path(), {"--fileage_sec=1"})};
  wait_ready(cap);
  std::vector<frame> all;
  for (std::uint32_t batch = 0; batch < 12; ++batch) {
    std::vector<frame> frames;
    for (std::uint32_t i = 0; i < 10; ++i)
      frames.push_back(make_test_frame(batch * 10 + i, mixed_frame_size(batch * 10 + i)));
    lab.send(frames);
    all.insert(all.end(), frames.begin(), frames.end());
    std::this_thread::sleep_for(300ms);
  }
  // Idle now: within blockage (1 s) + age (1 s) + slack, the last file must
  // be complete without any further packet arriving.
  std::this_thread::sleep_for(3500ms);
  auto before_stop = read_capture_dir(tmp.path(), block_kb * 1024);
  CHECK(before_stop.hidden.empty());
  REQUIRE(cap.stop(SIGTERM, 20) == 0);
  auto dir = read_capture_dir(tmp.path(), block_kb * 1024);
  CHECK(dir.files.size() >= 2);
  CHECK(dir.files.size() == before_stop.files.size()); // nothing was left for the stop
  // No file holds more than its age (1 s) plus one block's age (1 s) of traffic.
  std::map<std::string, std::pair<double, double>> span;
  for (const auto& p : dir.packets) {
    const double t = p.sec + p.nsec / 1e9;
    auto [it, fresh] = span.emplace(p.file, std::make_pair(t, t));
    it->second.first = std::min(it->second.first, t);
    it->second.second = std::max(it->second.second, t);
  }
  for (const auto& [file, range] : span) {
    INFO(file);
    CHECK(range.second - range.first < 2.2);
  }
  check_all_captured(dir, all);
}

TEST_CASE("SIGTERM mid-capture leaves every captured frame in renamed files") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto frames = mixed_frames(2000);
  background_process cap{capture_args(lab, tmp.path(), {"--blockage_sec=2", "--fileage_sec=60"})};
  wait_ready(cap);
  lab.send(frames);
  // The last block is still open in the kernel: stopping must wait for it.
  expect_clean_stop(cap, SIGTERM, tmp.path(), frames);
}

// Goal 4 of issue 18: the stop takes the block the kernel is still filling
// (io::ring::stop_intake) instead of waiting --blockage_sec for the kernel
// to retire it. How long the stop takes is measured in bench/idle_stop.sh;
// here: nothing sent before the signal is lost, and the taken block is
// closed as the kernel closes one (the last packet ends the chain).
TEST_CASE("frames sent just before SIGINT are on disk after exit, at the default --blockage_sec") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto frames = mixed_frames(300);
  background_process cap{capture_args(lab, tmp.path(), {"--blockage_sec=10", "--fileage_sec=60"})};
  wait_ready(cap);
  lab.send(frames);
  expect_clean_stop(cap, SIGINT, tmp.path(), frames);
  // Every block's chain of next offsets ends at its last packet (0), as
  // Google's tools, which follow the chain, expect.
  for (const auto& name : read_capture_dir(tmp.path(), block_kb * 1024).files) {
    std::ifstream in{tmp.path() + "/" + name, std::ios::binary};
    std::vector<std::uint8_t> block(block_kb * 1024);
    while (in.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(block.size()))) {
      stenotype::io::block_header bh{};
      REQUIRE(stenotype::io::read_block_header(block, bh));
      std::size_t off = bh.offset_to_first_pkt;
      for (std::uint32_t i = 0; i < bh.num_pkts; ++i) {
        REQUIRE(off + sizeof(tpacket3_hdr) <= block.size());
        tpacket3_hdr hdr;
        std::memcpy(&hdr, block.data() + off, sizeof hdr);
        INFO(name << " packet " << i << " of " << bh.num_pkts);
        if (i + 1 == bh.num_pkts)
          CHECK(hdr.tp_next_offset == 0);
        else
          REQUIRE(hdr.tp_next_offset > 0);
        off += hdr.tp_next_offset;
      }
    }
  }
}

TEST_CASE("two threads spread packets over two rings and lose none") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto frames = mixed_frames(4000, 8);
  background_process cap{capture_args(lab, tmp.path(), {"--threads=2"})};
  wait_ready(cap);
  lab.send(frames);
  std::this_thread::sleep_for(200ms);
  const int rc = cap.stop(SIGINT, 20);
  INFO(cap.stderr_text());
  REQUIRE(rc == 0);
  auto dir = read_capture_dir(tmp.path(), block_kb * 1024);
  std::set<int> threads;
  for (const auto& p : dir.packets)
    threads.insert(p.thread);
  CHECK(threads == std::set<int>{0, 1});
  check_all_captured(dir, frames);
}

TEST_CASE("an idle capture stops promptly on SIGTERM and writes no files") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  background_process cap{capture_args(lab, tmp.path(), {"--blockage_sec=10", "--fileage_sec=60"})};
  wait_ready(cap);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(cap.stop(SIGTERM, 10) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  auto dir = read_capture_dir(tmp.path(), block_kb * 1024);
  CHECK(dir.files.empty());
  CHECK(dir.hidden.empty());
}

TEST_CASE("bad command lines exit 2 with one line and create nothing") {
  temp_dir tmp;
  const std::string dir = tmp.path() + "/new";
  const std::vector<std::vector<std::string>> bad = {
    {"--dir=" + dir, "--aiops=abc"},
    {"--dir=" + dir, "--filesize_mb=1"},
    {"--dir=" + dir, "--fileage_sec=7", "--blockage_sec=2"},
    {"--dir=" + dir, "--bogus"},
    {"--dir=" + dir, "--filter=port port"},
    {"--iface=lo"},
  };
  for (auto args : bad) {
    args.insert(args.begin(), STENOTYPE_BINARY);
    std::string err;
    INFO(args[1] << " " << args.back());
    CHECK(run_process(args, 10, &err) == 2);
    CHECK(err.rfind("stenotype: error: ", 0) == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    struct stat st;
    CHECK(stat(dir.c_str(), &st) != 0);
  }
}

TEST_CASE("a missing interface is a one-line error and exit 1") {
  REQUIRE_ROOT();
  temp_dir tmp;
  std::string err;
  CHECK(run_process({STENOTYPE_BINARY, "--iface=nosuchif0", "--dir=" + tmp.path(),
                     "--blocks=16", "--aiops=8", "--seccomp=none"},
                    10, &err) == 1);
  CHECK(err.find("nosuchif0") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("an interface that disappears fails the capture cleanly, keeping what was written") {
  REQUIRE_ROOT();
  temp_dir tmp;
  auto lab = std::make_unique<veth_lab>();
  const auto frames = mixed_frames(500);
  background_process cap{capture_args(*lab, tmp.path(), {})};
  wait_ready(cap);
  lab->send(frames);
  std::this_thread::sleep_for(1500ms); // blockage_sec=1: the block is handed over
  lab.reset();                         // deletes the veth pair under the capture
  const int rc = cap.wait(20);
  INFO(cap.stderr_text());
  CHECK(rc == 1);
  CHECK(cap.stderr_text().find("disappeared") != std::string::npos);
  check_all_captured(read_capture_dir(tmp.path(), block_kb * 1024), frames);
}

TEST_CASE("started as root, the capture runs as nobody and cannot get root back") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string dir = tmp.path() + "/new/deeper"; // created, then handed over
  background_process cap{capture_args(lab, dir, {})};
  wait_ready(cap);
  std::ifstream status("/proc/" + std::to_string(cap.pid()) + "/status");
  std::string line, uid, gid, groups, nnp;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid = line;
    if (line.rfind("Gid:", 0) == 0) gid = line;
    if (line.rfind("Groups:", 0) == 0) groups = line;
    if (line.rfind("NoNewPrivs:", 0) == 0) nnp = line;
  }
  CHECK(uid == "Uid:\t65534\t65534\t65534\t65534");
  CHECK(gid == "Gid:\t65534\t65534\t65534\t65534");
  CHECK(groups.find_first_of("0123456789") == std::string::npos); // no supplementary groups
  CHECK(nnp == "NoNewPrivs:\t1");
  struct stat st;
  REQUIRE(stat(dir.c_str(), &st) == 0);
  CHECK(st.st_uid == 65534);
  lab.send({make_test_frame(1, 100)});
  std::this_thread::sleep_for(1500ms);
  REQUIRE(cap.stop(SIGTERM, 20) == 0);
  CHECK(read_capture_dir(dir, block_kb * 1024).packets.size() == 1);
}

TEST_CASE("a --dir the unprivileged user cannot reach is refused before capturing") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string dir = tmp.path() + "/private";
  ::mkdir(dir.c_str(), 0700); // root's, closed
  std::string err;
  auto args = capture_args(lab, dir, {});
  CHECK(run_process(args, 20, &err) == 1);
  CHECK(err.find("not accessible to user nobody") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("metrics: Prometheus counters of a running capture, scraped with curl") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string port = std::to_string(20000 + getpid() % 20000);
  background_process cap{capture_args(lab, tmp.path(), {"--metrics_port=" + port})};
  wait_ready(cap);
  lab.send(mixed_frames(700));
  std::this_thread::sleep_for(2500ms); // blocks retire after 1 s; metrics refresh every second
  int status = -1;
  const std::string body = command_output("curl -sf http://127.0.0.1:" + port + "/metrics", &status);
  CHECK(status == 0);
  INFO(body.substr(0, 3000));
  const std::string labels = "{iface=\"" + lab.capture_if() + "\",thread=\"0\"}";
  CHECK(body.find("stenotype_packets_total" + labels + " 700") != std::string::npos);
  CHECK(body.find("stenotype_drops_total" + labels + " 0") != std::string::npos);
  CHECK(body.find("# TYPE stenotype_packets_total counter") != std::string::npos);
  CHECK(body.find("stenotype_aio_in_flight" + labels) != std::string::npos);
  CHECK(body.find("stenotype_aio_writes_total" + labels) != std::string::npos);
  CHECK(body.find("stenotype_aio_writes_total" + labels + " 0\n") == std::string::npos); // blocks were written
  CHECK(body.find("stenotype_aio_write_seconds_total" + labels) != std::string::npos);
  CHECK(cap.stop(SIGTERM, 20) == 0);
}

TEST_CASE("stenotype-ctl reads a running capture's status over CAF and stops it") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string port = std::to_string(40000 + getpid() % 20000);
  background_process cap{capture_args(lab, tmp.path(), {"--control_port=" + port})};
  wait_ready(cap);
  lab.send(mixed_frames(300));
  std::this_thread::sleep_for(1500ms);
  int status = -1;
  const std::string json = command_output("'" STENOTYPE_CTL_BINARY "' --port=" + port + " json", &status);
  CHECK(status == 0);
  INFO(json);
  CHECK(json.find("\"reader-0\":{") != std::string::npos);
  CHECK(json.find("\"packets\":300,") != std::string::npos);
  CHECK(json.find("\"kernel-drops\":0,") != std::string::npos);
  CHECK(json.find("\"writer-0\":{") != std::string::npos);
  CHECK(json.find("\"current-file-bytes\":") != std::string::npos); // a file is open: traffic came
  CHECK(json.find("\"aio-mean-latency-us\":") != std::string::npos);
  CHECK(json.find("\"actors\":{\"reader-0\":{\"id\":") != std::string::npos); // --no_index: no indexer
  CHECK(json.find("\"state\":\"running\"") != std::string::npos);
  CHECK(run_process({STENOTYPE_CTL_BINARY, "--port=" + port, "stats"}, 10) == 0);
  const std::string tree = command_output("'" STENOTYPE_CTL_BINARY "' --port=" + port + " actors", &status);
  CHECK(status == 0);
  INFO(tree);
  for (const char* actor : {"reader-0 ", "writer-0 "})
    CHECK(tree.find(actor) != std::string::npos);
  CHECK(tree.find("indexer-0") == std::string::npos);
  CHECK(run_process({STENOTYPE_CTL_BINARY, "--port=" + port, "stop"}, 10) == 0);
  CHECK(cap.wait(20) == 0);
  check_all_captured(read_capture_dir(tmp.path(), block_kb * 1024), mixed_frames(300));
  std::string err;
  CHECK(run_process({STENOTYPE_CTL_BINARY, "--port=" + port, "stats"}, 10, &err) == 1);
  CHECK(err.find("no capture at") != std::string::npos);
}

TEST_CASE("an application embeds the pipeline, analyses lent blocks and sees file events") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  std::string out_path = tmp.path() + "/out.txt";
  const std::string cmd = "'" TOP_TALKERS_BINARY "' " + lab.capture_if() + " " + tmp.path() + "/data 4 > " + out_path;
  std::thread app([&] { CHECK(std::system(cmd.c_str()) == 0); });
  std::this_thread::sleep_for(1000ms);
  // Non-IP test frames, then two IPv4 senders the analysis actor must count
  // exactly: every block is lent to it (16 leases are plenty at this rate).
  auto frames = mixed_frames(200);
  std::uint64_t big_bytes = 0, small_bytes = 0;
  for (std::uint32_t i = 0; i < 30; ++i) {
    frames.push_back(frame_builder{}.ipv4({10, 9, 8, 7}, {192, 168, 0, 1}, 17).ports(5000, 53).payload(100 + i).build());
    big_bytes += frames.back().size();
  }
  for (std::uint32_t i = 0; i < 20; ++i) {
    frames.push_back(frame_builder{}.ipv4({10, 1, 1, 1}, {192, 168, 0, 1}, 6).ports(80, 4000).payload(20).build());
    small_bytes += frames.back().size();
  }
  lab.send(frames);
  app.join();
  std::ifstream in(out_path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  INFO(text);
  CHECK(text.find("event: thread 0 wrote " + tmp.path() + "/data/PKT0/") != std::string::npos);
  CHECK(text.find("packets, 1 files\n") != std::string::npos);
  CHECK(text.find(" 250 packets, ") != std::string::npos);
  CHECK(text.find("talker 10.9.8.7 packets 30 bytes " + std::to_string(big_bytes) + "\n") != std::string::npos);
  CHECK(text.find("talker 10.1.1.1 packets 20 bytes " + std::to_string(small_bytes) + "\n") != std::string::npos);
  // The status the application asked for mid-capture shows the subscription.
  CHECK(text.find("\"subscribers\" = 1") != std::string::npos);
  CHECK(text.find("\"subscriber-blocks-skipped\" = 0") != std::string::npos);
  CHECK(text.find("capture ended with 0") != std::string::npos);
  // Lending blocks took nothing from the files: every frame, in order.
  const auto cap = read_capture_dir(tmp.path() + "/data", block_kb * 1024);
  CHECK(cap.problems.empty());
  REQUIRE(cap.packets.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i)
    CHECK(cap.packets[i].bytes == frames[i]);
}
