#include "io/packet_output.hpp"

namespace stenotype::io {
namespace {

class pcap_output final : public packet_output {
public:
  pcap_output(std::FILE* out, pcap_precision p) : writer_(out, p) {}
  bool write(const packet_ref& p) override { return writer_.write(p); }
  bool flush() override { return writer_.flush(); }

private:
  pcap_writer writer_;
};

class pcapng_output final : public packet_output {
public:
  pcapng_output(std::FILE* out, const pcapng_interface& source) : writer_(out) {
    interface_ = writer_.add_interface(source);
  }
  bool write(const packet_ref& p) override {
    return interface_ >= 0 && writer_.write(static_cast<std::uint32_t>(interface_), p);
  }
  bool flush() override { return writer_.flush(); }

private:
  pcapng_writer writer_;
  long interface_ = -1;
};

} // namespace

std::optional<output_format> parse_output_format(std::string_view name) {
  if (name == "pcap")
    return output_format::pcap;
  if (name == "pcap-us")
    return output_format::pcap_us;
  if (name == "pcapng")
    return output_format::pcapng;
  return std::nullopt;
}

std::unique_ptr<packet_output> make_packet_output(std::FILE* out, output_format format,
                                                  const pcapng_interface& source) {
  switch (format) {
    case output_format::pcap: return std::make_unique<pcap_output>(out, pcap_precision::nano);
    case output_format::pcap_us: return std::make_unique<pcap_output>(out, pcap_precision::micro);
    case output_format::pcapng: return std::make_unique<pcapng_output>(out, source);
  }
  return nullptr;
}

} // namespace stenotype::io
