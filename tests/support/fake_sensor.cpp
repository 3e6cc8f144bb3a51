// tests/support/fake_sensor.cpp -- a fleet sensor that misbehaves on purpose.
//
//   fake_sensor PORT CERT_DIR version|silent
//
// Publishes the fleet_sensor interface over TLS like stenotype --fleet_port
// (server_cert.pem, server_key.pem, ca_cert.pem of CERT_DIR), but
//   version: answers hello with another protocol version;
//   silent:  answers hello, never answers open.
// Prints "listening" on stderr, runs until killed.
#include <cstdio>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "stenotype/error_category.hpp"
#include "stenotype/fleet_protocol.hpp"

using namespace stenotype;

namespace {

struct fake_state {
  std::vector<caf::response_promise> never; // kept, never delivered
};

fleet_sensor::behavior_type fake(fleet_sensor::stateful_pointer<fake_state> self, bool other_version) {
  return {
    [=](fleet_hello_atom, std::uint32_t) -> caf::result<std::uint32_t, std::string> {
      return {other_version ? fleet_protocol_version + 1 : fleet_protocol_version, "fake"};
    },
    [=](fleet_open_atom, const fleet_query&, const fleet_sink&) -> caf::result<fleet_session> {
      auto rp = self->make_response_promise();
      self->state.never.push_back(rp);
      return caf::delegated<fleet_session>{};
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4)
    return 2;
  const std::string dir = argv[2], mode = argv[3];
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  add_fleet_message_types(cfg);
  add_error_category(cfg);
  cfg.openssl_certificate = dir + "/server_cert.pem";
  cfg.openssl_key = dir + "/server_key.pem";
  cfg.openssl_cafile = dir + "/ca_cert.pem";
  caf::actor_system system{cfg};
  auto sensor = system.spawn(fake, mode == "version");
  auto port = caf::openssl::publish(sensor, static_cast<std::uint16_t>(std::stoul(argv[1])), "127.0.0.1", true);
  if (!port) {
    std::fprintf(stderr, "cannot publish: %s\n", system.render(port.error()).c_str());
    return 1;
  }
  std::fprintf(stderr, "listening on %u\n", *port);
  for (;;)
    std::this_thread::sleep_for(std::chrono::hours(1));
}
