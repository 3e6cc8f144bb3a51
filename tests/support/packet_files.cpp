#include "support/packet_files.hpp"

#include <algorithm>
#include <dirent.h>
#include <fstream>
#include <iterator>

#include "stenotype/block_format.hpp"
#include "index/block_indexer.hpp"
#include "index/index_builder.hpp"
#include "index/file_index.hpp"
#include "index/index_file.hpp"
#include "index/index_format.hpp"
#include "io/layout.hpp"

namespace stenotype::test {

std::vector<std::string> list_dir(const std::string& dir) { return io::list_names(dir); }

capture_dir read_capture_dir(const std::string& dir, std::size_t block_size) {
  capture_dir out;
  for (const auto& sub : list_dir(dir)) {
    if (sub[0] == '.')
      out.hidden.push_back(sub);
    const bool pkt = sub.rfind("PKT", 0) == 0, idx = sub.rfind("IDX", 0) == 0;
    if (!pkt && !idx)
      continue;
    for (const auto& name : list_dir(dir + "/" + sub)) {
      if (name[0] == '.') {
        out.hidden.push_back(sub + "/" + name);
        continue;
      }
      if (!pkt)
        continue;
      const int thread = std::stoi(sub.substr(3));
      out.files.push_back(sub + "/" + name);
      std::ifstream in(dir + "/" + sub + "/" + name, std::ios::binary);
      std::vector<std::uint8_t> data{std::istreambuf_iterator<char>(in), {}};
      if (data.size() % block_size != 0)
        out.problems.push_back(sub + "/" + name + ": size " + std::to_string(data.size())
                               + " is not a multiple of the block size");
      for (std::size_t off = 0; off + block_size <= data.size(); off += block_size) {
        std::span<const std::uint8_t> block(data.data() + off, block_size);
        io::block_header bh;
        if (!io::read_block_header(block, bh)) {
          out.problems.push_back(sub + "/" + name + ": bad block at " + std::to_string(off));
          continue;
        }
        auto n = io::for_each_packet(block, [&](const io::packet_ref& p) {
          out.packets.push_back({thread, name, off + p.offset, p.sec, p.nsec, p.wire_len,
                                 std::vector<std::uint8_t>(p.frame, p.frame + p.caplen)});
        });
        if (n != bh.num_pkts)
          out.problems.push_back(sub + "/" + name + ": block at " + std::to_string(off)
                                 + " has damaged packets");
      }
    }
  }
  return out;
}

std::vector<std::string> index_mismatches(const std::string& dir, const capture_dir& cap,
                                          std::size_t block_size) {
  std::vector<std::string> bad;
  for (const auto& f : cap.files) {
    const auto slash = f.find('/');
    const std::string idx = dir + "/IDX" + f.substr(3, slash - 3) + "/" + f.substr(slash + 1);
    index::index_builder b{static_cast<std::uint32_t>(block_size)};
    index::index_packet_file(dir + "/" + f, b);
    std::vector<std::pair<std::string, std::string>> want, got;
    try {
      if (index::detect_index_format(idx) == index::index_format::stenographer) {
        // Keys and positions only: the format has no metadata records.
        b.for_each_entry([&](std::string_view k, std::string_view v) {
          std::vector<std::uint32_t> p;
          if (k[0] != 0 && index::decode_positions(v, p))
            want.emplace_back(k, std::string(reinterpret_cast<const char*>(p.data()), p.size() * 4));
        });
        index::file_index{idx}.for_each_key([&](std::string_view k, const std::vector<std::uint32_t>& p) {
          got.emplace_back(k, std::string(reinterpret_cast<const char*>(p.data()), p.size() * 4));
        });
      } else {
        b.for_each_entry([&](auto k, auto v) { want.emplace_back(k, v); });
        index::index_reader{idx}.for_each_entry([&](auto k, auto v) { got.emplace_back(k, v); });
      }
    } catch (const std::exception& e) {
      bad.push_back(idx + ": " + e.what());
      continue;
    }
    if (got != want)
      bad.push_back(idx + ": " + std::to_string(got.size()) + " entries, a rebuild has " +
                    std::to_string(want.size()));
  }
  return bad;
}

} // namespace stenotype::test
