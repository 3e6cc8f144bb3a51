#include <catch2/catch.hpp>

#include "query/evaluate.hpp"
#include "query/query_parser.hpp"
#include "support/frames.hpp"

using namespace stenotype;
using stenotype::test::frame_builder;

namespace {
bool match(const std::string& q, const std::vector<std::uint8_t>& f, std::uint64_t ts = 1000) {
  index::packet_attributes a;
  index::parse_packet(f.data(), f.size(), -1, a);
  return query::matches(*query::parse_query(q, 0), a, ts);
}
} // namespace

TEST_CASE("the per-packet test follows the index semantics") {
  auto v4 = frame_builder{}.vlan(7).ipv4({10, 1, 2, 3}, {192, 168, 0, 9}, 6).ports(1234, 443).build();
  CHECK(match("host 10.1.2.3", v4));
  CHECK(match("host 192.168.0.9", v4));
  CHECK_FALSE(match("host 10.1.2.4", v4));
  CHECK(match("net 10.0.0.0/8", v4));
  CHECK(match("net 192.168.0.0 mask 255.255.255.0", v4));
  CHECK_FALSE(match("net 10.2.0.0/16", v4));
  CHECK(match("port 443 and port 1234 and tcp", v4));
  CHECK_FALSE(match("udp", v4));
  CHECK(match("vlan 7", v4));
  CHECK_FALSE(match("vlan 8", v4));
  CHECK(match("ip proto 6", v4));
  CHECK(match("udp or vlan 7", v4));
  CHECK_FALSE(match("net 2001:db8::/32", v4));

  auto v6 = frame_builder{}.mpls(99).ipv6(test::v6(1), test::v6(2), 17).ports(53, 5353).build();
  CHECK(match("host 2001:db8::1", v6));
  CHECK(match("net 2001:db8::/32", v6));
  CHECK(match("mpls 99 and udp and port 5353", v6));
  CHECK_FALSE(match("net 10.0.0.0/8", v6));
}

TEST_CASE("time bounds are per packet and half-open") {
  auto f = frame_builder{}.ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17).ports(1, 2).build();
  const std::uint64_t t = 1'795'773'720'000'000'000ull; // 2026-11-27T10:02:00Z
  CHECK(match("after 2026-11-27T10:02:00Z", f, t));
  CHECK_FALSE(match("before 2026-11-27T10:02:00Z", f, t));
  CHECK(match("before 2026-11-27T10:02:00Z", f, t - 1));
  CHECK(match("after 2026-11-27T10:01:00Z and before 2026-11-27T10:03:00Z", f, t));
  const auto b = query::bounds_of(*query::parse_query("udp and after 2026-11-27T10:02:00Z and before 2026-11-27T10:05:00Z", 0));
  CHECK(b.lo == t);
  CHECK(b.hi == t + 180'000'000'000ull);
  const auto u = query::bounds_of(*query::parse_query("after 2026-11-27T10:02:00Z or tcp", 0));
  CHECK(u.lo == 0); // an OR with an unbounded side is unbounded
}
