// docs/examples/fleet_query.cpp -- a CAF application asking a remote sensor.
//
//   fleet_query HOST PORT CERT_DIR 'host 10.1.2.3 and after 1h ago'
//
// Connects to a sensor's fleet port (stenotype --fleet_port) over TLS with
// the client certificate of CERT_DIR (client_cert.pem, client_key.pem,
// ca_cert.pem, as stenokeys makes them), speaks the typed interface of
// stenotype/fleet_protocol.hpp -- hello, open, pull -- and prints, per
// capture thread, how many packets and bytes match, then the sensor's
// verdict. Exit status: 0 complete, 3 partial, 1 failed, 2 usage.
#include <cstdio>
#include <ctime>
#include <map>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "stenotype/error_category.hpp"
#include "stenotype/fleet_protocol.hpp"

using namespace stenotype;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: fleet_query HOST PORT CERT_DIR QUERY\n");
    return 2;
  }
  const std::string host = argv[1], dir = argv[3];
  const auto port = static_cast<std::uint16_t>(std::stoul(argv[2]));

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  add_fleet_message_types(cfg); // both sides register the same types
  add_error_category(cfg);
  cfg.openssl_certificate = dir + "/client_cert.pem"; // any of these turns on mutual authentication
  cfg.openssl_key = dir + "/client_key.pem";
  cfg.openssl_cafile = dir + "/ca_cert.pem";
  caf::actor_system system{cfg};

  auto sensor = caf::openssl::remote_actor<fleet_sensor>(system, host, port);
  if (!sensor) {
    std::fprintf(stderr, "fleet_query: cannot reach %s:%u: %s\n", host.c_str(), port, system.render(sensor.error()).c_str());
    return 1;
  }
  caf::scoped_actor self{system};
  int rc = 1;
  const auto limit = std::chrono::seconds(30);
  self->request(*sensor, limit, fleet_hello_atom::value, fleet_protocol_version)
    .receive([&](std::uint32_t version, const std::string& name) {
               std::printf("sensor %s speaks fleet protocol %u\n", name.c_str(), version);
               rc = version == fleet_protocol_version ? 0 : 1;
             },
             [&](const caf::error& e) { std::fprintf(stderr, "fleet_query: hello: %s\n", system.render(e).c_str()); });
  if (rc != 0)
    return 1;

  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  const fleet_query query{argv[4], std::uint64_t(now.tv_sec) * 1000000000u + std::uint64_t(now.tv_nsec), true};
  fleet_session session;
  self->request(*sensor, limit, fleet_open_atom::value, query, caf::actor_cast<fleet_sink>(self.ptr()))
    .receive([&](const fleet_session& s) { session = s; },
             [&](const caf::error& e) { std::fprintf(stderr, "fleet_query: refused: %s\n", system.render(e).c_str()); });
  if (!session)
    return 1;
  self->monitor(session);
  self->send(session, fleet_pull_atom::value, fleet_default_credit);

  std::map<std::uint16_t, std::pair<std::uint64_t, std::uint64_t>> per_thread; // packets, bytes
  bool done = false;
  rc = 1;
  while (!done)
    self->receive(
      [&](fleet_batch_atom, const fleet_batch& b) {
        fleet_batch_reader r{b.records};
        io::packet_ref p;
        std::uint16_t thread;
        while (r.next(p, thread)) {
          ++per_thread[thread].first;
          per_thread[thread].second += p.caplen;
        }
        for (const auto& w : b.warnings)
          std::fprintf(stderr, "fleet_query: warning: %s\n", w.c_str());
        if (b.last) {
          done = true;
          rc = b.status == 0 ? 0 : 3;
        } else {
          self->send(session, fleet_pull_atom::value, std::uint32_t{1}); // credit for the batch consumed
        }
      },
      [&](const caf::down_msg& d) {
        std::fprintf(stderr, "fleet_query: lost the session: %s\n", system.render(d.reason).c_str());
        done = true;
      },
      caf::after(limit) >> [&] {
        std::fprintf(stderr, "fleet_query: no answer within 30 s\n");
        self->send(session, fleet_cancel_atom::value);
        done = true;
      });
  std::uint64_t packets = 0;
  for (const auto& [thread, n] : per_thread) {
    std::printf("thread %u: %llu packets, %llu bytes\n", thread, (unsigned long long)n.first,
                (unsigned long long)n.second);
    packets += n.first;
  }
  std::printf("total: %llu packets\n", (unsigned long long)packets);
  std::fflush(stdout);
  // A CAF 0.17 actor system may hang in its shutdown when a remote peer
  // went away; nothing is left to flush.
  std::_Exit(rc);
}
