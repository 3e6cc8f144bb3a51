// actors/writer.cpp -- blocks from the reader to disk.
//
// One loop serves both the mailbox and the AIO completion queue: while writes
// are in flight it only peeks at the mailbox and then reaps completions with a
// short wait; when nothing is in flight it sleeps in the mailbox.
#include "actors/writer.hpp"

#include <chrono>
#include <stdexcept>

#include <caf/all.hpp>

#include "actors/end_with_failure.hpp"
#include "actors/protocol.hpp"
#include "actors/seccomp_policy.hpp"
#include "actors/thread_setup.hpp"
#include "stenotype/log.hpp"
#include "stenotype/status_keys.hpp"

namespace stenotype {
namespace {

using namespace std::chrono_literals;

// How long a writer waits for the retention actor to free space: one
// deletion (ext4 takes its time over a 4 GiB file) after at most one
// bounded check. Past that the disk counts as full.
constexpr auto free_space_patience = 60s;

// How long an idle writer (nothing in flight, no extent to publish) sleeps
// in its mailbox: every request reaches it as a message, which wakes it at
// once; the timeout only bounds how often an idle capture wakes up.
constexpr auto idle_wait = 1s;

struct writer_state {
  writer_state(caf::blocking_actor* self, writer_init&& in)
    : init(std::move(in)), writer(config_asking_retention(self)) {}

  // The writer's configuration, with a full disk sent to the retention actor.
  io::writer_config config_asking_retention(caf::blocking_actor* self) {
    io::writer_config c = init.config;
    if (init.retention) {
      c.reclaim_space = [this, self](const std::string& path) { return ask_retention(self, path); };
      c.want_space = [this, self](const std::string& path, std::uint64_t bytes) {
        LOG_DEBUG("thread %d: less than %llu bytes left for %s; retention makes room", init.thread,
                  static_cast<unsigned long long>(bytes), path.c_str());
        self->send(init.retention, free_atom::value, init.config.directory, bytes);
      };
    }
    return c;
  }

  // Blocks until the retention actor answers: true, it deleted a file.
  bool ask_retention(caf::blocking_actor* self, const std::string& path) {
    LOG_INFO("thread %d: the disk of %s is full; asking retention to delete the oldest file", init.thread,
             path.c_str());
    bool freed = false;
    self->request(init.retention, free_space_patience, free_atom::value, init.config.directory)
      .receive([&](bool ok) { freed = ok; },
               [&](caf::error& e) {
                 LOG_WARN("thread %d: retention did not free space: %s", init.thread,
                          self->system().render(e).c_str());
               });
    return freed;
  }

  writer_init init;
  io::block_writer writer;
  std::vector<caf::actor> subscribers; // told about every finished file
  bool done = false;

  void finish(caf::blocking_actor* self, std::uint64_t file_id) {
    auto f = writer.finish(file_id);
    if (!f)
      return;
    LOG_DEBUG("thread %d: wrote %s (%llu blocks)", init.thread, f->path.c_str(),
              static_cast<unsigned long long>(f->blocks));
    file_event ev{init.thread, f->id, f->path, f->bytes, f->blocks};
    if (init.indexer)
      self->send(init.indexer, written_atom::value, ev);
    for (auto& s : subscribers)
      self->send(s, written_atom::value, ev);
  }

  caf::settings status() const {
    const auto& s = writer.stats();
    caf::settings out;
    caf::put(out, status_key::thread, init.thread);
    caf::put(out, status_key::blocks_written, static_cast<int64_t>(s.blocks));
    caf::put(out, status_key::bytes_written, static_cast<int64_t>(s.bytes));
    caf::put(out, status_key::files_written, static_cast<int64_t>(s.files));
    caf::put(out, status_key::aio_in_flight, static_cast<int64_t>(s.in_flight));
    caf::put(out, status_key::aio_max_latency_us, static_cast<int64_t>(s.max_latency_us));
    caf::put(out, status_key::aio_writes_completed, static_cast<int64_t>(s.completed));
    caf::put(out, status_key::aio_latency_sum_us, static_cast<int64_t>(s.latency_sum_us));
    caf::put(out, status_key::aio_mean_latency_us, static_cast<int64_t>(s.completed ? s.latency_sum_us / s.completed : 0));
    caf::put(out, status_key::direct_io, writer.direct_io());
    caf::put(out, status_key::space_requests, static_cast<int64_t>(s.space_requests));
    caf::put(out, status_key::headroom_requests, static_cast<int64_t>(s.headroom_requests));
    caf::put(out, status_key::no_space_retries, static_cast<int64_t>(s.no_space_retries));
    return out;
  }
};

} // namespace

void writer_main(caf::blocking_actor* self, writer_init init) {
  const int thread = init.thread;
  name_current_thread(("steno-write" + std::to_string(thread)).c_str());
  pin_current_thread(init.thread);
  try {
    writer_state st{self, std::move(init)};
    install_seccomp(seccomp_role::writer, st.init.seccomp); // after io_setup and mkdir
    bool extent_pending = false;
    while (!st.done) {
      bool idle = false;
      const auto wait = st.writer.stats().in_flight > 0 ? 0ms
                        : extent_pending              ? st.init.config.extent_interval
                                                      : idle_wait;
      self->receive(
        [&](block_atom, std::uint64_t file, std::uint64_t offset, io::block_handle& block) {
          st.writer.write(file, offset, std::move(block));
        },
        [&](close_atom, std::uint64_t file) { st.finish(self, file); },
        [&](eos_atom) { st.done = true; },
        [&](subscribe_atom, caf::actor& who) { st.subscribers.push_back(std::move(who)); },
        [&](indexer_atom, indexer_actor& fresh) { st.init.indexer = std::move(fresh); },
        [&](status_atom) { return st.status(); },
        caf::after(wait) >> [&] { idle = true; });
      // Mailbox empty and writes in flight: wait a little for completions.
      st.writer.reap(idle ? 1ms : 0ms);
      extent_pending = st.writer.publish_extent();
    }
  } catch (const std::exception& e) {
    end_with_failure(self, status_key::component(status_key::writer, thread), e);
  }
}

} // namespace stenotype
