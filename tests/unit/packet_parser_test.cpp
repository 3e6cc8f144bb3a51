#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "index/packet_parser.hpp"
#include "support/frames.hpp"

using namespace stenotype::index;
using stenotype::test::frame_builder;
using stenotype::test::v6;

namespace {
packet_attributes parse(const std::vector<std::uint8_t>& f, int stripped = -1) {
  packet_attributes a;
  parse_packet(f.data(), f.size(), stripped, a);
  return a;
}
bool v4_is(const std::uint8_t* got, std::array<std::uint8_t, 4> want) {
  return std::memcmp(got, want.data(), 4) == 0;
}
} // namespace

TEST_CASE("IPv4 TCP: addresses, protocol, ports") {
  auto a = parse(frame_builder{}.ipv4({10, 0, 0, 1}, {192, 168, 0, 7}, 6).ports(43210, 443).build());
  CHECK(a.ip_version == 4);
  CHECK(v4_is(a.src_ip, {10, 0, 0, 1}));
  CHECK(v4_is(a.dst_ip, {192, 168, 0, 7}));
  REQUIRE(a.has_protocol);
  CHECK(a.protocol == 6);
  REQUIRE(a.has_ports);
  CHECK(a.src_port == 43210);
  CHECK(a.dst_port == 443);
  CHECK(a.vlan_count == 0);
  CHECK(a.mpls_count == 0);
}

TEST_CASE("IPv4 with options: ports found behind IHL") {
  auto a = parse(frame_builder{}.ipv4({1, 2, 3, 4}, {5, 6, 7, 8}, 17, 0, 3).ports(53, 5353).build());
  REQUIRE(a.has_ports);
  CHECK(a.src_port == 53);
  CHECK(a.dst_port == 5353);
}

TEST_CASE("IPv4 fragments: only the first has ports") {
  auto first = parse(frame_builder{}.ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, 0x2000 /*MF*/).ports(1, 2).build());
  CHECK(first.has_ports);
  auto later = parse(frame_builder{}.ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, 185).ports(1, 2).build());
  CHECK(later.ip_version == 4);
  CHECK(later.protocol == 17);
  CHECK_FALSE(later.has_ports);
}

TEST_CASE("ICMP has no ports") {
  auto a = parse(frame_builder{}.ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 1).payload(8).build());
  CHECK(a.protocol == 1);
  CHECK_FALSE(a.has_ports);
}

TEST_CASE("stacked VLAN tags (802.1Q, 802.1ad, old QinQ) are all indexed") {
  auto a = parse(frame_builder{}.vlan(100, 0x88a8).vlan(200, 0x8100).vlan(300, 0x9100)
                   .ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 6).ports(1, 2).build());
  REQUIRE(a.vlan_count == 3);
  CHECK(a.vlans[0] == 100);
  CHECK(a.vlans[1] == 200);
  CHECK(a.vlans[2] == 300);
  CHECK(a.has_ports);
}

TEST_CASE("a VLAN tag stripped by the kernel counts as the outermost") {
  auto a = parse(frame_builder{}.vlan(20).ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 6).ports(1, 2).build(), 10);
  REQUIRE(a.vlan_count == 2);
  CHECK(a.vlans[0] == 10);
  CHECK(a.vlans[1] == 20);
}

TEST_CASE("MPLS label stacks, then IPv4 or IPv6") {
  auto a = parse(frame_builder{}.mpls(16).mpls(1048575).ipv4({9, 9, 9, 9}, {8, 8, 8, 8}, 6).ports(80, 8080).build());
  REQUIRE(a.mpls_count == 2);
  CHECK(a.mpls[0] == 16);
  CHECK(a.mpls[1] == 1048575);
  CHECK(a.ip_version == 4);
  CHECK(a.dst_port == 8080);
  auto b = parse(frame_builder{}.mpls(42).ipv6(v6(1), v6(2), 17).ports(1, 2).build());
  CHECK(b.mpls_count == 1);
  CHECK(b.ip_version == 6);
  CHECK(b.src_port == 1);
}

TEST_CASE("MPLS pseudowire: control word, inner Ethernet with its own VLAN") {
  auto a = parse(frame_builder{}.vlan(5).mpls(1000).pseudowire().vlan(77)
                   .ipv4({10, 9, 8, 7}, {10, 9, 8, 6}, 17).ports(123, 123).build());
  REQUIRE(a.mpls_count == 1);
  CHECK(a.mpls[0] == 1000);
  REQUIRE(a.vlan_count == 2);
  CHECK(a.vlans[0] == 5);
  CHECK(a.vlans[1] == 77);
  CHECK(v4_is(a.src_ip, {10, 9, 8, 7}));
  CHECK(a.src_port == 123);
}

