// index/block_indexer.hpp -- indexing one block / one whole packet file.
// The capture's indexer actor and the offline rebuild share this, so an index
// rebuilt from a packet file is identical to the one made during capture.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "index/index_builder.hpp"

namespace stenotype::index {

/// Indexes every packet of `block`, which sits at `block_offset` in its file.
/// Damaged packets end the block's walk (see stenotype/block_format.hpp). Returns
/// the number of packets indexed.
std::uint32_t index_block(index_builder& builder, std::span<const std::uint8_t> block,
                          std::uint64_t block_offset);

/// Indexes a whole packet file, in blocks of the builder's size (throws when
/// the file's block mark says otherwise). Throws std::runtime_error naming
/// the file if it cannot be read. Returns the number of damaged blocks skipped.
std::uint64_t index_packet_file(const std::string& path, index_builder& builder);

} // namespace stenotype::index
