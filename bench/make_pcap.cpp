// bench/make_pcap.cpp -- writes the benchmark traffic (bench/traffic.hpp) as
// a nanosecond pcap of about SIZE_MB (or exactly N frames: "Nf"), packets
// spread evenly over an hour from 2026-11-27T10:00:00Z.
//   make_pcap OUT.pcap SIZE_MB|Nf [64|1514|imix]
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/traffic.hpp"
#include "io/pcap_writer.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_pcap OUT.pcap SIZE_MB [64|1514|imix]\n");
    return 2;
  }
  const std::string mix = argc > 3 ? argv[3] : "imix";
  const auto frames = stenotype::bench::make_frames(
    12000, mix == "64" ? stenotype::bench::frame_mix::small64
           : mix == "1514" ? stenotype::bench::frame_mix::large1514 : stenotype::bench::frame_mix::imix);
  std::size_t avg = 0;
  for (const auto& f : frames)
    avg += f.size() + 16;
  avg /= frames.size();
  // SIZE_MB, or an exact number of frames written as e.g. "12000f".
  const std::string size = argv[2];
  const std::uint64_t packets = size.back() == 'f' ? std::stoull(size.substr(0, size.size() - 1))
                                                   : (std::stoull(size) << 20) / avg;
  std::FILE* out = std::fopen(argv[1], "wb");
  if (!out)
    return 1;
  static char buf[1 << 20];
  std::setvbuf(out, buf, _IOFBF, sizeof buf);
  stenotype::io::pcap_writer w{out};
  const std::uint64_t t0 = 1795773600ull * 1000000000ull, span = 3600ull * 1000000000ull;
  for (std::uint64_t i = 0; i < packets; ++i) {
    const auto& f = frames[i % frames.size()];
    const std::uint64_t ts = t0 + span / packets * i;
    stenotype::io::packet_ref r{0, static_cast<std::uint32_t>(ts / 1000000000u),
                                static_cast<std::uint32_t>(ts % 1000000000u),
                                static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()), 0, 0, 0,
                                f.data()};
    if (!w.write(r))
      return 1;
  }
  w.flush();
  std::fclose(out);
  std::printf("%llu packets\n", static_cast<unsigned long long>(packets));
  return 0;
}
