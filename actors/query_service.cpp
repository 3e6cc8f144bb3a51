// actors/query_service.cpp -- see query_service.hpp.
#include "actors/query_service.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>

#include <caf/all.hpp>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "actors/end_with_failure.hpp"
#include "actors/log_throttle.hpp"
#include "actors/query_requests.hpp"
#include "actors/seccomp_policy.hpp"
#include "actors/thread_setup.hpp"
#include "stenotype/error.hpp"
#include "stenotype/log.hpp"
#include "stenotype/status_keys.hpp"

namespace stenotype {

class query_endpoint {
public:
  query_service_config config;
  tls_files files;
  std::unique_ptr<httplib::SSLServer> server;
  std::unique_ptr<query_requests> requests; // made by the service, on its thread
  std::atomic<std::uint64_t> tls_refused{0};
  log_throttle refusals;

  std::string address() const { return config.host + ":" + std::to_string(config.port); }
};

namespace {

using namespace std::chrono_literals;

// Threads of the server's pool beyond one per running query: for
// /debug/stats, refusals and idle keep-alive connections.
constexpr std::uint32_t spare_threads = 4;
constexpr int nice_level = 10; // queries yield the CPU to the capture

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (!e)
    return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string peer_of(const SSL* ssl) {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  const int fd = SSL_get_fd(ssl);
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&sa);
    ::inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

// One line per refused connection (throttled), whichever callback learns
// of it first: the certificate check knows why a certificate is refused,
// the alert we send knows the rest (no certificate, not TLS, ...).
void note_refused(SSL* ssl, const std::string& why);

// A connection freed before its handshake finished, with nothing said yet:
// not TLS at all (plain HTTP, noise), or a client that never finished.
void on_free(void* parent, void* logged, CRYPTO_EX_DATA*, int, long, void*) {
  auto* ssl = static_cast<SSL*>(parent);
  if (!logged && ssl && !SSL_is_init_finished(ssl) && SSL_get_SSL_CTX(ssl)
      && SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)))
    note_refused(ssl, "no TLS handshake (plain HTTP, not TLS at all, or a client that gave up)");
}

int logged_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, on_free);
  return index;
}

void note_refused(SSL* ssl, const std::string& why) {
  if (SSL_get_ex_data(ssl, logged_index()))
    return;
  SSL_set_ex_data(ssl, logged_index(), reinterpret_cast<void*>(1));
  auto* ep = static_cast<query_endpoint*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  ++ep->tls_refused;
  std::uint64_t left_out = 0;
  if (ep->refusals.admit(left_out))
    LOG_WARN("query service: refused a connection from %s: %s%s", peer_of(ssl).c_str(), why.c_str(),
             log_throttle::note(left_out).c_str());
}

int verify_client(int ok, X509_STORE_CTX* store) {
  if (!ok) {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    note_refused(ssl, std::string("client certificate: ")
                        + X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
  }
  return ok;
}

// The alert we send, in words (OpenSSL 3.0 has none for TLS 1.3's own).
std::string alert_text(int ret) {
  if ((ret & 0xff) == 116) // certificate_required
    return "the client sent no certificate";
  return std::string("TLS alert: ") + SSL_alert_desc_string_long(ret);
}

void watch_handshake(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE) && std::strcmp(SSL_alert_type_string(ret), "F") == 0)
    note_refused(const_cast<SSL*>(ssl), alert_text(ret));

}

// The server side of stenographer's TLS: our certificate and key, and
// only clients with a certificate signed by the CA (as Google's
// certs.ClientVerifyingTLSConfig: tls.RequireAndVerifyClientCert).
bool setup_tls(SSL_CTX& ctx, query_endpoint& ep, std::string& error) {
  const tls_files& f = ep.files;
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.3: AES-128-GCM first (every client offers it; ~30% less CPU per
  // byte than AES-256-GCM, the most of an export's encryption cost), the
  // others still accepted.
  SSL_CTX_set_ciphersuites(&ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  if (SSL_CTX_use_certificate_chain_file(&ctx, f.server_cert.c_str()) != 1)
    return error = "cannot use " + f.server_cert + ": " + openssl_error(), false;
  if (SSL_CTX_use_PrivateKey_file(&ctx, f.server_key.c_str(), SSL_FILETYPE_PEM) != 1)
    return error = "cannot use " + f.server_key + ": " + openssl_error(), false;
  if (SSL_CTX_check_private_key(&ctx) != 1)
    return error = f.server_key + " is not the key of " + f.server_cert, false;
  if (SSL_CTX_load_verify_locations(&ctx, f.ca_cert.c_str(), nullptr) != 1)
    return error = "cannot use " + f.ca_cert + ": " + openssl_error(), false;
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.ca_cert.c_str()))
    SSL_CTX_set_client_CA_list(&ctx, names);
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_client);
  SSL_CTX_set_info_callback(&ctx, watch_handshake);
  SSL_CTX_set_app_data(&ctx, &ep);
  (void)logged_index(); // registered before the first connection
  return true;
}

// The capture's numbers for /debug/stats, flattened to "a.b.c" names,
// and Google's oldest_timestamp (ns: the newest of the threads' oldest
// packets, from when on every thread has data).
void flatten(const caf::settings& s, const std::string& prefix, std::vector<std::pair<std::string, std::int64_t>>& out) {
  for (const auto& [key, value] : s) {
    const std::string name = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
    if (const auto* sub = caf::get_if<caf::settings>(&value))
      flatten(*sub, name, out);
    else if (const auto* i = caf::get_if<caf::config_value::integer>(&value))
      out.emplace_back(name, *i);
    else if (const auto* b = caf::get_if<caf::config_value::boolean>(&value))
      out.emplace_back(name, *b ? 1 : 0);
  }
}

