// query/query_parser.cpp -- a hand-written recursive-descent parser.
//
// Keywords are whole words (stenographer's lexer matched prefixes: "hostile"
// read as "host ile"). Operators have equal precedence, left to right, as in
// stenographer; parentheses group.
#include "query/query_parser.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <cstring>

#include "index/keys.hpp"

namespace stenotype::query {
namespace {

using index::index_key;

struct token {
  enum class type { word, lparen, rparen, op_and, op_or, end };
  type t;
  std::string text;
  std::size_t column; // 1-based
};

std::vector<token> tokenize(const std::string& s) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    const std::size_t col = i + 1;
    if (c == '(' || c == ')') {
      out.push_back({c == '(' ? token::type::lparen : token::type::rparen, std::string(1, c), col});
      ++i;
    } else if (s.compare(i, 2, "&&") == 0 || s.compare(i, 2, "||") == 0) {
      out.push_back({c == '&' ? token::type::op_and : token::type::op_or, s.substr(i, 2), col});
      i += 2;
    } else {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '('
             && s[j] != ')' && s.compare(j, 2, "&&") != 0 && s.compare(j, 2, "||") != 0)
        ++j;
      std::string w = s.substr(i, j - i);
      token::type t = token::type::word;
      if (w == "and")
        t = token::type::op_and;
      else if (w == "or")
        t = token::type::op_or;
      out.push_back({t, w, col});
      i = j;
    }
  }
  out.push_back({token::type::end, "end of query", s.size() + 1});
  return out;
}

bool parse_uint(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty() || s.size() > 20)
    return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > max)
      return false;
  }
  out = v;
  return true;
}

// --- times --------------------------------------------------------------
// A time is nanoseconds since 1970 in 64 bits: 1970-01-01T00:00:00Z up to
// 2554-07-21T23:34:33.709551615Z. Anything outside is refused, never wrapped.

constexpr const char* time_syntax =
  "expected a time: RFC 3339 (2006-01-02T15:04:05Z) or 'N m ago' / 'N h ago'";

// The `n` digits at s[at], or -1 when they are not all there.
int digits_at(const std::string& s, std::size_t at, std::size_t n) {
  if (at + n > s.size())
    return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Starts like a date (YYYY-): then any flaw is reported as such, not as "not a time".
bool looks_like_date(const std::string& s) { return digits_at(s, 0, 4) >= 0 && s.size() > 4 && s[4] == '-'; }

// RFC 3339: 2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm), every field checked:
// a day that exists in that month and year, hour 00-23, minute 00-59,
// second 00-60 (a leap second counts as the next second), 1-9 fraction
// digits, offsets up to 23:59. Returns the time, or sets `problem`.
std::optional<std::uint64_t> parse_rfc3339(const std::string& s, std::string& problem) {
  using namespace std::chrono;
  const int Y = digits_at(s, 0, 4), M = digits_at(s, 5, 2), D = digits_at(s, 8, 2),
            h = digits_at(s, 11, 2), m = digits_at(s, 14, 2), sec = digits_at(s, 17, 2);
  const bool shape = Y >= 0 && M >= 0 && D >= 0 && h >= 0 && m >= 0 && sec >= 0 && s[4] == '-'
                     && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':' && s[16] == ':';
  const auto bad = [&](std::string what) -> std::optional<std::uint64_t> {
    problem = "expected a time: " + std::move(what);
    return std::nullopt;
  };
  if (!shape)
    return bad("RFC 3339, YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)");
  const year_month_day date{year{Y}, month{static_cast<unsigned>(M)}, day{static_cast<unsigned>(D)}};
  if (!date.month().ok())
    return bad("a month 01-12");
  if (!date.ok()) {
    const unsigned last = static_cast<unsigned>(year_month_day_last{date.year(), month_day_last{date.month()}}.day());
    return bad("a day 01-" + std::to_string(last) + " of " + s.substr(0, 7));
  }
  if (h > 23)
    return bad("an hour 00-23");
  if (m > 59)
    return bad("a minute 00-59");
  if (sec > 60)
    return bad("a second 00-60");
  std::size_t i = 19;
  std::uint64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    const std::size_t first = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == first || i - first > 9)
      return bad("1 to 9 digits of a second's fraction (nanoseconds)");
    frac = static_cast<std::uint64_t>(digits_at(s, first, i - first));
    for (std::size_t k = i - first; k < 9; ++k)
      frac *= 10;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int oh = digits_at(s, i + 1, 2), om = digits_at(s, i + 4, 2);
    if (oh < 0 || om < 0 || s[i + 3] != ':')
      return bad("a zone: Z, +HH:MM or -HH:MM");
    if (oh > 23 || om > 59)
      return bad("a zone offset of at most 23:59");
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
    i += 6;
  } else {
    return bad("a zone: Z, +HH:MM or -HH:MM");
  }
  if (i != s.size())
    return bad("nothing after the zone");
  const std::int64_t secs = std::int64_t{sys_days{date}.time_since_epoch().count()} * 86400 + h * 3600LL
                            + m * 60LL + sec - offset;
  std::uint64_t ns;
  if (secs < 0 || __builtin_mul_overflow(static_cast<std::uint64_t>(secs), 1000000000ull, &ns)
      || __builtin_add_overflow(ns, frac, &ns))
    return bad("one from 1970-01-01T00:00:00Z to 2554-07-21T23:34:33.709551615Z (64-bit nanoseconds)");
  return ns;
}

