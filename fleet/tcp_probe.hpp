// fleet/tcp_probe.hpp -- is anything listening there, within a time limit?
//
// CAF's remote_actor connects with a blocking connect(): a host that drops
// SYNs holds it for minutes. A non-blocking connect first tells "down"
// (refused, unreachable, no answer in time) quickly and by name.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace stenotype::fleet {

/// "" when a TCP connection to host:port was accepted within `limit`;
/// otherwise why not ("connection refused", "no answer within 5 s",
/// "unknown host").
std::string tcp_probe(const std::string& host, std::uint16_t port, std::chrono::milliseconds limit);

} // namespace stenotype::fleet
