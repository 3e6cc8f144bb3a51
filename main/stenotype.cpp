// main/stenotype.cpp -- the `stenotype` command: flags, signals, and the
// capture pipeline from the library, until stopped.
//
// Exit status: 0 after a clean stop (--count reached, SIGINT/SIGTERM), 1 when
// the capture failed (the log says why) or a component hung, 2 for a bad
// command line.
#include <atomic>
#include <csignal>
#include <pthread.h>
#include <cstdlib>
#include <cstdio>
#include <sys/stat.h>
#include <memory>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/query_service.hpp"
#include "actors/seccomp_policy.hpp"
#include "main/control.hpp"
#include "main/flags.hpp"
#include "main/fleet_server.hpp"
#include "main/metrics.hpp"
#include "main/parent_death.hpp"
#include "main/privileges.hpp"
#include "stenotype/log.hpp"
#include "stenotype/pipeline.hpp"

using namespace stenotype;

namespace {

log_level level_for(int verbosity) {
  if (verbosity < 0)
    return log_level::error;
  if (verbosity == 0)
    return log_level::warning;
  return verbosity == 1 ? log_level::info : log_level::debug;
}

// Every signal whose default action would end the process is decided on
// here, because a capture that dies without a flush loses the blocks it
// holds (docs/OPERATIONS.md, "Signals"):
// - SIGINT, SIGTERM, SIGHUP (the terminal or session went away), SIGPWR
//   (power failing: flush while we can), SIGXCPU (CPU limit reached): flush
//   and stop, exit 0; a second one exits at once.
// - SIGPIPE: ignored. Logging to a pipe whose reader ended (`-v | head`)
//   then fails with EPIPE, which costs a log line, not the capture.
// - SIGXFSZ: ignored, so that a write past RLIMIT_FSIZE fails with EFBIG
//   and the capture stops with an error naming the file.
// - SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGSTKFLT:
//   ignored (nothing here uses them; a stray `kill -USR1` must not cost
//   packets).
// The parent's exit sends SIGTERM (main/parent_death.hpp): stenographer's
// server never stops the capture it started, it just goes away.
// SIGQUIT keeps its default (a core dump, asked for deliberately), as do
// SIGKILL and the faults; start-up recovery deals with what those leave.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGPWR);
  sigaddset(&set, SIGXCPU);
  return set;
}

void ignore_harmless_signals() {
  for (int sig : {SIGPIPE, SIGXFSZ, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGSTKFLT})
    std::signal(sig, SIG_IGN);
}

} // namespace

