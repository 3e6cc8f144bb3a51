// Surviving the disk: a full filesystem and a hung one (small loop-mounted
// ext4 images the tests make), and watchdogs that do not misfire on an idle
// link.
#include <catch2/catch.hpp>

#include <csignal>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <thread>

#include "index/index_file.hpp"
#include "support/loop_fs.hpp"
#include "support/netns.hpp"
#include "support/skip.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> args(const veth_lab& lab, const std::string& dir, std::vector<std::string> extra) {
  std::vector<std::string> a = {STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + dir,
                                "--blocks=64", "--blocksize_kb=64", "--aiops=8", "--blockage_sec=1",
                                "--filter=" + std::string(test_frame_filter), "-v"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::vector<frame> big_frames(std::uint32_t n) {
  std::vector<frame> f;
  for (std::uint32_t i = 0; i < n; ++i)
    f.push_back(make_test_frame(i, 1400));
  return f;
}

} // namespace

TEST_CASE("with retention off a full disk stops the capture with the file named, and finished files stay complete") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 24);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  // Retention (on by default) would delete the oldest files instead:
  // retention_test.cpp covers that; this is the capture without it.
  const std::vector<std::string> no_retention = {"--filesize_mb=4", "--disk_free_percentage=0",
                                                 "--max_directory_files=0"};
  background_process cap{args(lab, dir, no_retention)};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  lab.send(big_frames(40000), 200, 2000);
  const int rc = cap.wait(30);
  const std::string log = cap.stderr_text();
  INFO(log);
  CHECK(rc == 1);
  CHECK(log.find("No space left on device") != std::string::npos);
  CHECK(log.find(dir + "/") != std::string::npos); // names the file
  // Every file under its final name is complete and indexed.
  auto d = read_capture_dir(dir, 64 * 1024);
  CHECK(d.files.size() >= 3);
  CHECK(d.problems.empty());
  for (const auto& f : d.files) {
    const std::string idx = dir + "/IDX0/" + f.substr(f.find('/') + 1);
    INFO(idx);
    CHECK_NOTHROW(stenotype::index::index_reader{idx});
  }
  // A restart on the still-full disk recovers the hidden file and fails
  // again at once, without taking more space.
  background_process again{args(lab, dir, no_retention)};
  REQUIRE(again.wait_for_stderr("capturing on", 10));
  lab.send(big_frames(2000), 200, 2000);
  CHECK(again.wait(30) == 1);
  auto after = read_capture_dir(dir, 64 * 1024);
  CHECK(after.problems.empty());
  CHECK(after.files.size() >= d.files.size());
}

TEST_CASE("a nearly full disk keeps every block that fits: preallocation never costs a packet") {
  REQUIRE_ROOT();
  loop_fs fs{24};
  if (!fs.ok()) {
    WARN("skipped: cannot loop-mount a filesystem here");
    return;
  }
  // Leave 3.4 MB for the capture user: less than one preallocation step
  // (64 blocks of 64 KiB), more than the traffic.
  struct statvfs vfs {};
  REQUIRE(::statvfs(fs.path().c_str(), &vfs) == 0);
  const std::uint64_t avail = std::uint64_t{vfs.f_bavail} * vfs.f_frsize, keep = 3400 * 1000;
  REQUIRE(avail > keep);
  REQUIRE(std::system(("fallocate -l " + std::to_string(avail - keep) + " " + fs.path() + "/filler").c_str()) == 0);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  const auto frames = big_frames(1000); // 1.4 MB
  background_process cap{args(lab, dir, {"--filesize_mb=4"})};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  lab.send(frames, 200, 2000);
  const int rc = cap.stop(SIGTERM, 30);
  INFO(cap.stderr_text());
  CHECK(rc == 0);
  auto d = read_capture_dir(dir, 64 * 1024);
  CHECK(d.problems.empty());
  CHECK(d.hidden.empty());
  CHECK(d.packets.size() == frames.size());
  for (std::size_t i = 0; i < d.packets.size() && i < frames.size(); ++i)
    CHECK(d.packets[i].bytes == frames[i]);
}

