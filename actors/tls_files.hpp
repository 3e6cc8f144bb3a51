// actors/tls_files.hpp -- the certificate files of stenographer's CertPath.
//
// Google stenographer's server and its clients share one directory
// (`stenokeys` makes it; Debian: /etc/stenographer/certs):
//   ca_cert.pem                       the CA; a client must present a certificate it signed
//   server_cert.pem, server_key.pem   the server's (ours, with --query_port)
//   client_cert.pem, client_key.pem   the clients' (stenoread, curl)
// The query service and the fleet port take the server's three from
// --cert_path; stenoread --sensor the client's. They are checked and read before the
// privileges are dropped: stenokeys makes server_key.pem readable by its
// owner only.
#pragma once

#include <string>

namespace stenotype {

struct tls_files {
  std::string ca_cert;     ///< DIR/ca_cert.pem
  std::string server_cert; ///< DIR/server_cert.pem
  std::string server_key;  ///< DIR/server_key.pem
};

/// A client's (stenoread --sensor, a fleet query's TLS).
struct client_tls_files {
  std::string ca_cert;     ///< DIR/ca_cert.pem: the sensors' certificates must be signed by it
  std::string client_cert; ///< DIR/client_cert.pem
  std::string client_key;  ///< DIR/client_key.pem
};

/// stenographer's default CertPath.
inline constexpr const char* default_cert_path = "/etc/stenographer/certs";

/// The server's files in `cert_path`, each checked to be a readable
/// regular file. Throws stenotype::failure (not_found, permission,
/// bad_option) with one line naming the file, e.g. "--cert_path=/etc/x:
/// cannot read ca_cert.pem: No such file or directory (stenokeys makes
/// these files)".
tls_files find_tls_files(const std::string& cert_path);

/// The client's files in `cert_path`, checked the same way.
client_tls_files find_client_tls_files(const std::string& cert_path);

} // namespace stenotype
