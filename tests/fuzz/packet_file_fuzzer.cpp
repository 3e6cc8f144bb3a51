// libFuzzer target: a whole (damaged, hostile) packet file, with an optional
// index summary and candidate positions, through every file-walking path of
// the readers: stenocat's (packet_file_reader), stenoindex's
// (index_packet_file) and stenoread's (file_stream, with and without an
// index). Nothing may crash, hang or read outside what was read; and no
// packet may come from outside a checked block.
//
// Input: byte 0 = flags (bit 0: an index summary follows, bit 1: candidate
// positions follow, bits 2-3: the --blocksize_kb given for unmarked files:
// none, 4, 64, 1024); then, if bit 0, u32 block size, u32 blocks; if bit 1,
// u8 count and that many u32 positions; then u8 a bitmask of blocks to read
// whole; the rest is the packet file.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "index/block_indexer.hpp"
#include "io/packet_file_reader.hpp"
#include "io/pcap_writer.hpp"
#include "query/file_stream.hpp"
#include "query/query_parser.hpp"

using namespace stenotype;

namespace {

struct input {
  const std::uint8_t* p;
  std::size_t left;
  template <class T>
  T take() {
    T v{};
    const std::size_t n = std::min(sizeof v, left);
    std::memcpy(&v, p, n);
    p += n;
    left -= n;
    return v;
  }
};

const std::string& file_path() {
  static const std::string path = "/tmp/packet_file_fuzzer." + std::to_string(::getpid());
  return path;
}

void write_file(const std::uint8_t* data, std::size_t size) {
  const int fd = ::open(file_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    __builtin_trap();
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0)
      __builtin_trap();
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  ::close(fd);
}

// A packet handed out must lie inside the block it came from.
void check_inside(const io::packet_ref& p, std::size_t block_size) {
  if (p.offset < io::block_header_size || p.offset + std::size_t{p.caplen} > block_size)
    __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::FILE* sink = std::fopen("/dev/null", "wb");
  static io::pcap_writer out{sink};
  static const auto q = query::parse_query("udp or vlan 5 or (tcp and after 1970-01-01T00:00:01Z)", 0);
  input in{data, size};
  const auto flags = in.take<std::uint8_t>();
  index::file_summary summary;
  if (flags & 1) {
    summary.block_size = in.take<std::uint32_t>();
    summary.blocks = in.take<std::uint32_t>() % 4096;
  }
  query::selection sel;
  if (flags & 2) {
    const auto n = in.take<std::uint8_t>();
    for (int i = 0; i < n; ++i)
      sel.positions.push_back(in.take<std::uint32_t>() & ~7u); // positions are multiples of 8
    std::sort(sel.positions.begin(), sel.positions.end());
    sel.positions.erase(std::unique(sel.positions.begin(), sel.positions.end()), sel.positions.end());
  }
  const auto whole = in.take<std::uint8_t>();
  for (int b = 0; b < 8; ++b)
    sel.blocks.push_back((whole >> b) & 1);
  static const std::size_t flag_sizes[] = {0, 4096, 65536, 1 << 20};
  const std::size_t flag = flag_sizes[(flags >> 2) & 3];
  write_file(in.p, in.left);
  const io::problem_sink ignore = [](const io::problem& p) {
    if (p.text.find(file_path()) == std::string::npos)
      __builtin_trap(); // every warning names the file
  };

  try { // stenocat
    io::packet_file_reader reader{file_path(), flag};
    reader.for_each_packet(
      [&](const io::packet_ref& p, std::uint64_t at) {
        check_inside(p, reader.block_size());
        if (at % reader.block_size() != p.offset)
          __builtin_trap();
        out.write(p);
      },
      ignore);
    // stenoindex
    index::index_builder builder{static_cast<std::uint32_t>(reader.block_size())};
    index::index_packet_file(file_path(), builder);
  } catch (const std::runtime_error&) {
  }
  try { // stenoread: with the index's candidates, and without an index
    query::file_stream with{file_path(), (flags & 1) ? &summary : nullptr,
                            (flags & 1) ? std::optional<query::selection>(sel) : std::nullopt, q, ignore};
    while (with.next()) {
      check_inside(with.current(), with.layout().block_size);
      out.write(with.current());
    }
    query::file_stream without{file_path(), nullptr, std::nullopt, q, ignore};
    while (without.next())
      check_inside(without.current(), without.layout().block_size);
  } catch (const std::runtime_error&) {
  }
  ::unlink(file_path().c_str()); // (libFuzzer may end without running exit handlers)
  return 0;
}
