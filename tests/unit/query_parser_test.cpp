#include <catch2/catch.hpp>

#include <cstdio>
#include <limits>
#include <string>

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

// --- times at and past their limits: refused or saturated, never wrapped ---

namespace {

constexpr std::uint64_t sec = 1'000'000'000ull;
constexpr std::uint64_t max_ns = std::numeric_limits<std::uint64_t>::max();

// The time a query "after TIME" stands for, or throws parse_error.
std::uint64_t time_of(const std::string& time, std::uint64_t at = now) {
  return parse_query("after " + time, at)->time_ns;
}

void check_refused(const std::string& time, const char* says) {
  INFO(time);
  try {
    time_of(time);
    FAIL("accepted");
  } catch (const parse_error& e) {
    CHECK(e.column() == 7); // the time itself
    CHECK(std::string(e.what()).find("expected a time") == 0);
    CHECK(std::string(e.what()).find(says) != std::string::npos);
  }
}

} // namespace

TEST_CASE("RFC 3339 times: every calendar day and clock field is checked") {
  // Last day of every month of 2026, and the day after it.
  const int last[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 1; m <= 12; ++m) {
    char ok[32], bad[32];
    std::snprintf(ok, sizeof ok, "2026-%02d-%02dT00:00:00Z", m, last[m - 1]);
    std::snprintf(bad, sizeof bad, "2026-%02d-%02dT00:00:00Z", m, last[m - 1] + 1);
    INFO(ok);
    CHECK_NOTHROW(time_of(ok));
    check_refused(bad, "a day 01-");
  }
  // Leap years: every 4th, not every 100th, but every 400th.
  CHECK(time_of("2024-02-29T00:00:00Z") == 1709164800ull * sec);
  CHECK(time_of("2000-02-29T00:00:00Z") == 951782400ull * sec);
  check_refused("2023-02-29T00:00:00Z", "a day 01-28 of 2023-02");
  check_refused("2100-02-29T00:00:00Z", "a day 01-28 of 2100-02");
  check_refused("2026-02-31T00:00:00Z", "a day 01-28 of 2026-02");
  check_refused("2026-04-31T00:00:00Z", "a day 01-30 of 2026-04");
  check_refused("2026-01-00T00:00:00Z", "a day 01-31");
  check_refused("2026-00-10T00:00:00Z", "a month 01-12");
  check_refused("2026-13-01T00:00:00Z", "a month 01-12");
  check_refused("2026-99-01T00:00:00Z", "a month 01-12");
  // Clock fields.
  CHECK(time_of("2026-11-27T23:59:59Z") == 1795823999ull * sec);
  CHECK(time_of("2026-11-27T23:59:60Z") == 1795824000ull * sec); // leap second: the next second
  check_refused("2026-11-27T24:00:00Z", "an hour 00-23");
  check_refused("2026-11-27T99:00:00Z", "an hour 00-23");
  check_refused("2026-11-27T10:60:00Z", "a minute 00-59");
  check_refused("2026-11-27T10:00:61Z", "a second 00-60");
  // Fields must be exactly two (four) digits: no signs, spaces or short fields.
  for (const char* shape : {"2026-11-27T-1:00:00Z", "2026-11-27T+1:00:00Z", "2026-11-27T1:00:00Z",
                            "2026-11-27T10:0:00Z", "2026-11-27T10:00:0Z", "2026-1-27T10:00:00Z",
                            "2026-11-7T10:00:00Z", "2026-11-27 10:00:00Z", "2026-11-27X10:00:00Z",
                            "2026-11-27T10-00-00Z", "2026-11-27", "2026-", "2026-02-31", "2026-11-27T10:00Z",
                            "2026-11-27T1a:00:00Z", "2026-11-27T10:00:00"}) {
    INFO(shape);
    try {
      time_of(shape);
      FAIL("accepted");
    } catch (const parse_error& e) {
      CHECK(e.column() == 7);
      CHECK(std::string(e.what()).find("expected a time") == 0);
    }
  }
  // Lower-case t and z are RFC 3339 too.
  CHECK(time_of("2026-11-27t10:02:00z") == 1795773720ull * sec);
}

