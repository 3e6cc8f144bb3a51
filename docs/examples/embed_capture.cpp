// docs/examples/embed_capture.cpp -- a CAF application embedding the capture.
//
//   embed_capture IFACE DIR SECONDS
//
// Spawns the pipeline into its own actor_system, subscribes an actor of its
// own to "file written" events, stops the capture after SECONDS and reports
// what it saw. This is the whole public API: stenotype/pipeline.hpp,
// stenotype/protocol.hpp, stenotype/options.hpp.
#include <caf/all.hpp>
#include <cstdio>
#include <string>

#include "stenotype/pipeline.hpp"

using namespace stenotype;

namespace {

// Our own actor: counts the packet files the capture completes.
struct watcher_state {
  int files = 0;
  std::uint64_t bytes = 0;
};

caf::behavior watcher(caf::stateful_actor<watcher_state>* self) {
  return {
    [=](written_atom, const file_event& ev) {
      ++self->state.files;
      self->state.bytes += ev.bytes;
      std::printf("event: thread %d wrote %s (%llu bytes, %llu blocks)\n", ev.thread, ev.path.c_str(),
                  static_cast<unsigned long long>(ev.bytes), static_cast<unsigned long long>(ev.blocks));
    },
    [=](status_atom) { return self->state.files; },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: embed_capture IFACE DIR SECONDS\n");
    return 2;
  }
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};

  capture_options opts;
  opts.iface = argv[1];
  opts.dir = argv[2];
  opts.blocks = 64;
  opts.blocksize_kb = 64;
  opts.aiops = 8;
  opts.blockage_sec = 1;
  opts.fileage_sec = 1;
  opts.seccomp = "none"; // an embedding application decides on its own sandbox
  pipeline p;
  try {
    p = spawn_pipeline(system, opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_capture: %s\n", e.what());
    return 1;
  }
  auto w = system.spawn(watcher);
  for (auto& writer : p.writers)
    caf::anon_send(writer, subscribe_atom::value, w);

  caf::scoped_actor self{system};
  self->monitor(p.supervisor);
  self->delayed_send(p.supervisor, std::chrono::seconds(std::stoi(argv[3])), stop_atom::value);
  int outcome = 1;
  self->request(p.supervisor, caf::infinite, wait_atom::value)
    .receive([&](int rc) { outcome = rc; }, [](const caf::error&) {});
  int files = 0;
  self->request(w, std::chrono::seconds(2), status_atom::value)
    .receive([&](int n) { files = n; }, [](const caf::error&) {});
  std::printf("capture ended with %d; %d file(s) seen through events\n", outcome, files);
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  return outcome;
}
