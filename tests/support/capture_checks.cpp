#include "support/capture_checks.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace stenotype::test {

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
