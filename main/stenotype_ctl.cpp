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
#include <ctime>
#include <string_view>
#include <vector>

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

// "3d 4h", "2h 5m", "40s": how far back the oldest packet is.
std::string age_text(int64_t seconds) {
  if (seconds < 0)
    seconds = 0;
  char buf[32];
  if (seconds >= 86400)
    std::snprintf(buf, sizeof buf, "%lldd %lldh", static_cast<long long>(seconds / 86400),
                  static_cast<long long>(seconds % 86400 / 3600));
  else if (seconds >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh %lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
  return buf;
}

// The query service (--query_port), when there is one: one line.
void query_service_line(const caf::settings& s) {
  using namespace status_key;
  const auto found = caf::get_if<caf::settings>(&s, query_service);
  if (!found)
    return;
  const caf::settings& q = *found;
  const auto where = caf::get_if<std::string>(&q, std::string(listening));
  auto n = [&](std::string_view key) { return static_cast<long long>(num(q, std::string(key))); };
  std::printf("\nquery service on %s: %lld/%lld running; %lld answered (%lld complete, %lld cancelled, "
              "%lld incomplete), %lld packets; refused: %lld busy, %lld bad requests, %lld TLS\n",
              where ? where->c_str() : "?", n(queries_running), n(max_running), n(queries), n(queries_complete),
              n(queries_cancelled), n(queries_incomplete), n(packets_sent), n(refused_busy), n(bad_requests),
              n(tls_refused));
}

// The retention horizon: what is kept per thread, since when, and what went.
void retention_table(const caf::settings& s) {
  using namespace status_key;
  const auto found = caf::get_if<caf::settings>(&s, retention);
  if (!found)
    return;
  const caf::settings* r = &*found;
  std::vector<int> threads;
  const std::string prefix = std::string(status_key::thread) + "-";
  for (const auto& [name, v] : *r)
    if (std::string n(name); n.rfind(prefix, 0) == 0 && caf::get_if<caf::settings>(&v))
      if (auto t = parse_decimal<int>(std::string_view(n).substr(prefix.size())))
        threads.push_back(*t);
  std::sort(threads.begin(), threads.end());
  std::printf("\n%-6s %10s %10s  %s\n", "thread", "files-kept", "MB-kept", "oldest packet");
  const auto now = static_cast<int64_t>(std::time(nullptr));
  for (int t : threads) {
    const std::string k = component(status_key::thread, t);
    std::string oldest = "-";
    if (auto first = caf::get_if<int64_t>(r, path(k, oldest_packet_time))) {
      char when[32];
      const std::time_t tt = static_cast<std::time_t>(*first);
      std::tm tm{};
      gmtime_r(&tt, &tm);
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      oldest = std::string(when) + " (" + age_text(now - *first) + " ago)";
    }
    std::printf("%-6d %10lld %10.1f  %s\n", t, static_cast<long long>(num(*r, path(k, files_kept))),
                static_cast<double>(num(*r, path(k, bytes_kept))) / (1 << 20), oldest.c_str());
  }
  const std::string d(files_deleted);
  const auto by_space = num(*r, path(d, free_space)), by_count = num(*r, path(d, file_count)),
             by_budget = num(*r, path(d, byte_budget));
  std::printf("deleted: %lld files, %.1f MB (free-space %lld, file-count %lld, byte-budget %lld)\n",
              static_cast<long long>(by_space + by_count + by_budget),
              static_cast<double>(num(*r, std::string(bytes_deleted))) / (1 << 20),
              static_cast<long long>(by_space), static_cast<long long>(by_count),
              static_cast<long long>(by_budget));
  const std::string l(limits);
  std::printf("limits: %lld%% free, %lld files per thread, %lld MB (0: off)", 
              static_cast<long long>(num(*r, path(l, disk_free_percentage))),
              static_cast<long long>(num(*r, path(l, max_directory_files))),
              static_cast<long long>(num(*r, path(l, max_data_mb))));
  const auto met = caf::get_if<bool>(r, std::string(limits_met));
  if (!met || *met) {
    std::printf("; held\n");
  } else {
    std::printf("; NOT held");
    if (auto below = caf::get_if<caf::config_value::list>(r, std::string(filesystems_below_line)))
      for (const auto& dir : *below)
        if (auto text = caf::get_if<std::string>(&dir))
          std::printf(" (%s below the line)", text->c_str());
    std::printf("\n");
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
          retention_table(s);
          query_service_line(s);
        }
        rc = 0;
      },
      [&](const caf::error& e) {
        std::fprintf(stderr, "stenotype-ctl: error: no answer: %s\n", sys.render(e).c_str());
      });
  return rc;
}
