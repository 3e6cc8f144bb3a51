// Hostile conditions around a live capture (issue 12, classes 1 and 7): a
// second writer on the same directory, signals at any moment, the interface
// deleted while a block is still being filled, a nearly full disk. In every
// case each frame the kernel handed over must end up on disk, byte for byte.
#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "io/layout.hpp"
#include "support/capture_checks.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block_kb = test_block_kb;


// Names and sizes of everything under the data directory: what "touch
// nothing" is checked against.
std::vector<std::string> snapshot(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& sub : list_dir(dir))
    for (const auto& name : list_dir(dir + "/" + sub)) {
      struct stat st {};
      ::stat((dir + "/" + sub + "/" + name).c_str(), &st);
      out.push_back(sub + "/" + name + " " + std::to_string(st.st_size));
    }
  return out;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }


} // namespace

TEST_CASE("a second capture on a --dir in use refuses with one line and touches nothing") {
  REQUIRE_ROOT();
  veth_lab lab, other;
  temp_dir tmp;
  const auto frames = mixed_frames(1500);
  // Long blocks and files: the first capture keeps a hidden file open.
  background_process first{capture_command(lab, tmp.path(), {"--blockage_sec=3", "--fileage_sec=60"})};
  wait_ready(first);
  lab.send(frames);
  // Past --blockage_sec: every block is written into the hidden file, whose
  // size (preallocated ahead) no longer changes.
  std::this_thread::sleep_for(4s);
  const auto before = snapshot(tmp.path());
  // PKT0/.<id>, held open by the first capture, and only its fresh-packet
  // companions beside it (durable extent, index parts: io/layout.hpp).
  const auto not_companion = [](const std::string& entry) {
    const auto slash = entry.find('/'), space = entry.rfind(' ');
    return !stenotype::io::parse_companion_name(entry.substr(slash + 1, space - slash - 1));
  };
  REQUIRE(std::count_if(before.begin(), before.end(), not_companion) == 1);
  for (const auto& extra : std::vector<std::vector<std::string>>{{}, {"--threads=2"}, {"--no_index"}}) {
    auto args = capture_command(other, tmp.path(), extra);
    std::string err;
    INFO(err);
    const int rc = run_process(args, 20, &err);
    CHECK(rc == 1);
    CHECK(count_lines(err) == 1);
    CHECK(err.find("in use") != std::string::npos);
    CHECK(err.find("pid " + std::to_string(first.pid())) != std::string::npos);
    CHECK(snapshot(tmp.path()) == before);
  }
  // Neither stenoimport nor stenoindex may write into it either.
  temp_dir elsewhere;
  write_raw_pcap(elsewhere.path() + "/in.pcap", pcap_records_of(mixed_frames(20)));
  REQUIRE(run_process({STENOIMPORT_BINARY, "--dir=" + elsewhere.path() + "/data", elsewhere.path() + "/in.pcap"}, 20) == 0);
  const auto imported = list_dir(elsewhere.path() + "/data/PKT0");
  REQUIRE(imported.size() == 1);
  const std::vector<std::vector<std::string>> writers = {
    {STENOIMPORT_BINARY, "--dir=" + tmp.path(), elsewhere.path() + "/in.pcap"},
    {STENOINDEX_BINARY, "--force", "--output=" + tmp.path() + "/IDX0/1",
     elsewhere.path() + "/data/PKT0/" + imported[0]}};
  for (const auto& args : writers) {
    std::string err;
    INFO(args[0] << ": " << err);
    CHECK(run_process(args, 20, &err) == 1);
    CHECK(err.find("in use") != std::string::npos);
    CHECK(snapshot(tmp.path()) == before);
  }
  REQUIRE(first.stop(SIGTERM, 20) == 0);
  check_all_captured(read_capture_dir(tmp.path(), block_kb * 1024), frames);
}

TEST_CASE("the directory lock dies with its capture: kill -9, then a new capture recovers and runs") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  {
    background_process first{capture_command(lab, tmp.path(), {"--blockage_sec=3"})};
    wait_ready(first);
    lab.send(mixed_frames(300));
    CHECK(first.stop(SIGKILL, 10) == -SIGKILL);
  }
  background_process second{capture_command(lab, tmp.path())};
  wait_ready(second);
  CHECK(second.stop(SIGTERM, 20) == 0);
  INFO(second.stderr_text());
  CHECK(second.stderr_text().find("in use") == std::string::npos);
}

TEST_CASE("SIGHUP, SIGPWR and SIGXCPU flush and stop like SIGTERM") {
  REQUIRE_ROOT();
  for (int sig : {SIGHUP, SIGPWR, SIGXCPU}) {
    INFO("signal " << sig);
    veth_lab lab;
    temp_dir tmp;
    const auto frames = mixed_frames(800);
    background_process cap{capture_command(lab, tmp.path(), {"--blockage_sec=2"})};
    wait_ready(cap);
    lab.send(frames);
    expect_clean_stop(cap, sig, tmp.path(), frames);
  }
}

TEST_CASE("stray signals at random moments cost no packet") {
  REQUIRE_ROOT();
  const int stray[] = {SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGXFSZ};
  std::mt19937 rng{12345};
  veth_lab lab;
  for (int round = 0; round < 4; ++round) {
    temp_dir tmp;
    const auto frames = mixed_frames(1200);
    background_process cap{capture_command(lab, tmp.path())};
    wait_ready(cap);
    std::thread sender([&] { lab.send(frames, 32, 400); });
    for (int i = 0; i < 6; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
      ::kill(cap.pid(), stray[rng() % std::size(stray)]);
    }
    sender.join();
    const int rc = cap.stop(SIGTERM, 20);
    INFO("round " << round << ": " << cap.stderr_text());
    CHECK(rc == 0);
    check_all_captured(read_capture_dir(tmp.path(), block_kb * 1024), frames);
  }
}

TEST_CASE("logging into a pipe nobody reads (stenotype -v | head) costs no packet") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const auto frames = mixed_frames(1000);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto args = capture_command(lab, tmp.path(), {"--stats_sec=1", "-v"});
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  // Read until the capture is up, then go away like `head` does.
  std::string seen;
  char buf[512];
  for (ssize_t n; seen.find("capturing on") == std::string::npos && (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    seen.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  lab.send(frames);
  std::this_thread::sleep_for(1500ms); // stats lines are logged into the closed pipe
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(100ms);
  INFO(seen);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  check_all_captured(read_capture_dir(tmp.path(), block_kb * 1024), frames);
}

TEST_CASE("an interface deleted while the kernel still fills a block loses none of its packets") {
  REQUIRE_ROOT();
  for (const int blockage : {1, 3}) {
    temp_dir tmp;
    auto lab = std::make_unique<veth_lab>();
    const auto frames = mixed_frames(300); // well under one block: all in the open one
    background_process cap{capture_command(*lab, tmp.path(), {"--blockage_sec=" + std::to_string(blockage)})};
    wait_ready(cap);
    lab->send(frames);
    lab.reset(); // at once: the block is still the kernel's
    const int rc = cap.wait(30);
    INFO(cap.stderr_text());
    CHECK(rc == 1);
    CHECK(cap.stderr_text().find("disappeared") != std::string::npos);
    check_all_captured(read_capture_dir(tmp.path(), block_kb * 1024), frames);
  }
}