TEST_CASE("IPv6 extension headers are skipped to the final protocol") {
  auto a = parse(frame_builder{}.ipv6(v6(1), v6(2), 0).ipv6_ext(60).ipv6_ext(43).ipv6_ext(6).ports(22, 50000).build());
  CHECK(a.ip_version == 6);
  CHECK(a.src_ip[15] == 1);
  CHECK(a.dst_ip[15] == 2);
  CHECK(a.protocol == 6);
  REQUIRE(a.has_ports);
  CHECK(a.src_port == 22);
}

TEST_CASE("IPv6 fragments: first one is looked through, later ones are protocol 44") {
  auto first = parse(frame_builder{}.ipv6(v6(1), v6(2), 44).ipv6_fragment(17, 0).ports(1000, 2000).build());
  CHECK(first.protocol == 17);
  CHECK(first.has_ports);
  auto later = parse(frame_builder{}.ipv6(v6(1), v6(2), 44).ipv6_fragment(17, 100).ports(1000, 2000).build());
  CHECK(later.protocol == 44);
  CHECK_FALSE(later.has_ports);
}

TEST_CASE("truncated frames index only what was captured") {
  auto full = frame_builder{}.vlan(9).ipv4({1, 2, 3, 4}, {5, 6, 7, 8}, 6).ports(11, 22).build();
  // Cut inside the TCP header: addresses and protocol, no ports.
  auto a = parse(std::vector<std::uint8_t>(full.begin(), full.begin() + 14 + 4 + 20 + 3));
  CHECK(a.ip_version == 4);
  CHECK_FALSE(a.has_ports);
  // Cut inside the IPv4 header: the VLAN only.
  auto b = parse(std::vector<std::uint8_t>(full.begin(), full.begin() + 14 + 4 + 19));
  CHECK(b.vlan_count == 1);
  CHECK(b.ip_version == 0);
  CHECK_FALSE(b.has_protocol);
  // Cut inside the VLAN tag and the Ethernet header: nothing.
  CHECK(parse(std::vector<std::uint8_t>(full.begin(), full.begin() + 16)).vlan_count == 0);
  CHECK(parse(std::vector<std::uint8_t>(full.begin(), full.begin() + 5)).ip_version == 0);
  CHECK(parse({}).ip_version == 0);
}

TEST_CASE("an IHL below 5 stops the parse") {
  auto f = frame_builder{}.ipv4({1, 2, 3, 4}, {5, 6, 7, 8}, 6).ports(1, 2).build();
  f[14] = 0x44;
  auto a = parse(f);
  CHECK(a.ip_version == 0);
  CHECK_FALSE(a.has_protocol);
}

TEST_CASE("an IPv6 extension header longer than the frame stops cleanly") {
  auto f = frame_builder{}.ipv6(v6(1), v6(2), 0).ipv6_ext(6).ports(1, 2).build();
  f[14 + 40 + 1] = 200; // hop-by-hop length: 1608 bytes
  auto a = parse(f);
  CHECK(a.ip_version == 6);
  CHECK_FALSE(a.has_ports);
}

TEST_CASE("more tags than fit are cut at the limit, not overflowed") {
  frame_builder b;
  for (int i = 0; i < 20; ++i)
    b.vlan(static_cast<std::uint16_t>(i + 1));
  auto a = parse(b.ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 6).ports(1, 2).build());
  CHECK(a.vlan_count == packet_attributes::max_tags);
  CHECK(a.has_ports); // the packet itself is still understood
}

TEST_CASE("random garbage never crashes and never reads past caplen") {
  // Each frame lives in its own exactly-sized heap buffer, so an overread
  // would show under ASan/valgrind; here we check the parse is total.
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> f(rng() % 200);
    for (auto& b : f)
      b = static_cast<std::uint8_t>(rng());
    if (f.size() > 13 && i % 3 == 0) { // steer into the interesting parsers
      const std::uint16_t types[] = {0x0800, 0x86dd, 0x8100, 0x8847, 0x88a8};
      const auto t = types[rng() % 5];
      f[12] = static_cast<std::uint8_t>(t >> 8);
      f[13] = static_cast<std::uint8_t>(t);
    }
    packet_attributes a;
    parse_packet(f.data(), f.size(), -1, a);
    CHECK(a.vlan_count <= packet_attributes::max_tags);
    CHECK(a.mpls_count <= packet_attributes::max_tags);
  }
}
