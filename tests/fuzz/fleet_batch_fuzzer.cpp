// libFuzzer target: a fleet batch as it arrives from the network (a sensor
// is not trusted): every record the reader yields lies inside the batch,
// and writes as pcap and pcapng (VLAN tags put back); a short or lying
// record ends the batch as malformed, never a read past its end.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "io/pcap_writer.hpp"
#include "io/pcapng_writer.hpp"
#include "stenotype/fleet_batch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string records(reinterpret_cast<const char*>(data), size);
  static std::FILE* sink = std::fopen("/dev/null", "wb");
  static stenotype::io::pcap_writer pcap{sink};
  static stenotype::io::pcapng_writer ng{sink};
  static const long interface = ng.add_interface({"fuzz", ""});
  stenotype::fleet_batch_reader r{records};
  stenotype::io::packet_ref p;
  std::uint16_t thread;
  while (r.next(p, thread)) {
    const auto* end = reinterpret_cast<const std::uint8_t*>(records.data() + records.size());
    if (p.frame < reinterpret_cast<const std::uint8_t*>(records.data()) || p.frame + p.caplen > end)
      __builtin_trap();
    pcap.write(p);
    ng.write(static_cast<std::uint32_t>(interface), p);
  }
  return 0;
}