// "N <unit> ago" from `now`. Past the start of 1970 it is the start of 1970:
// saturating is the exact answer there (no packet is older), wrapping is not.
std::uint64_t time_ago(std::uint64_t now, const std::string& count, std::uint64_t unit_ns) {
  std::uint64_t n = 0, delta = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec == std::errc::result_out_of_range || __builtin_mul_overflow(n, unit_ns, &delta))
    return 0;
  return now > delta ? now - delta : 0;
}

class parser {
public:
  parser(const std::string& text, std::uint64_t now) : toks_(tokenize(text)), now_(now) {}

  node_ptr parse() {
    auto e = expr();
    if (peek().t != token::type::end)
      fail(peek(), "expected 'and', 'or' or the end of the query");
    return e;
  }

private:
  const token& peek() const { return toks_[pos_]; }
  const token& next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }

  [[noreturn]] void fail(const token& t, const std::string& expected) {
    throw parse_error(t.column, expected + ", got '" + t.text + "'");
  }

  // The tree is evaluated recursively: bound its depth, so that no query
  // (found by fuzzing: thousands of '(') can exhaust the stack.
  static constexpr int max_nesting = 64;
  static constexpr int max_terms = 1000;

  node_ptr expr() {
    node_ptr left = term();
    while (peek().t == token::type::op_and || peek().t == token::type::op_or) {
      const bool is_and = next().t == token::type::op_and;
      node_ptr right = term();
      auto n = std::make_shared<node>();
      n->k = is_and ? node::kind::op_and : node::kind::op_or;
      n->left = left;
      n->right = right;
      left = n;
    }
    return left;
  }

  node_ptr make_key(const index_key& k, std::string text) {
    auto n = std::make_shared<node>();
    n->k = node::kind::key;
    n->key = k.str();
    n->text = std::move(text);
    return n;
  }

  std::uint64_t number(const char* what, std::uint64_t max) {
    const token& t = next();
    std::uint64_t v;
    if (t.t != token::type::word || !parse_uint(t.text, max, v))
      fail(t, std::string("expected ") + what + " (0-" + std::to_string(max) + ")");
    return v;
  }

  // An address: 4 bytes (IPv4) or 16 bytes (IPv6) in `out`; returns its length.
  std::size_t address(const std::string& s, std::uint8_t* out) {
    if (inet_pton(AF_INET, s.c_str(), out) == 1)
      return 4;
    if (inet_pton(AF_INET6, s.c_str(), out) == 1)
      return 16;
    return 0;
  }

  node_ptr net_range(const token& where, const std::uint8_t* addr, std::size_t len, unsigned bits,
                     std::string text) {
    if (bits > len * 8)
      fail(where, "expected a prefix length of 0-" + std::to_string(len * 8));
    std::uint8_t lo[16], hi[16];
    for (std::size_t i = 0; i < len; ++i) {
      const unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - static_cast<unsigned>(i) * 8 : 0;
      const auto mask = static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
      lo[i] = addr[i] & mask;
      hi[i] = static_cast<std::uint8_t>(addr[i] | ~mask);
    }
    auto n = std::make_shared<node>();
    n->k = node::kind::key_range;
    n->key = (len == 4 ? index::ipv4_key(lo) : index::ipv6_key(lo)).str();
    n->key_last = (len == 4 ? index::ipv4_key(hi) : index::ipv6_key(hi)).str();
    n->text = std::move(text);
    return n;
  }

  std::uint64_t time_value(const token& first) {
    if (looks_like_date(first.text)) {
      std::string problem;
      if (const auto ns = parse_rfc3339(first.text, problem))
        return *ns;
      fail(first, problem);
    }
    // "N m ago", "Nm ago", "N h ago", "Nh ago" (also s and d).
    std::string num = first.text, unit;
    while (!num.empty() && std::isalpha(static_cast<unsigned char>(num.back()))) {
      unit.insert(unit.begin(), num.back());
      num.pop_back();
    }
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos)
      fail(first, time_syntax);
    if (unit.empty()) {
      const token& u = next();
      if (u.t != token::type::word)
        fail(u, "expected a time unit (s, m, h, d)");
      unit = u.text;
    }
    constexpr std::uint64_t second = 1000000000;
    std::uint64_t unit_ns = 0;
    if (unit == "s")
      unit_ns = second;
    else if (unit == "m")
      unit_ns = 60 * second;
    else if (unit == "h")
      unit_ns = 3600 * second;
    else if (unit == "d")
      unit_ns = 86400 * second;
    else
      fail(toks_[pos_ - 1], "expected a time unit (s, m, h, d)");
    const token& ago = next();
    if (ago.t != token::type::word || ago.text != "ago")
      fail(ago, "expected 'ago'");
    return time_ago(now_, num, unit_ns);
  }

  node_ptr term() {
    const token& t = next();
    if (t.t == token::type::lparen) {
      if (++depth_ > max_nesting)
        fail(t, "expected at most " + std::to_string(max_nesting) + " levels of parentheses");
      node_ptr e = expr();
      --depth_;
      const token& close = next();
      if (close.t != token::type::rparen)
        fail(close, "expected ')'");
      return e;
    }
    if (t.t != token::type::word)
      fail(t, "expected a term (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after, or '(')");
    if (++terms_ > max_terms)
      fail(t, "expected at most " + std::to_string(max_terms) + " terms");
    const std::string& w = t.text;
    if (w == "tcp")
      return make_key(index::protocol_key(6), "tcp");
    if (w == "udp")
      return make_key(index::protocol_key(17), "udp");
    if (w == "icmp")
      return make_key(index::protocol_key(1), "icmp");
    if (w == "port") {
      const auto p = number("a port number", 65535);
      return make_key(index::port_key(static_cast<std::uint16_t>(p)), "port " + std::to_string(p));
    }
    if (w == "vlan") {
      const auto v = number("a VLAN id", 4095);
      return make_key(index::vlan_key(static_cast<std::uint16_t>(v)), "vlan " + std::to_string(v));
    }
    if (w == "mpls") {
      const auto l = number("an MPLS label", 1048575);
      return make_key(index::mpls_key(static_cast<std::uint32_t>(l)), "mpls " + std::to_string(l));
    }
    if (w == "ip") {
      const token& p = next();
      if (p.t != token::type::word || p.text != "proto")
        fail(p, "expected 'proto'");
      const auto n = number("a protocol number", 255);
      return make_key(index::protocol_key(static_cast<std::uint8_t>(n)), "ip proto " + std::to_string(n));
    }
    if (w == "host") {
      const token& a = next();
      std::uint8_t addr[16];
      const std::size_t len = a.t == token::type::word ? address(a.text, addr) : 0;
      if (len == 0)
        fail(a, "expected an IPv4 or IPv6 address");
      return make_key(len == 4 ? index::ipv4_key(addr) : index::ipv6_key(addr), "host " + a.text);
    }
    if (w == "net") {
      const token& a = next();
      if (a.t != token::type::word)
        fail(a, "expected a network (IP/BITS or IP mask MASK)");
      const auto slash = a.text.find('/');
      std::uint8_t addr[16];
      const std::size_t len = address(a.text.substr(0, slash), addr);
      if (len == 0)
        fail(a, "expected a network address (IPv4 or IPv6)");
      if (slash != std::string::npos) {
        std::uint64_t bits;
        if (!parse_uint(a.text.substr(slash + 1), len * 8, bits))
          fail(a, "expected a prefix length of 0-" + std::to_string(len * 8));
        return net_range(a, addr, len, static_cast<unsigned>(bits), "net " + a.text);
      }
      const token& m = next();
      if (m.t != token::type::word || m.text != "mask")
        fail(m, "expected '/BITS' or 'mask MASK' after the network address");
      const token& mt = next();
      std::uint8_t mask[16];
      if (mt.t != token::type::word || address(mt.text, mask) != len)
        fail(mt, "expected a mask of the address's family");
      // A mask must be contiguous ones, then zeros.
      unsigned bits = 0;
      bool zero_seen = false;
      for (std::size_t i = 0; i < len * 8; ++i) {
        const bool one = mask[i / 8] & (0x80 >> (i % 8));
        if (one && zero_seen)
          fail(mt, "expected a contiguous mask");
        if (one)
          ++bits;
        else
          zero_seen = true;
      }
      return net_range(mt, addr, len, bits, "net " + a.text + " mask " + mt.text);
    }
    if (w == "before" || w == "after") {
      const token& first = next();
      if (first.t != token::type::word)
        fail(first, time_syntax);
      auto n = std::make_shared<node>();
      n->k = w == "before" ? node::kind::before : node::kind::after;
      n->time_ns = time_value(first);
      n->text = w + " " + std::to_string(n->time_ns) + "ns";
      return n;
    }
    fail(t, "expected a term (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after, or '(')");
  }

  std::vector<token> toks_;
  std::size_t pos_ = 0;
  int depth_ = 0, terms_ = 0;
  std::uint64_t now_;
};

} // namespace

node_ptr parse_query(const std::string& text, std::uint64_t now_ns) {
  return parser{text, now_ns}.parse();
}

std::string to_string(const node& n) {
  if (n.k != node::kind::op_and && n.k != node::kind::op_or)
    return n.text;
  std::string out = "(";
  out += to_string(*n.left);
  out += n.k == node::kind::op_and ? " and " : " or ";
  out += to_string(*n.right);
  out += ')';
  return out;
}

} // namespace stenotype::query
