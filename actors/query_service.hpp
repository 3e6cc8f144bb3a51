// actors/query_service.hpp -- stenographer's HTTPS API, served by stenotype.
//
// `stenotype --query_port=N [--query_host=ADDR] --cert_path=DIR` answers
// Google stenographer's clients -- Debian's stenoread (curl with a client
// certificate), Security Onion's agent -- from the capture's own data
// directory: the requests of actors/query_requests.hpp over TLS, where a
// client must present a certificate signed by DIR/ca_cert.pem.
//
// In two steps, because of the process's hardening:
//  1. open_query_endpoint, as root before the privileges are dropped and
//     the seccomp lists installed: reads the certificates (stenokeys makes
//     server_key.pem readable by its owner only) and binds the port (which
//     may be below 1024; seccomp then forbids socket() and bind()).
//  2. The service: a detached actor (role `query-service` of the capture's
//     supervisor, actors/service.hpp) that installs its own seccomp list and
//     a lower CPU priority (nice 10) on its thread, then runs the server on
//     a thread of its own, whose pool threads -- one per connection, at most
//     max_running + 4 -- inherit both. The actor answers status and stop;
//     at stop, running queries are cancelled and their connections shut
//     down. A failure ends the service, never the capture.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/service.hpp"
#include "actors/tls_files.hpp"

namespace stenotype {

struct query_service_config {
  std::string host = "127.0.0.1";   ///< --query_host
  std::uint16_t port = 0;           ///< --query_port
  std::string cert_path = default_cert_path; ///< --cert_path
  std::string dir;                  ///< the data directory (--dir)
  std::uint32_t max_running = 16;   ///< --query_max_running: queries at once; more get 503
  std::string seccomp = "none";     ///< --seccomp mode for the service's threads
};

/// The listening TLS socket, ready to serve.
class query_endpoint;

/// Step 1. Throws stenotype::failure with one line: a missing or unreadable
/// certificate file (naming it), a key that does not fit its certificate,
/// an address that cannot be bound.
std::shared_ptr<query_endpoint> open_query_endpoint(const query_service_config& config);

/// Step 2: the service, for spawn_pipeline's list.
service_spec query_service(std::shared_ptr<query_endpoint> endpoint);

} // namespace stenotype
