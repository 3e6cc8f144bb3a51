#include "support/capture_checks.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace stenotype::test {

std::vector<std::string> capture_command(const veth_lab& lab, const std::string& dir,
                                         const std::vector<std::string>& extra) {
  std::vector<std::string> a = {STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + dir,
                                "--blocks=64", "--blocksize_kb=" + std::to_string(test_block_kb),
                                "--aiops=8", "--blockage_sec=1",
                                "--filter=" + std::string(test_frame_filter), "-v"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

void wait_ready(background_process& p) {
  if (!p.wait_for_stderr("capturing on", 10))
    FAIL("capture did not start: " << p.stderr_text());
}

void expect_clean_stop(background_process& cap, int sig, const std::string& dir,
                       const std::vector<frame>& sent) {
  const int rc = cap.stop(sig, 20);
  INFO("signal " << sig << ": " << cap.stderr_text());
  REQUIRE(rc == 0);
  check_all_captured(read_capture_dir(dir, test_block_kb * 1024), sent);
}

std::size_t mixed_frame_size(std::uint32_t seq) { return 60 + (seq * 97) % 1455; }

std::vector<frame> mixed_frames(std::uint32_t n, std::uint32_t flows) {
  std::vector<frame> frames;
  for (std::uint32_t i = 0; i < n; ++i)
    frames.push_back(make_test_frame(i, mixed_frame_size(i), i % flows));
  return frames;
}

void check_all_captured(const capture_dir& cap, const std::vector<frame>& sent) {
  CHECK(cap.problems.empty());
  for (auto& p : cap.problems)
    UNSCOPED_INFO(p);
  CHECK(cap.hidden.empty());
  std::map<int, long> last_seq_per_thread;
  std::set<long> seen;
  for (const auto& p : cap.packets) {
    const long seq = test_frame_seq(p.bytes.data(), p.bytes.size());
    REQUIRE(seq >= 0); // the filter let only test frames in
    REQUIRE(static_cast<std::size_t>(seq) < sent.size());
    INFO("frame " << seq << " in " << p.file);
    CHECK(seen.insert(seq).second); // no duplicates
    CHECK(p.bytes == sent[static_cast<std::size_t>(seq)]);
    CHECK(p.wire_len == sent[static_cast<std::size_t>(seq)].size());
    auto [it, fresh] = last_seq_per_thread.emplace(p.thread, seq);
    if (!fresh) {
      CHECK(seq > it->second); // order kept within a thread
      it->second = seq;
    }
  }
  CHECK(seen.size() == sent.size());
}

} // namespace stenotype::test