TEST_CASE("RFC 3339 fractions and offsets") {
  const std::uint64_t base = 1795773720ull * sec; // 2026-11-27T10:02:00Z
  CHECK(time_of("2026-11-27T10:02:00.5Z") == base + 500000000);
  CHECK(time_of("2026-11-27T10:02:00.05Z") == base + 50000000);
  CHECK(time_of("2026-11-27T10:02:00.123456789Z") == base + 123456789);
  CHECK(time_of("2026-11-27T10:02:00.000000001Z") == base + 1);
  CHECK(time_of("2026-11-27T10:02:00.999999999Z") == base + 999999999);
  check_refused("2026-11-27T10:02:00.1234567891Z", "1 to 9 digits");
  check_refused("2026-11-27T10:02:00.Z", "1 to 9 digits");
  check_refused("2026-11-27T10:02:00.5x5Z", "a zone");
  // Offsets, to the limit of 23:59 either way.
  CHECK(time_of("2026-11-27T11:02:00+01:00") == base);
  CHECK(time_of("2026-11-27T09:02:00-01:00") == base);
  CHECK(time_of("2026-11-28T10:01:00+23:59") == base);
  CHECK(time_of("2026-11-26T10:03:00-23:59") == base);
  CHECK(time_of("2026-11-27T10:02:00+00:00") == base);
  CHECK(time_of("2026-11-27T10:02:00-00:00") == base);
  check_refused("2026-11-27T10:02:00+24:00", "at most 23:59");
  check_refused("2026-11-27T10:02:00+01:60", "at most 23:59");
  check_refused("2026-11-27T10:02:00+1:00", "a zone");
  check_refused("2026-11-27T10:02:00+01", "a zone");
  check_refused("2026-11-27T10:02:00+0100", "a zone");
  check_refused("2026-11-27T10:02:00+01:00x", "nothing after the zone");
  check_refused("2026-11-27T10:02:00Zx", "nothing after the zone");
  check_refused("2026-11-27T10:02:00ZZ", "nothing after the zone");
}

TEST_CASE("RFC 3339 times outside 64-bit nanoseconds since 1970 are refused, not wrapped") {
  CHECK(time_of("1970-01-01T00:00:00Z") == 0);
  CHECK(time_of("1970-01-01T00:00:00-00:01") == 60 * sec);
  CHECK(time_of("1970-01-01T01:00:00+01:00") == 0);
  // The last representable nanosecond, and one past it.
  CHECK(time_of("2554-07-21T23:34:33.709551615Z") == max_ns);
  CHECK(time_of("2554-07-22T00:34:33.709551615+01:00") == max_ns);
  const char* range = "from 1970-01-01T00:00:00Z to 2554-07-21T23:34:33.709551615Z";
  check_refused("2554-07-21T23:34:33.709551616Z", range);
  check_refused("2554-07-21T23:34:34Z", range);
  check_refused("2554-07-21T23:34:33.709551615-00:01", range);
  check_refused("2555-01-01T00:00:00Z", range); // was 1970 plus change
  check_refused("9999-12-31T23:59:59Z", range);
  check_refused("1969-12-31T23:59:59Z", range);
  check_refused("1970-01-01T00:00:00+00:01", range);
  check_refused("1970-01-01T00:30:00+01:00", range);
  check_refused("0000-01-01T00:00:00Z", range);
  // before, too.
  CHECK(parse_query("before 2554-07-21T23:34:33.709551615Z", now)->time_ns == max_ns);
  CHECK_THROWS_AS(parse_query("before 2555-01-01T00:00:00Z", now), parse_error);
}

TEST_CASE("'N unit ago' saturates at 1970 in every unit, never wraps") {
  struct unit {
    const char* name;
    std::uint64_t ns;
  };
  const unit units[] = {{"s", sec}, {"m", 60 * sec}, {"h", 3600 * sec}, {"d", 86400 * sec}};
  for (const auto& u : units) {
    INFO(u.name);
    const std::uint64_t fits = max_ns / u.ns; // the most units that fit 64 bits
    const std::string n = std::to_string(fits), past = std::to_string(fits + 1);
    // From the last representable instant: exact down to the limit...
    CHECK(time_of(n + u.name + " ago", max_ns) == max_ns - fits * u.ns);
    CHECK(time_of(n + " " + u.name + " ago", max_ns) == max_ns - fits * u.ns);
    // ... and one unit more does not fit: the start of 1970, not a wrapped value.
    CHECK(time_of(past + u.name + " ago", max_ns) == 0);
    CHECK(time_of(past + u.name + " ago") == 0);
    CHECK(time_of("18446744073709551615" + std::string(u.name) + " ago") == 0);
    CHECK(time_of("18446744073709551616" + std::string(u.name) + " ago") == 0);
    CHECK(time_of("99999999999999999999999999999" + std::string(u.name) + " ago") == 0);
    // Exactly now, and exactly back to 1970.
    CHECK(time_of(std::string("0") + u.name + " ago") == now);
    CHECK(time_of(std::to_string(now / u.ns) + u.name + " ago", now / u.ns * u.ns) == 0);
    CHECK(time_of(std::string("1") + u.name + " ago", u.ns - 1) == 0);
  }
  // The example of the issue: 213504 days is 2^64 ns plus 25 minutes.
  CHECK(time_of("213504d ago") == 0);
  CHECK(time_of("213503d ago", max_ns) == max_ns - 213503ull * 86400 * sec);
  CHECK(time_of("0010m ago") == now - 600 * sec);
  for (const char* bad : {"-5m ago", "+5m ago", "5.5m ago", "0x10m ago", "1e3m ago", "m ago"}) {
    INFO(bad);
    CHECK_THROWS_AS(time_of(bad), parse_error);
  }
  CHECK_THROWS_WITH(time_of("5 weeks ago"), Catch::Contains("time unit"));
  CHECK_THROWS_WITH(time_of("5 ago"), Catch::Contains("time unit"));
}
