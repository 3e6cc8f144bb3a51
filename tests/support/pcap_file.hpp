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

/// A pcap record as written, header fields free to lie about the bytes.
struct raw_pcap_record {
  std::uint32_t sec = 0, usec = 0, caplen = 0, len = 0;
  std::vector<std::uint8_t> bytes; // written as they are, whatever caplen says
};

/// Writes a microsecond pcap (magic `magic`, link type `linktype`) of `records`.
inline void write_raw_pcap(const std::string& path, const std::vector<raw_pcap_record>& records,
                           std::uint32_t magic = 0xa1b2c3d4, std::uint32_t linktype = 1,
                           std::uint32_t snaplen = 65535) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return;
  const std::uint32_t global[6] = {magic, 0x00040002, 0, 0, snaplen, linktype};
  std::fwrite(global, sizeof global, 1, f);
  for (const auto& r : records) {
    const std::uint32_t rec[4] = {r.sec, r.usec, r.caplen, r.len};
    std::fwrite(rec, sizeof rec, 1, f);
    std::fwrite(r.bytes.data(), 1, r.bytes.size(), f);
  }
  std::fclose(f);
}

/// Honest records of `frames`, one millisecond apart from `first_sec`.
inline std::vector<raw_pcap_record> pcap_records_of(const std::vector<std::vector<std::uint8_t>>& frames,
                                                    std::uint32_t first_sec = 1700000000) {
  std::vector<raw_pcap_record> out;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto n = static_cast<std::uint32_t>(frames[i].size());
    out.push_back({first_sec + static_cast<std::uint32_t>(i / 1000), static_cast<std::uint32_t>(i % 1000) * 1000,
                   n, n, frames[i]});
  }
  return out;
}

} // namespace stenotype::test
