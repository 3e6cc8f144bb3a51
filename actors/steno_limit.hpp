// actors/steno_limit.hpp -- stenographer's Steno-Limit-Packets and
// Steno-Limit-Bytes request headers, with its server's exact semantics
// (google/stenographer base/base.go, Limit and PacketsToFile):
//  - a value is read like Go's strconv.ParseInt(s, 0, 64): decimal, 0x
//    hex, 0o or a leading 0 octal, 0b binary; 0 (or no header) is no limit.
//    A negative value, which Google's server took as "one packet", is
//    refused here;
//  - the byte budget counts 16 bytes for the file header and 16 plus the
//    frame for each packet; the answer stops after the packet that reaches
//    either limit (so it may end past the byte limit by one packet), and a
//    byte limit of at most 16 gives the file header alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace stenotype {

/// Reads a limit header's value; nothing when it is not a non-negative
/// integer in that syntax.
inline std::optional<std::int64_t> parse_steno_limit(std::string_view s) {
  if (!s.empty() && s.front() == '+')
    s.remove_prefix(1);
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    const char p = s[1];
    if (p == 'x' || p == 'X')
      base = 16, s.remove_prefix(2);
    else if (p == 'o' || p == 'O')
      base = 8, s.remove_prefix(2);
    else if (p == 'b' || p == 'B')
      base = 2, s.remove_prefix(2);
    else
      base = 8, s.remove_prefix(1);
  }
  if (s.empty())
    return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    if (d >= base || v > (INT64_MAX - d) / base)
      return std::nullopt;
    v = v * base + d;
  }
  return v;
}

/// What is left of a query's limits as its answer is written.
class steno_limit {
public:
  steno_limit(std::int64_t bytes, std::int64_t packets) : bytes_(bytes), packets_(packets) {}

  /// Whether the answer ends with the file header alone.
  bool stop_after_header() { return take(bytes_, header_bytes); }
  /// Counts a packet of `frame_bytes` just written; true when the answer ends here.
  bool stop_after_packet(std::uint32_t frame_bytes) {
    const bool bytes = take(bytes_, header_bytes + frame_bytes);
    const bool packets = take(packets_, 1);
    return bytes || packets;
  }

private:
  static constexpr std::int64_t header_bytes = 16; // Google's pcapHeaderSize, for file and packet alike
  static bool take(std::int64_t& left, std::int64_t n) {
    if (left == 0)
      return false; // no limit
    left -= n;
    return left <= 0;
  }
  std::int64_t bytes_, packets_;
};

} // namespace stenotype