TEST_CASE("a hung disk trips the watchdog, which names the stuck component and exits 1") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 64);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  background_process cap{args(lab, dir, {"--fileage_sec=1"})};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  REQUIRE(std::system(("fsfreeze --freeze " + fs.path()).c_str()) == 0);
  lab.send(big_frames(3000), 200, 2000);
  // Watchdog: max(3 x fileage, blockage + 10) = 11 s without an answer.
  const bool fired = cap.wait_for_stderr("watchdog: writer-0 made no progress", 40);
  std::system(("fsfreeze --unfreeze " + fs.path()).c_str()); // lets the exit complete
  INFO(cap.stderr_text());
  CHECK(fired);
  CHECK(cap.wait(20) == 1);
}

TEST_CASE("watchdogs do not fire on an idle link with short file ages") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  // stenotype aborted such a capture after 4 s.
  background_process cap{args(lab, tmp.path(), {"--fileage_sec=1"})};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  lab.send({make_test_frame(1, 100)});
  std::this_thread::sleep_for(14s);
  INFO(cap.stderr_text());
  CHECK(cap.stderr_text().find("watchdog") == std::string::npos);
  CHECK(cap.stop(SIGTERM, 20) == 0);
  CHECK(read_capture_dir(tmp.path(), 64 * 1024).packets.size() == 1);
}

TEST_CASE("a failing indexer is restarted: no packet lost, every file indexed, restarts in status") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string port = std::to_string(40000 + (getpid() + 7) % 20000);
  background_process cap{args(lab, tmp.path(), {"--fileage_sec=1", "--control_port=" + port})};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  std::vector<frame> frames;
  for (std::uint32_t i = 0; i < 900; ++i)
    frames.push_back(make_test_frame(i, 100 + i));
  const auto batch = [&](std::size_t from) {
    return std::vector<frame>(frames.begin() + static_cast<long>(from), frames.begin() + static_cast<long>(from + 300));
  };
  lab.send(batch(0));
  std::this_thread::sleep_for(3s); // that file is written and indexed
  // The capture runs as nobody: a read-only index directory makes the
  // indexer fail when it writes the next index.
  const std::string idx = tmp.path() + "/IDX0";
  REQUIRE(::chmod(idx.c_str(), 0555) == 0);
  lab.send(batch(300));
  const bool failed = cap.wait_for_stderr("indexer-0 failed", 15);
  ::chmod(idx.c_str(), 0755); // before the restart, 1 s later
  INFO(cap.stderr_text());
  REQUIRE(failed);
  REQUIRE(cap.wait_for_stderr("indexer-0 restarted (restart 1)", 10));
  lab.send(batch(600));
  std::this_thread::sleep_for(3s);
  int status = -1;
  const std::string tree = command_output("'" STENOTYPE_CTL_BINARY "' --port=" + port + " actors", &status);
  INFO(tree);
  CHECK(status == 0);
  CHECK(tree.find("indexer-0") != std::string::npos);
  const auto line = tree.substr(tree.find("indexer-0"), tree.find('\n', tree.find("indexer-0")) - tree.find("indexer-0"));
  CHECK(line.find("running") != std::string::npos);
  CHECK(line.find(" 1  ") != std::string::npos); // one restart
  CHECK(cap.stop(SIGTERM, 20) == 0); // a restarted indexer is not a failed capture
  INFO(cap.stderr_text());
  const auto dir = read_capture_dir(tmp.path(), 64 * 1024);
  CHECK(dir.problems.empty());
  CHECK(dir.hidden.empty());
  REQUIRE(dir.packets.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i)
    CHECK(dir.packets[i].bytes == frames[i]);
  // The file whose index failed was indexed from disk by the replacement.
  const auto bad = index_mismatches(tmp.path(), dir, 64 * 1024);
  for (const auto& b : bad)
    UNSCOPED_INFO(b);
  CHECK(bad.empty());
  CHECK(dir.files.size() >= 3);
}
