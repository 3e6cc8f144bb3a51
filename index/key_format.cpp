#include "index/key_format.hpp"

#include <arpa/inet.h>
#include <cstdio>

#include "index/keys.hpp"

namespace stenotype::index {

std::string describe_key(std::string_view key) {
  if (key.empty())
    return "empty";
  const auto* v = reinterpret_cast<const unsigned char*>(key.data()) + 1;
  const std::size_t n = key.size() - 1;
  auto be = [&] {
    std::uint32_t x = 0;
    for (std::size_t i = 0; i < n; ++i)
      x = x << 8 | v[i];
    return std::to_string(x);
  };
  char buf[INET6_ADDRSTRLEN];
  switch (static_cast<key_type>(key[0])) {
    case key_type::meta: return "meta " + std::string(key.substr(1));
    case key_type::protocol: if (n == 1) return "protocol " + be(); break;
    case key_type::port: if (n == 2) return "port " + be(); break;
    case key_type::vlan: if (n == 2) return "vlan " + be(); break;
    case key_type::mpls: if (n == 4) return "mpls " + be(); break;
    case key_type::ipv4:
      if (n == 4 && inet_ntop(AF_INET, v, buf, sizeof buf))
        return std::string("ipv4 ") + buf;
      break;
    case key_type::ipv6:
      if (n == 16 && inet_ntop(AF_INET6, v, buf, sizeof buf))
        return std::string("ipv6 ") + buf;
      break;
  }
  std::string hex = "unknown ";
  for (unsigned char c : key) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    hex += buf;
  }
  return hex;
}

} // namespace stenotype::index