std::vector<std::pair<std::string, std::int64_t>> capture_figures(caf::actor_system& system, const capture_actor& capture) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  caf::scoped_actor self{system};
  self->request(capture, 2s, status_atom::value)
    .receive([&](const caf::settings& s) { flatten(s, "", out); }, [](const caf::error&) {});
  std::int64_t oldest = 0;
  const std::string prefix = std::string(status_key::retention) + "." + std::string(status_key::thread) + "-";
  const std::string suffix = "." + std::string(status_key::oldest_packet_time);
  for (const auto& [name, v] : out)
    if (name.rfind(prefix, 0) == 0 && name.size() > suffix.size()
        && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      oldest = std::max(oldest, v * 1000000000);
  out.emplace_back("oldest_timestamp", oldest);
  return out;
}

caf::settings status_of(const query_endpoint& ep) {
  using namespace status_key;
  auto n = [](std::uint64_t v) { return static_cast<int64_t>(v); };
  caf::settings s;
  caf::put(s, listening, ep.address());
  caf::put(s, max_running, n(ep.config.max_running));
  caf::put(s, tls_refused, n(ep.tls_refused));
  if (ep.requests) {
    const auto& c = ep.requests->counters();
    caf::put(s, queries, n(c.queries));
    caf::put(s, queries_complete, n(c.queries_complete));
    caf::put(s, queries_cancelled, n(c.queries_cancelled));
    caf::put(s, queries_incomplete, n(c.queries_incomplete));
    caf::put(s, queries_running, n(c.running));
    caf::put(s, refused_busy, n(c.refused_busy));
    caf::put(s, bad_requests, n(c.bad_requests));
    caf::put(s, stats_requests, n(c.stats_requests));
    caf::put(s, packets_sent, n(c.packets_sent));
    caf::put(s, bytes_sent, n(c.bytes_sent));
  }
  return s;
}

void query_service_main(caf::blocking_actor* self, std::shared_ptr<query_endpoint> ep, capture_actor capture) {
  const std::string who(status_key::query_service);
  name_current_thread("steno-query");
  try {
    set_current_thread_nice(nice_level);
    install_seccomp(seccomp_role::query_service, ep->config.seccomp);
  } catch (const std::exception& e) {
    end_with_failure(self, who, e);
    return;
  }
  caf::actor_system& system = self->system();
  ep->requests = std::make_unique<query_requests>(query_request_config{
    ep->config.dir, ep->config.max_running, 8192, [&system, capture] { return capture_figures(system, capture); }});
  ep->requests->install(*ep->server);
  std::atomic<bool> ended{false};
  bool listened = true;
  std::thread listener([&] {
    listened = ep->server->listen_after_bind();
    ended = true;
  });
  LOG_INFO("query service: listening on https://%s/query (clients need a certificate signed by %s)",
           ep->address().c_str(), ep->files.ca_cert.c_str());
  bool stop = false;
  while (!stop && !ended)
    self->receive([&](stop_atom) { stop = true; }, [&](status_atom) { return status_of(*ep); },
                  caf::after(500ms) >> [] {});
  // stop() closes the listening socket only once the server runs.
  for (int i = 0; i < 100 && !ended && !ep->server->is_running(); ++i)
    std::this_thread::sleep_for(10ms);
  ep->requests->cancel_all();
  ep->server->stop();
  listener.join(); // (its pool ends with the last connection: queries end at their next packet)
  if (!stop) {
    const std::string why = "stopped accepting connections on " + ep->address()
                            + (listened ? "" : ": the listening socket failed");
    end_with_failure(self, who, failure(errc::io_error, why));
  }
}

} // namespace

std::shared_ptr<query_endpoint> open_query_endpoint(const query_service_config& config) {
  auto ep = std::make_shared<query_endpoint>();
  ep->config = config;
  ep->files = find_tls_files(config.cert_path);
  std::string error;
  ep->server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) { return setup_tls(ctx, *ep, error); });
  if (!ep->server->is_valid())
    throw failure(errc::bad_option, "--cert_path=" + config.cert_path + ": "
                                      + (error.empty() ? "cannot set up TLS: " + openssl_error() : error));
  const std::uint32_t threads = config.max_running + spare_threads;
  ep->server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  ep->server->set_keep_alive_timeout(2);      // an idle connection holds a pool thread: not for long
  ep->server->set_read_timeout(10, 0);         // a request (or handshake) that does not come
  ep->server->set_write_timeout(60, 0);        // a client that stopped reading for a minute is gone
  ep->server->set_tcp_nodelay(true);
  errno = 0;
  if (!ep->server->bind_to_port(config.host, config.port))
    throw failure(errc::bad_option, "cannot listen for queries on " + ep->address() + ": "
                                      + (errno ? std::strerror(errno) : "not an address of this host"));
  return ep;
}

service_spec query_service(std::shared_ptr<query_endpoint> endpoint) {
  return {role::query_service, [endpoint](caf::actor_system& system, const capture_actor& capture) {
            return caf::actor_cast<status_api>(system.spawn<caf::detached>(query_service_main, endpoint, capture));
          }};
}

} // namespace stenotype
