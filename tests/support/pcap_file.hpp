// tests/support/pcap_file.hpp -- the frames of a pcap file a tool wrote.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace stenotype::test {

struct pcap_record {
  std::uint64_t ts_ns; // (nanosecond pcap; microseconds scaled)
  std::vector<std::uint8_t> bytes;
};

/// Every record of `path` (little-endian, as our tools write it); empty
/// when it is missing or has no pcap header.
inline std::vector<pcap_record> read_pcap_records(const std::string& path) {
  std::vector<pcap_record> out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return out;
  std::uint32_t hdr[6];
  if (std::fread(hdr, 4, 6, f) == 6 && (hdr[0] == 0xa1b23c4d || hdr[0] == 0xa1b2c3d4)) {
    const std::uint64_t scale = hdr[0] == 0xa1b23c4d ? 1 : 1000;
    std::uint32_t rec[4];
    while (std::fread(rec, 4, 4, f) == 4) {
      pcap_record r{std::uint64_t{rec[0]} * 1000000000u + rec[1] * scale, std::vector<std::uint8_t>(rec[2])};
      if (std::fread(r.bytes.data(), 1, rec[2], f) != rec[2])
        break;
      out.push_back(std::move(r));
    }
  }
  std::fclose(f);
  return out;
}

} // namespace stenotype::test
