// tests/support/capture_checks.hpp -- test traffic and the check that every
// frame sent was captured exactly once, byte for byte, in order per thread.
#pragma once

#include <cstdint>
#include <vector>

#include "support/netns.hpp"
#include "support/packet_files.hpp"

namespace stenotype::test {

/// Frame `seq`'s size: 60..1514 bytes, spread over the range.
std::size_t mixed_frame_size(std::uint32_t seq);

/// `n` test frames of mixed sizes over `flows` flows.
std::vector<frame> mixed_frames(std::uint32_t n, std::uint32_t flows = 1);

/// Catch2 checks: every sent frame captured exactly once, byte for byte, in
/// order within a thread; no damaged block, no hidden file left.
void check_all_captured(const capture_dir& cap, const std::vector<frame>& sent);

} // namespace stenotype::test
