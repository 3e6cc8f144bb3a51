// main/stenotype_ctl.cpp -- ask a running capture how it is doing.
//
//   stenotype --control_port=9120 ...          # the capture
//   stenotype-ctl --port=9120 stats            # a table per thread
//   stenotype-ctl --port=9120 actors           # the actor tree: state, restarts
//   stenotype-ctl --port=9120 json             # everything, as JSON
//   stenotype-ctl --port=9120 stop             # graceful stop (as SIGTERM)
//
// Talks to the capture (its public capture_actor interface) over CAF's
// network layer (same CAF version on both sides). Exit status: 0 answered, 1 no answer, 2 usage.
#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <algorithm>
#include <cstdio>

#include "stenotype/protocol.hpp"
#include "main/numeric_flags.hpp"
#include "stenotype/status_keys.hpp"
#include "main/parse_command_line.hpp"
#include "main/status_json.hpp"

using namespace stenotype;

namespace {

int64_t num(const caf::settings& s, const std::string& path) {
  auto v = caf::get_if<int64_t>(&s, path);
  return v ? *v : 0;
}

void table(const caf::settings& s) {
  using namespace status_key;
  std::printf("%-6s %12s %10s %8s %9s %10s %7s %7s %9s %9s\n", "thread", "packets", "drops", "drop%",
              "blocks", "MB", "files", "in-aio", "idx-lag", "indexed");
  for (int t = 0; caf::get_if(&s, component(reader, t)); ++t) {
    const std::string r = component(reader, t), w = component(writer, t), i = component(indexer, t);
    const auto kp = num(s, path(r, kernel_packets)), kd = num(s, path(r, kernel_drops));
    const bool indexing = caf::get_if(&s, i) != nullptr;
    std::printf("%-6d %12lld %10lld %7.3f%% %9lld %10.1f %7lld %7lld %9s %9s\n", t,
                static_cast<long long>(num(s, path(r, packets))), static_cast<long long>(kd),
                kp ? 100.0 * static_cast<double>(kd) / static_cast<double>(kp) : 0.0,
                static_cast<long long>(num(s, path(r, blocks))),
                static_cast<double>(num(s, path(w, bytes_written))) / (1 << 20),
                static_cast<long long>(num(s, path(w, files_written))),
                static_cast<long long>(num(s, path(w, aio_in_flight))),
                indexing ? std::to_string(std::max<int64_t>(0, num(s, path(r, blocks)) - num(s, path(i, next_block)))).c_str() : "-",
                indexing ? std::to_string(num(s, path(i, files_indexed))).c_str() : "-");
  }
}

void actors(const caf::settings& s) {
  std::printf("%-12s %-10s %8s %8s  %s\n", "actor", "state", "id", "restarts", "last error");
  auto tree = caf::get_if<caf::settings>(&s, status_key::actors);
  if (!tree)
    return;
  for (const auto& [name, v] : *tree) {
    auto a = caf::get_if<caf::settings>(&v);
    if (!a)
      continue;
    auto state = caf::get_if<std::string>(a, status_key::state);
    auto err = caf::get_if<std::string>(a, status_key::last_error);
    std::printf("%-12s %-10s %8lld %8lld  %s\n", std::string(name).c_str(), state ? state->c_str() : "?",
                static_cast<long long>(num(*a, std::string(status_key::id))),
                static_cast<long long>(num(*a, std::string(status_key::restarts))),
                err ? err->c_str() : "-");
  }
}

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", command;
  std::uint16_t port = 0;
  CLI::App app{"stenotype-ctl - status of a running stenotype (started with --control_port)", "stenotype-ctl"};
  app.add_option("--host", host, "Where the capture runs")->capture_default_str();
  app.add_option("--port", port, "Its --control_port")
    ->transform(decimal_in(std::uint16_t{1}, std::uint16_t{65535}))->required();
  app.add_option("command", command, "stats | actors | json | stop")->required()
    ->check(CLI::IsMember({"stats", "actors", "json", "stop"}));
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenotype-ctl"); rc >= 0)
    return rc;
  caf::actor_system_config cfg;
  add_error_category(cfg);
  cfg.load<caf::io::middleman>();
  cfg.add_message_type<file_event>("stenotype::file_event");
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  auto capture = caf::io::remote_actor<capture_actor>(sys, host, port);
  if (!capture) {
    std::fprintf(stderr, "stenotype-ctl: error: no capture at %s:%u: %s\n", host.c_str(), port,
                 sys.render(capture.error()).c_str());
    return 1;
  }
  caf::scoped_actor self{sys};
  if (command == "stop") {
    self->send(*capture, stop_atom::value);
    // A round trip after it makes sure the stop left before we exit (the
    // capture sees messages from one sender in order).
    int rc = 1;
    self->request(*capture, std::chrono::seconds(5), status_atom::value)
      .receive([&](const caf::settings&) { rc = 0; },
               [&](const caf::error& e) {
                 std::fprintf(stderr, "stenotype-ctl: error: no answer: %s\n", sys.render(e).c_str());
               });
    if (rc == 0)
      std::printf("stop requested\n");
    return rc;
  }
  int rc = 1;
  self->request(*capture, std::chrono::seconds(5), status_atom::value)
    .receive(
      [&](const caf::settings& s) {
        if (command == "json") {
          std::printf("%s\n", to_json(s).c_str());
        } else if (command == "actors") {
          actors(s);
        } else {
          table(s);
        }
        rc = 0;
      },
      [&](const caf::error& e) {
        std::fprintf(stderr, "stenotype-ctl: error: no answer: %s\n", sys.render(e).c_str());
      });
  return rc;
}
