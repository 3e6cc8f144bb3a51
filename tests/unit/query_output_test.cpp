// The query service's pieces that need no network: stenographer's limit
// headers (Google's semantics) and the pcapng writer (read back by libpcap).
#include <catch2/catch.hpp>

#include <cstdio>
#include <pcap/pcap.h>
#include <string>
#include <vector>

#include "actors/steno_limit.hpp"
#include "io/packet_output.hpp"
#include "io/pcapng_writer.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;

TEST_CASE("Steno-Limit headers are read as Go's ParseInt(s, 0, 64), negatives and junk refused") {
  CHECK(parse_steno_limit("0") == 0);
  CHECK(parse_steno_limit("42") == 42);
  CHECK(parse_steno_limit("+7") == 7);
  CHECK(parse_steno_limit("0x1F") == 31);
  CHECK(parse_steno_limit("0o17") == 15);
  CHECK(parse_steno_limit("017") == 15); // a leading 0 is octal, as in Go
  CHECK(parse_steno_limit("0b101") == 5);
  CHECK(parse_steno_limit("9223372036854775807") == INT64_MAX);
  for (const char* bad : {"", "-1", "abc", "1.5", "0x", "08", "9223372036854775808", " 5", "5 "})
    CHECK_FALSE(parse_steno_limit(bad).has_value());
}

TEST_CASE("limits stop after the packet that reaches them, counting 16 bytes per header as Google's server") {
  steno_limit none{0, 0};
  CHECK_FALSE(none.stop_after_header());
  for (int i = 0; i < 1000; ++i)
    CHECK_FALSE(none.stop_after_packet(1500));
  steno_limit packets{0, 3};
  CHECK_FALSE(packets.stop_after_header());
  CHECK_FALSE(packets.stop_after_packet(100));
  CHECK_FALSE(packets.stop_after_packet(100));
  CHECK(packets.stop_after_packet(100));
  steno_limit bytes{16 + 116 + 50, 0}; // the header, one 100-byte packet, then 50 more bytes
  CHECK_FALSE(bytes.stop_after_header());
  CHECK_FALSE(bytes.stop_after_packet(100));
  CHECK(bytes.stop_after_packet(100)); // the packet passing the limit is the last one
  steno_limit header_only{16, 0};
  CHECK(header_only.stop_after_header());
}

namespace {

io::packet_ref packet(const std::vector<std::uint8_t>& bytes, std::uint32_t sec, std::uint32_t nsec) {
  io::packet_ref p{};
  p.sec = sec;
  p.nsec = nsec;
  p.caplen = static_cast<std::uint32_t>(bytes.size());
  p.wire_len = p.caplen + 10; // snapped
  p.frame = bytes.data();
  return p;
}

} // namespace

TEST_CASE("pcapng: interfaces with names and nanosecond stamps, stripped VLAN tags put back, read back by libpcap") {
  test::temp_dir tmp;
  const std::string path = tmp.path() + "/out.pcapng";
  std::vector<std::uint8_t> a(61), b(64);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<std::uint8_t>(200 - i);
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    io::pcapng_writer w{f};
    CHECK(w.add_interface({"sensor-1/thread-0", "one", 1, 65536}) == 0);
    CHECK(w.add_interface({"sensor-2/thread-0", "", 1, 65536}) == 1);
    CHECK(w.write(0, packet(a, 1796197046, 123456789)));
    auto tagged = packet(b, 1796197047, 5);
    tagged.status = TP_STATUS_VLAN_VALID;
    tagged.vlan_tci = 100;
    CHECK(w.write(1, tagged));
    CHECK_FALSE(w.write(2, tagged)); // no such interface
    CHECK(w.flush());
    std::fclose(f);
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  REQUIRE(p != nullptr);
  CHECK(pcap_datalink(p) == DLT_EN10MB);
  pcap_pkthdr* h;
  const u_char* data;
  REQUIRE(pcap_next_ex(p, &h, &data) == 1);
  CHECK(h->ts.tv_sec == 1796197046);
  CHECK(h->ts.tv_usec == 123456789); // nanoseconds, in this precision
  CHECK(h->caplen == 61);
  CHECK(h->len == 71);
  CHECK(std::vector<std::uint8_t>(data, data + h->caplen) == a);
  REQUIRE(pcap_next_ex(p, &h, &data) == 1);
  CHECK(h->ts.tv_usec == 5);
  REQUIRE(h->caplen == 68);
  const std::vector<std::uint8_t> tag(data + 12, data + 16);
  CHECK(tag == std::vector<std::uint8_t>{0x81, 0x00, 0x00, 100});
  CHECK(std::vector<std::uint8_t>(data, data + 12) == std::vector<std::uint8_t>(b.begin(), b.begin() + 12));
  CHECK(std::vector<std::uint8_t>(data + 16, data + 68) == std::vector<std::uint8_t>(b.begin() + 12, b.end()));
  CHECK(pcap_next_ex(p, &h, &data) == PCAP_ERROR_BREAK);
  pcap_close(p);
}

TEST_CASE("output formats by name") {
  CHECK(io::parse_output_format("pcap") == io::output_format::pcap);
  CHECK(io::parse_output_format("pcap-us") == io::output_format::pcap_us);
  CHECK(io::parse_output_format("pcapng") == io::output_format::pcapng);
  CHECK_FALSE(io::parse_output_format("pcap-ns").has_value());
}
