// store/pcap_import.hpp -- existing captures (pcap/pcapng, via libpcap) into
// indexed packet files, so old captures become queryable and test data sets
// need no NIC. The files are exactly what a capture writes: TPACKET_V3
// blocks laid out as the kernel does, written through the same block writer
// (hidden, synced, renamed), indexed by the same indexer code.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stenotype::store {

struct import_options {
  std::string dir;                    ///< data directory (DIR/PKT<n>, DIR/IDX<n>)
  int thread = 0;                     ///< which PKT<n>/IDX<n> to write
  std::uint32_t block_size = 1 << 20;
  std::uint64_t max_file_bytes = 4096ull << 20;
  std::uint64_t max_file_age_ns = 60ull * 1000000000u; ///< of packet time
  bool index = true;
};

struct import_stats {
  std::uint64_t packets = 0, truncated = 0, files = 0;
};

/// Imports the pcaps in order. Throws std::runtime_error (one line) for an
/// unreadable or non-Ethernet input, or when PKT<thread> already holds newer
/// files (their time order would break); files finished before the error
/// stay, complete and indexed. `warn` gets non-fatal problems (a pcap cut
/// short: its readable packets are kept).
import_stats import_pcaps(const std::vector<std::string>& pcaps, const import_options& opts,
                          const std::function<void(const std::string&)>& warn);

} // namespace stenotype::store
