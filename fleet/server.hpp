// fleet/server.hpp -- the body of stenotype's fleet-server process.
//
// An actor system of its own (middleman + OpenSSL) that publishes the
// sensor (fleet/sensor.hpp) on the fleet port with mutual TLS: a client
// must present a certificate signed by the CA, and checks ours. The
// process is forked by stenotype before any thread exists (main/fleet_server.hpp),
// so the capture's own actor system never shares a process with sockets
// strangers connect to.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace stenotype::fleet {

struct server_config {
  std::string host = "127.0.0.1"; ///< --fleet_address
  std::uint16_t port = 0;         ///< --fleet_port
  std::string ca_cert, cert, key; ///< paths OpenSSL opens at each connection (/proc/self/fd/N of memfds)
  std::string dir;                ///< the data directory
  std::string name;               ///< the sensor's name (host name)
  std::string cert_origin;        ///< for the log: where the certificates came from (--cert_path)
};

/// Publishes the sensor, calls `listening` (seccomp goes on there), then
/// waits for SIGTERM/SIGINT/SIGHUP (which the caller has blocked) and exits
/// the process: 0 then, 1 if the port cannot be published.
[[noreturn]] void serve(const server_config& config, const std::function<void()>& listening);

} // namespace stenotype::fleet
