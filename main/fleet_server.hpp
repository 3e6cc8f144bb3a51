// main/fleet_server.hpp -- `stenotype --fleet_port=N`: the sensor side of fleet queries.
//
// CAF and fork() do not mix (a forked child keeps only the forking thread
// of a multi-threaded parent), and the fleet port takes connections from
// the network: so stenotype forks, before any thread exists, a small
// single-threaded supervisor that
//  - drops to the capture's user (--uid/--gid), asks for SIGTERM when
//    stenotype exits (PR_SET_PDEATHSIG), and
//  - forks the fleet server (fleet/server.hpp: its own actor system,
//    seccomp role fleet_server) and restarts it when it dies, at most 5
//    times a minute.
// The certificate files are read here as root (stenokeys makes
// server_key.pem readable by root only) into memfds the children inherit;
// OpenSSL opens them as /proc/self/fd/N at each connection.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace stenotype {

struct fleet_server_flags {
  std::string host = "127.0.0.1"; ///< --fleet_address
  std::uint16_t port = 0;         ///< --fleet_port
  std::string cert_path;          ///< --cert_path
  std::string dir;                ///< --dir
  std::string seccomp = "kill";   ///< --seccomp
  std::string uid, gid;           ///< --uid/--gid: the capture's user
};

/// Call before any thread exists, with the stop signals blocked. Returns
/// the supervisor's pid. Throws stenotype::failure / std::runtime_error
/// (one line: a certificate file, the user) without forking.
pid_t start_fleet_server(const fleet_server_flags& flags);

/// SIGTERM to the supervisor (which stops the server), and reaps it.
void stop_fleet_server(pid_t supervisor);

} // namespace stenotype
