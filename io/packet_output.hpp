// io/packet_output.hpp -- the packet formats a reader can write, by name.
//
//   pcap     classic pcap, nanosecond stamps (magic a1b23c4d)
//   pcap-us  classic pcap, microsecond stamps (a1b2c3d4: old tools, Google's server)
//   pcapng   one section, one interface (nanosecond stamps), enhanced packet blocks
//
// stenoread's --format and the query service's ?format= both choose here.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>

#include "io/pcap_writer.hpp"
#include "io/pcapng_writer.hpp"

namespace stenotype::io {

enum class output_format { pcap, pcap_us, pcapng };

/// "pcap", "pcap-us", "pcapng"; nothing for another name.
std::optional<output_format> parse_output_format(std::string_view name);

/// The format names, for help texts: "pcap, pcap-us, pcapng".
inline constexpr const char* output_format_names = "pcap, pcap-us, pcapng";

/// Packets into one of the formats, written to a FILE* (not owned).
class packet_output {
public:
  virtual ~packet_output() = default;
  /// False on a write error (errno set).
  virtual bool write(const packet_ref& p) = 0;
  virtual bool flush() = 0;
};

/// Writes the format's file header at once. `source` names the one
/// interface of a pcapng output (its packets' origin: a data directory).
std::unique_ptr<packet_output> make_packet_output(std::FILE* out, output_format format,
                                                  const pcapng_interface& source = {});

} // namespace stenotype::io
