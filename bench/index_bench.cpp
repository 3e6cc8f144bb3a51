// bench/index_bench.cpp -- the indexer against a straightforward baseline.
//
// Feeds pre-built 1 MiB TPACKET_V3 blocks (the bench traffic, looped) through
// (a) our index_builder and (b) the baseline stenotype used: a
// std::map<key, std::vector<uint32_t>>, both with the same packet parser, and
// writes both as RocksDB SSTs (the baseline with stenographer's encoding, 4
// bytes per position, snappy as leveldb's default). Reports packets/s on one
// core, index bytes per packet on disk and indexer memory per packet at the
// end of the file. Usage: index_bench [--blocks N] [--mix 64|1514|imix] [--unique FRAMES] [--dir D] [--baseline 0] [--reps N] [--part_blocks N]
// (--unique: distinct frames before the traffic loops; 12000 as in the spec;
// --baseline 0: ours only, for profiling; --reps: ours best of N;
// --part_blocks N: also ours with a part every N blocks, as the indexer writes them)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <sys/resource.h>
#include <time.h>
#include <vector>

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include "bench/traffic.hpp"
#include "index/block_indexer.hpp"
#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "io/block_builder.hpp"
#include "stenotype/block_format.hpp"

using namespace stenotype;
// CPU time of this thread, not wall time: on a shared machine the wall
// clock counts other processes and the disk's syncs (each SST is synced);
// the capture's cost is CPU.
struct clock_type {
  using time_point = double;
  static double now() {
    timespec ts;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};

namespace {

constexpr std::size_t block_size = 1 << 20;

std::uint64_t file_size(const std::string& p) {
  std::ifstream f(p, std::ios::binary | std::ios::ate);
  return static_cast<std::uint64_t>(f.tellg());
}

// The baseline: what stenotype does, with our parser.
struct baseline_index {
  std::map<std::string, std::vector<std::uint32_t>> map;

  void add_key(const index::index_key& k, std::uint32_t pos) {
    auto& v = map[std::string(k.view())];
    if (v.empty() || v.back() != pos)
      v.push_back(pos);
  }
  void index_block(std::span<const std::uint8_t> block, std::uint64_t offset) {
    index::packet_attributes a;
    io::for_each_packet(block, [&](const io::packet_ref& p) {
      index::parse_packet(p.frame, p.caplen, -1, a);
      const auto pos = static_cast<std::uint32_t>(offset + p.offset);
      for (int i = 0; i < a.vlan_count; ++i)
        add_key(index::vlan_key(a.vlans[i]), pos);
      if (a.ip_version == 4) {
        add_key(index::ipv4_key(a.src_ip), pos);
        add_key(index::ipv4_key(a.dst_ip), pos);
      }
      if (a.has_protocol)
        add_key(index::protocol_key(a.protocol), pos);
      if (a.has_ports) {
        add_key(index::port_key(a.src_port), pos);
        add_key(index::port_key(a.dst_port), pos);
      }
    });
  }
  // std::map node (~48 B) + key string (32 B SSO) + vector header and capacity.
  std::size_t memory_bytes() const {
    std::size_t m = 0;
    for (const auto& [k, v] : map)
      m += 48 + 32 + 24 + v.capacity() * 4;
    return m;
  }
  void write(const std::string& path) const {
    rocksdb::Options o;
    o.compression = rocksdb::kSnappyCompression;
    rocksdb::SstFileWriter w{rocksdb::EnvOptions{}, o};
    if (!w.Open(path).ok())
      throw std::runtime_error("cannot write " + path);
    std::string value;
    for (const auto& [k, v] : map) {
      value.clear();
      for (auto pos : v) {
        const std::uint8_t be[4] = {static_cast<std::uint8_t>(pos >> 24), static_cast<std::uint8_t>(pos >> 16),
                                    static_cast<std::uint8_t>(pos >> 8), static_cast<std::uint8_t>(pos)};
        value.append(reinterpret_cast<const char*>(be), 4);
      }
      w.Put(k, value);
    }
    w.Finish();
  }
};

double seconds_since(clock_type::time_point t0) {
  return clock_type::now() - t0;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t blocks = 1024, unique = 12000;
  std::string mix_name = "64", dir = "/tmp";
  bool with_baseline = true;
  int reps = 1;
  std::size_t part_blocks = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--blocks"))
      blocks = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--mix"))
      mix_name = argv[i + 1];
    else if (!std::strcmp(argv[i], "--unique"))
      unique = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir"))
      dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--part_blocks"))
      part_blocks = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps"))
      reps = std::max(1, std::stoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--baseline"))
      with_baseline = std::strcmp(argv[i + 1], "0") != 0;
  }
  const auto mix = mix_name == "1514" ? bench::frame_mix::large1514
                   : mix_name == "imix" ? bench::frame_mix::imix
                                        : bench::frame_mix::small64;
  if (blocks > 4096) {
    std::fprintf(stderr, "index_bench: at most 4096 blocks (a 4 GiB file)\n");
    return 2;
  }
  const auto distinct = bench::build_blocks(mix, 64, unique, block_size);
  std::uint64_t packets = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    io::block_header bh{};
    io::read_block_header(distinct[b % distinct.size()], bh);
    packets += bh.num_pkts;
  }

