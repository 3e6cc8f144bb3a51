// index/key_format.hpp -- index keys as text ("ipv4 10.0.0.1"), for tools.
#pragma once

#include <string>
#include <string_view>

namespace stenotype::index {

/// "protocol 6", "port 443", "vlan 100", "ipv4 10.1.2.3", "mpls 16",
/// "ipv6 2001:db8::1", "meta <name>", or "unknown <hex>".
std::string describe_key(std::string_view key);

} // namespace stenotype::index
