#include "actors/supervisor.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <caf/all.hpp>

#include "stenotype/log.hpp"

namespace stenotype {
namespace {

using namespace std::chrono_literals;

template <class Self>
void stop_readers(supervisor_state& st, Self* self) {
  if (st.stopping)
    return;
  st.stopping = true;
  for (auto& t : st.threads)
    self->send(t.reader, stop_atom::value);
}

// Which role and thread `who` has, for log lines.
std::string describe(const supervisor_state& st, const caf::actor_addr& who, int& thread,
                     bool& was_reader) {
  for (std::size_t i = 0; i < st.threads.size(); ++i) {
    const auto& t = st.threads[i];
    thread = static_cast<int>(i);
    was_reader = t.reader && t.reader.address() == who;
    if (was_reader)
      return "reader " + std::to_string(i);
    if (t.writer && t.writer.address() == who)
      return "writer " + std::to_string(i);
    if (t.indexer && t.indexer.address() == who)
      return "indexer " + std::to_string(i);
  }
  thread = -1;
  return "unknown actor";
}

} // namespace

supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::vector<thread_actors> threads, std::uint32_t watchdog_sec) {
  auto& st = self->state;
  if (watchdog_sec > 0)
    self->delayed_send(self, std::chrono::seconds(std::max(1u, watchdog_sec / 3)), watchdog_atom::value);
  st.threads = std::move(threads);
  for (auto& t : st.threads)
    for (auto a : {caf::actor_cast<caf::actor>(t.reader), caf::actor_cast<caf::actor>(t.writer),
                   caf::actor_cast<caf::actor>(t.indexer)})
      if (a) {
        self->monitor(a);
        ++st.alive;
      }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    int thread;
    bool was_reader;
    const auto who = describe(st, msg.source, thread, was_reader);
    if (msg.reason && msg.reason != caf::exit_reason::normal) {
      // An exception was logged by the actor itself, with the file it concerns.
      const bool logged = msg.reason == caf::exit_reason::unhandled_exception;
      LOG_ERROR("%s failed%s%s; stopping the capture", who.c_str(), logged ? "" : ": ",
                logged ? "" : self->system().render(msg.reason).c_str());
      st.exit_code = 1;
      if (was_reader && thread >= 0) {
        // Its writer and indexer wait for an end of stream that will not come.
        auto& t = st.threads[static_cast<std::size_t>(thread)];
        self->send(t.writer, eos_atom::value);
        if (t.indexer)
          self->send(t.indexer, eos_atom::value);
      }
      stop_readers(st, self);
    }
    if (thread >= 0 && !was_reader) {
      // A writer that is gone sends no more `written`: its indexer must not wait.
      auto& t = st.threads[static_cast<std::size_t>(thread)];
      if (t.writer && t.writer.address() == msg.source && t.indexer)
        self->send(t.indexer, stop_atom::value);
    }
    if (--st.alive == 0) {
      for (auto& rp : st.waiters)
        rp.deliver(st.exit_code);
      st.waiters.clear();
      self->quit();
    }
  });
  return {
    [self](stop_atom) { stop_readers(self->state, self); },
    [self](written_atom, const file_event&) { ++self->state.files_written; },
    [self, watchdog_sec](watchdog_atom) {
      for (std::size_t i = 0; i < self->state.threads.size(); ++i) {
        const auto& t = self->state.threads[i];
        const std::pair<const char*, status_api> parts[] = {
          {"reader", caf::actor_cast<status_api>(t.reader)},
          {"writer", caf::actor_cast<status_api>(t.writer)},
          {"indexer", caf::actor_cast<status_api>(t.indexer)}};
        for (const auto& [role, a] : parts) {
          if (!a)
            continue;
          const std::string who = std::string(role) + " " + std::to_string(i);
          self->request(a, std::chrono::seconds(watchdog_sec), status_atom::value)
            .then([](const caf::settings&) {},
                  [who, watchdog_sec](const caf::error& e) {
                    if (e != caf::sec::request_timeout)
                      return; // it ended; the down handler deals with that
                    // A thread that hangs cannot be stopped from here: exit,
                    // and let the service manager restart the capture.
                    LOG_ERROR("watchdog: %s made no progress for %u s; exiting", who.c_str(), watchdog_sec);
                    std::_Exit(1);
                  });
        }
      }
      self->delayed_send(self, std::chrono::seconds(std::max(1u, watchdog_sec / 3)), watchdog_atom::value);
    },
    [self](wait_atom) -> caf::result<int> {
      auto rp = self->make_response_promise<int>();
      self->state.waiters.emplace_back(rp);
      return rp;
    },
    [self](status_atom) -> caf::result<caf::settings> {
      // Ask everyone, answer when all replied (or timed out).
      auto rp = self->make_response_promise<caf::settings>();
      auto result = std::make_shared<caf::settings>();
      caf::put(*result, "files-written", static_cast<int64_t>(self->state.files_written));
      caf::put(*result, "stopping", self->state.stopping);
      std::vector<std::pair<std::string, status_api>> targets;
      for (std::size_t i = 0; i < self->state.threads.size(); ++i) {
        const auto& t = self->state.threads[i];
        targets.emplace_back("reader-" + std::to_string(i), caf::actor_cast<status_api>(t.reader));
        targets.emplace_back("writer-" + std::to_string(i), caf::actor_cast<status_api>(t.writer));
        if (t.indexer)
          targets.emplace_back("indexer-" + std::to_string(i), caf::actor_cast<status_api>(t.indexer));
      }
      auto pending = std::make_shared<std::size_t>(targets.size());
      for (auto& [key, target] : targets) {
        auto done = [rp, result, pending, k = key](caf::settings* s) mutable {
          if (s)
            caf::put(*result, k, std::move(*s));
          if (--*pending == 0)
            rp.deliver(std::move(*result));
        };
        self->request(target, 2s, status_atom::value)
          .then([done](caf::settings& s) mutable { done(&s); },
                [done](caf::error&) mutable { done(nullptr); });
      }
      return rp;
    },
  };
}

} // namespace stenotype
