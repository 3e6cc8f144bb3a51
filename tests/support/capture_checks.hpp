// tests/support/capture_checks.hpp -- test traffic and the check that every
// frame sent was captured exactly once, byte for byte, in order per thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/netns.hpp"
#include "support/packet_files.hpp"

namespace stenotype::test {

/// Block size of the test captures: small, so that a few frames fill blocks.
inline constexpr std::size_t test_block_kb = 64;

/// The real stenotype on the lab's capture side: 64 blocks of 64 KiB, 8 AIO
/// slots, 1 s block age, only test frames (the filter), -v; `extra` last.
std::vector<std::string> capture_command(const veth_lab& lab, const std::string& dir,
                                         const std::vector<std::string>& extra = {});

/// Waits until the capture says its rings are open; fails the test otherwise.
void wait_ready(background_process& p);

/// Stops the capture with `sig` and checks: exit 0, and every frame of
/// `sent` on disk in `dir` (check_all_captured).
void expect_clean_stop(background_process& cap, int sig, const std::string& dir,
                       const std::vector<frame>& sent);

/// Frame `seq`'s size: 60..1514 bytes, spread over the range.
std::size_t mixed_frame_size(std::uint32_t seq);

/// `n` test frames of mixed sizes over `flows` flows.
std::vector<frame> mixed_frames(std::uint32_t n, std::uint32_t flows = 1);

/// Catch2 checks: every sent frame captured exactly once, byte for byte, in
/// order within a thread; no damaged block, no hidden file left.
void check_all_captured(const capture_dir& cap, const std::vector<frame>& sent);

} // namespace stenotype::test
