// bench/count_packets.cpp -- packets on disk, counted from the files (not
// from a tool's own report): pcap/pcapng via libpcap, or stenotype packet
// files (a data directory's PKT*/ files; with --steno-all also the hidden
// ones, which Google's stenotype leaves behind when stopped).
//   count_packets FILE.pcap...      count_packets --steno DIR      count_packets --steno-all DIR
#include <cstdio>
#include <cstring>
#include <pcap/pcap.h>
#include <string>

#include "io/layout.hpp"
#include "io/packet_file_reader.hpp"

int main(int argc, char** argv) {
  unsigned long long n = 0;
  const bool all = argc == 3 && !std::strcmp(argv[1], "--steno-all");
  if (argc == 3 && (all || !std::strcmp(argv[1], "--steno"))) {
    const std::string dir = argv[2];
    for (const int t : stenotype::io::list_threads(dir)) {
      const std::string pkt = stenotype::io::packet_dir(dir, t);
      for (const auto& f : stenotype::io::list_files(pkt))
        if (all || !f.hidden) {
          stenotype::io::packet_file_reader r{pkt + "/" + f.name()};
          // Counting what holds; hidden files being written have damaged tails by nature.
          r.for_each_packet([&](const stenotype::io::packet_ref&, std::uint64_t) { ++n; },
                            [](const stenotype::io::problem&) {});
        }
    }
  } else {
    for (int i = 1; i < argc; ++i) {
      char err[PCAP_ERRBUF_SIZE];
      pcap_t* p = pcap_open_offline(argv[i], err);
      if (!p) {
        std::fprintf(stderr, "count_packets: %s\n", err);
        return 1;
      }
      pcap_pkthdr* h;
      const u_char* d;
      while (pcap_next_ex(p, &h, &d) == 1)
        ++n;
      pcap_close(p);
    }
  }
  std::printf("%llu\n", n);
  return 0;
}