  // Ours (best of --reps runs: the machine is shared and noisy).
  index::index_builder ours{block_size};
  double ours_index_s = 1e9, ours_write_s = 1e9, ours_emit_s = 1e9;
  std::size_t ours_value_bytes = 0;
  std::size_t ours_mem = 0;
  const std::string ours_path = dir + "/index_bench_ours.sst";
  auto t0 = clock_type::now();
  for (int r = 0; r < reps; ++r) {
    ours.reset();
    t0 = clock_type::now();
    for (std::size_t b = 0; b < blocks; ++b)
      index::index_block(ours, distinct[b % distinct.size()], b * block_size);
    ours_index_s = std::min(ours_index_s, seconds_since(t0));
    ours_mem = ours.memory_bytes();
    t0 = clock_type::now();
    std::size_t bytes = 0;
    ours.for_each_entry([&](std::string_view k, std::string_view v) { bytes += k.size() + v.size(); });
    ours_emit_s = std::min(ours_emit_s, seconds_since(t0));
    ours_value_bytes = bytes;
    t0 = clock_type::now();
    index::write_index_file(ours, ours_path);
    ours_write_s = std::min(ours_write_s, seconds_since(t0));
  }

  // Ours with parts (fresh queries: the indexer writes one about once a
  // second) against ours without, the same file indexed and its full index
  // written as the indexer does, runs alternating (the machine is shared):
  // the best of each is compared. A fresh builder each run, so both pay the
  // same first-touch page faults.
  double parts_total_s = 1e9, parts_final_s = 1e9, parts_writing_s = 1e9, no_parts_total_s = 1e9;
  std::size_t parts_written = 0;
  for (int r = 0; part_blocks > 0 && r < 2 * reps; ++r) {
    const bool parts_on = r % 2 == 1;
    index::index_builder b{block_size};
    if (parts_on)
      b.enable_parts();
    std::vector<std::string> parts;
    double writing = 0;
    t0 = clock_type::now();
    for (std::size_t k = 0; k < blocks; ++k) {
      index::index_block(b, distinct[k % distinct.size()], k * block_size);
      if (parts_on && (k + 1) % part_blocks == 0 && k + 1 < blocks) {
        const auto tp = clock_type::now();
        parts.push_back(dir + "/index_bench_part" + std::to_string(parts.size()));
        index::write_index_entries([&](const index::entry_fn& put) { b.for_each_part_entry(put); },
                                   parts.back(), index::table_use::transient);
        b.start_part();
        writing += seconds_since(tp);
      }
    }
    const auto t1 = clock_type::now();
    index::write_index_file(b, ours_path);
    const double total = seconds_since(t0);
    if (!parts_on) {
      no_parts_total_s = std::min(no_parts_total_s, total);
      continue;
    }
    parts_final_s = std::min(parts_final_s, seconds_since(t1));
    parts_total_s = std::min(parts_total_s, total);
    parts_written = parts.size();
    parts_writing_s = std::min(parts_writing_s, writing);
    for (const auto& part : parts)
      std::remove(part.c_str());
  }

  // Baseline.
  baseline_index base;
  t0 = clock_type::now();
  for (std::size_t b = 0; with_baseline && b < blocks; ++b)
    base.index_block(distinct[b % distinct.size()], b * block_size);
  const double base_index_s = seconds_since(t0);
  const std::size_t base_mem = base.memory_bytes();
  const std::string base_path = dir + "/index_bench_baseline.sst";
  t0 = clock_type::now();
  base.write(base_path);
  const double base_write_s = seconds_since(t0);

  const auto p = static_cast<double>(packets);
  const double ours_pps = p / (ours_index_s + ours_write_s), base_pps = p / (base_index_s + base_write_s);
  std::printf("| indexer | packets | Mpkt per CPU s (incl. SST write) | index B/packet on disk | memory B/packet |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  std::printf("| stenotype (this) | %llu | %.2f | %.2f | %.2f |\n", static_cast<unsigned long long>(packets),
              ours_pps / 1e6, static_cast<double>(file_size(ours_path)) / p, static_cast<double>(ours_mem) / p);
  std::printf("| baseline std::map<key, vector<u32>> | %llu | %.2f | %.2f | %.2f |\n",
              static_cast<unsigned long long>(packets), base_pps / 1e6,
              static_cast<double>(file_size(base_path)) / p, static_cast<double>(base_mem) / p);
  std::printf("\nmix=%s unique frames=%zu blocks=%zu (%.1f GiB of packet file), keys=%zu; ours: index %.2f s + write %.2f s; "
              "baseline: index %.2f s + write %.2f s; speed-up %.1fx\n",
              mix_name.c_str(), unique, blocks, static_cast<double>(blocks) / 1024, ours.keys(), ours_index_s,
              ours_write_s, base_index_s, base_write_s, ours_pps / base_pps);
  std::printf("ours: entries made in %.3f s (of the write; %.2f B/packet before compression); "
              "memory at the end of the file %.2f B/packet\n",
              ours_emit_s, static_cast<double>(ours_value_bytes) / p, static_cast<double>(ours_mem) / p);
  if (part_blocks > 0)
    std::printf("ours with a part every %zu blocks (%zu parts): %.3f s in all, of which writing the parts %.3f s "
                "and the full index at the end %.3f s; without parts %.3f s: parts cost %+.1f%%\n",
                part_blocks, parts_written, parts_total_s, parts_writing_s, parts_final_s, no_parts_total_s,
                100.0 * (parts_total_s / no_parts_total_s - 1));
  std::remove(ours_path.c_str());
  std::remove(base_path.c_str());
  return 0;
}
