// kill -9 at random moments under load, then a restart: every plain-named
// packet file is complete and readable, every one has an index equal to one
// rebuilt from it, nothing stays hidden, and every frame found is a frame
// that was sent, once.
#include <catch2/catch.hpp>

#include <csignal>
#include <random>
#include <set>
#include <thread>

#include "index/block_indexer.hpp"
#include "index/index_file.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> args(const veth_lab& lab, const std::string& dir) {
  return {STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + dir, "--blocks=64",
          "--blocksize_kb=64", "--aiops=8", "--blockage_sec=1", "--filesize_mb=2",
          "--filter=" + std::string(test_frame_filter), "-v"};
}

void wait_ready(background_process& p) { p.wait_for_stderr("capturing on", 10); }

} // namespace

TEST_CASE("kill -9 at random points under load loses no completed file and recovery makes the rest whole") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  std::mt19937 rng(2026);
  std::vector<frame> frames;
  for (std::uint32_t i = 0; i < 20000; ++i)
    frames.push_back(make_test_frame(i, 200 + (i * 37) % 1300));
  int rounds_with_leftovers = 0;
  for (int round = 0; round < 6; ++round) {
    INFO("round " << round);
    background_process cap{args(lab, tmp.path())};
    wait_ready(cap);
    std::thread sender([&] { lab.send(frames, 64, 100); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 1500));
    cap.stop(SIGKILL, 10);
    sender.join();
    if (!read_capture_dir(tmp.path(), 64 * 1024).hidden.empty())
      ++rounds_with_leftovers;
    // Restart: recovery runs before capturing; stop at once.
    background_process again{args(lab, tmp.path())};
    wait_ready(again);
    REQUIRE(again.stop(SIGTERM, 20) == 0);
    const auto dir = read_capture_dir(tmp.path(), 64 * 1024);
    CHECK(dir.hidden.empty());
    CHECK(dir.problems.empty());
    for (const auto& p : dir.problems)
      UNSCOPED_INFO(p);
    std::set<std::pair<long, std::string>> seen;
    for (const auto& p : dir.packets) {
      const long seq = test_frame_seq(p.bytes.data(), p.bytes.size());
      REQUIRE(seq >= 0);
      CHECK(p.bytes == frames[static_cast<std::size_t>(seq)]);
    }
    const auto bad = index_mismatches(tmp.path(), dir, 64 * 1024);
    for (const auto& b : bad)
      UNSCOPED_INFO(b);
    CHECK(bad.empty());
  }
  // The kills must actually have hit open files, or this tested nothing.
  CHECK(rounds_with_leftovers > 0);
}
