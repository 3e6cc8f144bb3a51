#include "fleet/server.hpp"

#include <csignal>
#include <cstdlib>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "fleet/sensor.hpp"
#include "stenotype/error_category.hpp"
#include "stenotype/log.hpp"

namespace stenotype::fleet {

void serve(const server_config& config, const std::function<void()>& listening) {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  add_fleet_message_types(cfg);
  add_error_category(cfg);
  cfg.set("scheduler.max-threads", 2); // sessions have threads of their own (detached)
  // Workers that sleep on a condition variable when idle: the default
  // work-stealing ones poll for a while, which with an actor system per
  // sensor (client) or beside the capture (server) burns the CPU others need.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  // Setting any of these turns on CAF's authentication: certificates
  // required and verified on both sides (SSL_VERIFY_PEER |
  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  cfg.openssl_certificate = config.cert;
  cfg.openssl_key = config.key;
  cfg.openssl_cafile = config.ca_cert;
  auto* system = new caf::actor_system(cfg); // never shut down: the process exits
  auto sensor = spawn_sensor(*system, {config.dir, config.name, fleet_max_sessions});
  auto port = caf::openssl::publish(sensor, config.port, config.host.c_str(), true);
  if (!port) {
    LOG_ERROR("fleet server: cannot listen on %s:%u: %s", config.host.c_str(), config.port,
              system->render(port.error()).c_str());
    std::_Exit(1);
  }
  LOG_INFO("fleet server: listening on %s:%u (TLS: clients need a certificate signed by the CA of %s)",
           config.host.c_str(), *port, config.cert_origin.c_str());
  try {
    listening();
  } catch (const std::exception& e) {
    LOG_ERROR("fleet server: %s", e.what());
    std::_Exit(1);
  }
  sigset_t stop;
  sigemptyset(&stop);
  for (int s : {SIGTERM, SIGINT, SIGHUP})
    sigaddset(&stop, s);
  int sig = 0;
  sigwait(&stop, &sig);
  // Sessions only read: nothing to flush. (Shutting the system down waits
  // on connections to clients that may be gone.)
  std::_Exit(0);
}

} // namespace stenotype::fleet
