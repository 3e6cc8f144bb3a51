#include "support/packet_files.hpp"

#include <algorithm>
#include <dirent.h>
#include <fstream>
#include <iterator>

#include "stenotype/block_format.hpp"
#include "io/directory.hpp"

namespace stenotype::test {

std::vector<std::string> list_dir(const std::string& dir) { return io::list_directory(dir); }

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

} // namespace stenotype::test
