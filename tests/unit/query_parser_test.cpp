#include <catch2/catch.hpp>

#include "index/keys.hpp"
#include "query/query_parser.hpp"

using namespace stenotype::query;
namespace idx = stenotype::index;

namespace {
constexpr std::uint64_t now = 1'800'000'000'000'000'000ull;
std::string show(const std::string& q) { return to_string(*parse_query(q, now)); }
}

TEST_CASE("every term of the grammar parses") {
  CHECK(show("host 10.1.2.3") == "host 10.1.2.3");
  CHECK(show("host 2001:db8::1") == "host 2001:db8::1");
  CHECK(show("net 10.0.0.0/8") == "net 10.0.0.0/8");
  CHECK(show("net 10.0.0.0 mask 255.0.0.0") == "net 10.0.0.0 mask 255.0.0.0");
  CHECK(show("net 2001:db8::/32") == "net 2001:db8::/32");
  CHECK(show("port 443") == "port 443");
  CHECK(show("ip proto 47") == "ip proto 47");
  CHECK(show("tcp") == "tcp");
  CHECK(show("udp") == "udp");
  CHECK(show("icmp") == "icmp");
  CHECK(show("vlan 100") == "vlan 100");
  CHECK(show("mpls 16") == "mpls 16");
}

TEST_CASE("terms map to the index keys") {
  auto q = parse_query("port 443", now);
  CHECK(q->k == node::kind::key);
  CHECK(q->key == idx::port_key(443).str());
  q = parse_query("tcp", now);
  CHECK(q->key == idx::protocol_key(6).str());
  q = parse_query("net 10.1.0.0/16", now);
  REQUIRE(q->k == node::kind::key_range);
  const std::uint8_t lo[4] = {10, 1, 0, 0}, hi[4] = {10, 1, 255, 255};
  CHECK(q->key == idx::ipv4_key(lo).str());
  CHECK(q->key_last == idx::ipv4_key(hi).str());
  // Host bits in a net are masked off, as the prefix says.
  CHECK(parse_query("net 10.1.2.3/16", now)->key == idx::ipv4_key(lo).str());
  CHECK(parse_query("net 10.1.2.3 mask 255.255.0.0", now)->key_last == idx::ipv4_key(hi).str());
}

TEST_CASE("and/or have equal precedence, left to right, and parentheses group") {
  CHECK(show("tcp and port 80 or udp") == "((tcp and port 80) or udp)");
  CHECK(show("tcp or port 80 and udp") == "((tcp or port 80) and udp)");
  CHECK(show("tcp || (port 80 && udp)") == "(tcp or (port 80 and udp))");
  CHECK(show("(tcp)") == "tcp");
  CHECK(show("tcp&&udp") == "(tcp and udp)");
}

TEST_CASE("times: RFC 3339 and relative") {
  auto q = parse_query("after 2026-11-27T10:02:00Z", now);
  CHECK(q->k == node::kind::after);
  CHECK(q->time_ns == 1795773720ull * 1000000000ull);
  CHECK(parse_query("before 2026-11-27T11:02:00+01:00", now)->time_ns == 1795773720ull * 1000000000ull);
  CHECK(parse_query("before 2026-11-27T10:02:00.5Z", now)->time_ns == 1795773720ull * 1000000000ull + 500000000ull);
  CHECK(parse_query("after 10m ago", now)->time_ns == now - 600ull * 1000000000ull);
  CHECK(parse_query("after 10 m ago", now)->time_ns == now - 600ull * 1000000000ull);
  CHECK(parse_query("before 3h ago", now)->time_ns == now - 3ull * 3600 * 1000000000ull);
  CHECK(parse_query("before 3 h ago", now)->time_ns == now - 3ull * 3600 * 1000000000ull);
}

TEST_CASE("malformed queries name the column and what was expected") {
  struct bad {
    const char* query;
    std::size_t column;
    const char* says;
  };
  const bad cases[] = {
    {"", 1, "expected a term"},
    {"hostile 1.2.3.4", 1, "expected a term"},   // whole words only
    {"host", 5, "expected an IPv4 or IPv6 address"},
    {"host 1.2.3", 6, "expected an IPv4 or IPv6 address"},
    {"port 65536", 6, "port number"},
    {"port -1", 6, "port number"},
    {"port 80x", 6, "port number"},
    {"vlan 4096", 6, "VLAN id"},
    {"mpls 1048576", 6, "MPLS label"},
    {"ip proto 256", 10, "protocol number"},
    {"ip 6", 4, "expected 'proto'"},
    {"net 10.0.0.0/33", 5, "prefix length"},
    {"net 10.0.0.0 mask 255.0.255.0", 19, "contiguous mask"},
    {"net 10.0.0.0 mask ::", 19, "mask of the address's family"},
    {"net 10.0.0.0", 13, "'/BITS' or 'mask MASK'"},
    {"tcp and", 8, "expected a term"},
    {"tcp udp", 5, "expected 'and', 'or'"},
    {"(tcp or udp", 12, "expected ')'"},
    {"tcp)", 4, "expected 'and', 'or'"},
    {"after yesterday", 7, "expected a time"},
    {"after 10 minutes ago", 10, "time unit"},
    {"after 10m", 10, "expected 'ago'"},
    {"before 2026-13-01T00:00:00Z", 8, "expected a time"},
    {"before 2026-11-27T10:02:00", 8, "expected a time"}, // no zone
  };
  for (const auto& c : cases) {
    INFO(c.query);
    try {
      parse_query(c.query, now);
      FAIL("accepted");
    } catch (const parse_error& e) {
      CHECK(e.column() == c.column);
      CHECK(std::string(e.what()).find(c.says) != std::string::npos);
    }
  }
}

TEST_CASE("deep nesting and huge queries are refused, not a stack overflow") {
  // Found by the query parser fuzzer: thousands of '(' overflowed the stack.
  std::string deep(100000, '(');
  try {
    parse_query(deep + "tcp", now);
    FAIL("accepted");
  } catch (const parse_error& e) {
    CHECK(e.column() == 65);
    CHECK(std::string(e.what()).find("levels of parentheses") != std::string::npos);
  }
  std::string nested;
  for (int i = 0; i < 64; ++i)
    nested += '(';
  nested += "tcp";
  for (int i = 0; i < 64; ++i)
    nested += ')';
  CHECK(show(nested) == "tcp");
  std::string many = "tcp";
  for (int i = 0; i < 5000; ++i)
    many += " or udp";
  CHECK_THROWS_WITH(parse_query(many, now), Catch::Contains("at most 1000 terms"));
}