int main(int argc, char** argv) {
  const pid_t parent = ::getppid(); // before anything can make us an orphan unnoticed
  auto flags = parse_flags(argc, argv);
  if (flags.exit_code) {
    if (*flags.exit_code == 0)
      std::fputs(flags.message.c_str(), stdout);
    else
      std::fprintf(stderr, "stenotype: error: %s\n", flags.message.c_str());
    return *flags.exit_code;
  }
  const capture_options& opts = flags.options;
  set_log_level(level_for(opts.verbosity));
  ::umask(077); // as stenotype: nothing we create is readable by others

  // Signals are taken by one thread with sigtimedwait, so block them before
  // any other thread (CAF's) exists and inherits the mask.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ignore_harmless_signals();

  // The fleet server is a process of its own, forked now: no thread exists yet.
  pid_t fleet = 0;
  if (flags.fleet_port) {
    try {
      fleet = start_fleet_server({flags.fleet_address, flags.fleet_port, flags.cert_path, opts.dir, opts.seccomp,
                                  opts.uid, opts.gid});
    } catch (const std::exception& e) {
      LOG_ERROR("%s", e.what());
      return 1;
    }
  }

  caf::actor_system_config cfg;
  add_error_category(cfg);
  // Readers, writers and indexers have threads of their own (detached); the
  // scheduler only runs the supervisor and short-lived requests.
  cfg.set("scheduler.max-threads", 2);
  // An idle capture should cost nothing (issue 18: <= 1 ms CPU a second).
  // CAF's work-stealing workers poll for jobs after each one -- 100 tries,
  // then 500 more with a 50 us sleep between -- and then wake every 10 ms
  // to look again. Here they run only the supervisor and a few short
  // requests a second: poll briefly, then sleep on the condition variable,
  // which a message sent to a sleeping worker signals at once (the timeout
  // only bounds how long a job parked in a busy worker's queue waits to be
  // stolen).
  cfg.set("work-stealing.aggressive-poll-attempts", 10);
  cfg.set("work-stealing.moderate-poll-attempts", 10);
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::seconds(1)});
  if (flags.control_port) {
    cfg.load<caf::io::middleman>(); // remote status for stenotype-ctl
    cfg.add_message_type<file_event>("stenotype::file_event");
  }
  caf::actor_system system{cfg};

  std::unique_ptr<metrics_exporter> metrics;
  capture_actor capture;
  auto control_target = std::make_shared<control_target_holder>();
  capture_actor proxy;
  try {
    if (flags.control_port) {
      // Listen before the seccomp filter forbids making sockets; the proxy
      // forwards to the supervisor once it exists.
      proxy = system.spawn(control_proxy, control_target);
      if (auto port = caf::io::publish(proxy, flags.control_port, flags.control_address.c_str(), true); !port)
        throw std::runtime_error("cannot listen on control port " + flags.control_address + ":"
                                 + std::to_string(flags.control_port) + ": " + system.render(port.error()));
    }
    if (flags.metrics_port)
      metrics = std::make_unique<metrics_exporter>(flags.metrics_address, flags.metrics_port,
                                                   opts.iface, opts.threads);
    // The query service's certificates and port, as root (its key may be
    // readable by root alone; the port may be below 1024).
    std::vector<service_spec> services;
    if (flags.query_port)
      services.push_back(query_service(open_query_endpoint(
        {flags.query_host, flags.query_port, flags.cert_path, opts.dir, flags.query_max_running, opts.seccomp})));
    const identity who = resolve_identity(opts.uid, opts.gid);
    const auto created = missing_directories(opts.dir);
    capture = spawn_pipeline(system, opts, [&] {
      hand_over_directories(opts, who, created);
      drop_privileges(who);
      stop_with_parent(parent); // after the drop, which clears it
      install_seccomp(seccomp_role::process, opts.seccomp,
                      metrics != nullptr || flags.control_port != 0 || flags.query_port != 0);
      if (who.change)
        LOG_INFO("running as user %s (uid %u, gid %u)", who.name.c_str(), who.uid, who.gid);
    }, std::move(services));
  } catch (const std::exception& e) {
    LOG_ERROR("%s", e.what());
    if (proxy)
      caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
    stop_fleet_server(fleet);
    return 1;
  }
  control_target->set(capture);
  LOG_INFO("capturing on %s into %s with %d thread(s)", opts.iface.c_str(), opts.dir.c_str(),
           opts.threads);

  std::atomic<bool> finished{false};
  std::thread signal_thread([&] {
    bool stopping = false;
    const timespec tick{0, 200 * 1000 * 1000};
    while (!finished) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (finished) // the capture ended; main woke us (below) to exit now
        break;
      if (sig <= 0)
        continue;
      if (stopping) {
        // A second signal: the operator wants out now. Unfinished files stay
        // hidden and are recovered at the next start.
        std::fprintf(stderr, "stenotype: second signal, exiting without flushing\n");
        std::_Exit(1);
      }
      stopping = true;
      LOG_INFO("signal %d: flushing and stopping", sig);
      caf::anon_send(capture, stop_atom::value);
    }
  });

  // Metrics: the supervisor's status, once a second, into the exporter.
  std::thread metrics_thread;
  if (metrics)
    metrics_thread = std::thread([&] {
      caf::scoped_actor self{system};
      while (!finished) {
        self->request(capture, std::chrono::seconds(2), status_atom::value)
          .receive([&](const caf::settings& s) { metrics->update(s); }, [](const caf::error&) {});
        for (int i = 0; i < 10 && !finished; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });

  int code = 1;
  {
    caf::scoped_actor self{system};
    self->request(capture, caf::infinite, wait_atom::value)
      .receive([&] { code = 0; },
               [&](const caf::error& err) {
                 const auto why = code_of(err);
                 if (why == errc::hung_component) {
                   // A hung thread cannot be ended, nor the actor system
                   // shut down around it: exit, and let the service manager
                   // restart the capture (recovery makes its files whole).
                   LOG_ERROR("watchdog: %s; exiting", message_of(err).c_str());
                   std::_Exit(1);
                 }
                 if (!why) // the capture's own failures were logged where they happened
                   LOG_ERROR("lost the supervisor: %s", system.render(err).c_str());
               });
  }
  finished = true;
  // Wake the signal thread instead of waiting out its tick: a stop is
  // measured from the signal to the exit (issue 18: within 1 s).
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  if (proxy) // published actors live until told: the system would wait for it forever
    caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
  signal_thread.join();
  if (metrics_thread.joinable())
    metrics_thread.join();
  // The fleet server's supervisor asked for SIGTERM at our exit (its
  // PR_SET_PDEATHSIG): no kill() or wait4() here, which seccomp forbids.
  return code;
}
