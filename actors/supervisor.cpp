// actors/supervisor.cpp -- see supervisor.hpp.
//
// Failure policy, and why. Packets matter more than indexes: a reader or
// writer that fails loses packets, so the capture stops with a non-zero
// outcome (and the service manager restarts it; recovery makes files whole).
// An indexer that fails loses nothing that cannot be rebuilt -- the packets
// are on disk -- so it is replaced while the capture goes on. The
// replacement indexes the files whose start it missed from the packet files,
// once they are written; the supervisor repeats the recent `written` events
// to it because those sent to its predecessor died with it.
#include "actors/supervisor.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <caf/all.hpp>

#include "stenotype/log.hpp"

namespace stenotype {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t recent_files_kept = 16;

template <class Self>
void stop_readers(supervisor_state& st, Self* self) {
  if (st.stopping)
    return;
  st.stopping = true;
  for (auto& t : st.threads)
    self->send(t.reader, stop_atom::value);
}

enum class role { reader, writer, indexer, unknown };

struct who {
  role r = role::unknown;
  int thread = -1;
  std::string key; // "reader-0", ...
};

who identify(const supervisor_state& st, const caf::actor_addr& addr) {
  for (std::size_t i = 0; i < st.threads.size(); ++i) {
    const auto& t = st.threads[i];
    const auto n = std::to_string(i);
    const int thread = static_cast<int>(i);
    if (t.reader && t.reader.address() == addr)
      return {role::reader, thread, "reader-" + n};
    if (t.writer && t.writer.address() == addr)
      return {role::writer, thread, "writer-" + n};
    if (t.indexer && t.indexer.address() == addr)
      return {role::indexer, thread, "indexer-" + n};
  }
  return {};
}

template <class Self, class Handle>
void watch(Self* self, const std::string& key, const Handle& h) {
  self->monitor(h);
  ++self->state.alive;
  auto& rec = self->state.actors[key];
  rec.state = "running";
  rec.id = h.id();
}

// Schedules the replacement of the failed indexer of thread `i`, if the
// restart budget allows. Returns whether it did. Until the replacement runs
// it counts as alive, so that the supervisor does not quit in between.
bool schedule_indexer_restart(supervisor_actor::stateful_pointer<supervisor_state> self, std::size_t i) {
  auto& rec = self->state.actors["indexer-" + std::to_string(i)];
  const auto now = std::chrono::steady_clock::now();
  while (!rec.recent_restarts.empty() && now - rec.recent_restarts.front() > restart_window)
    rec.recent_restarts.pop_front();
  if (rec.recent_restarts.size() >= max_indexer_restarts) {
    LOG_ERROR("indexer %zu failed %u times within %lld s; giving up", i, max_indexer_restarts + 1,
              static_cast<long long>(restart_window.count()));
    return false;
  }
  const auto delay = first_restart_delay * (1 << rec.recent_restarts.size());
  rec.recent_restarts.push_back(now);
  rec.state = "restarting";
  ++self->state.alive;
  LOG_WARN("indexer %zu failed (%s); restarting it in %lld s", i, rec.last_error.c_str(),
           static_cast<long long>(delay.count()));
  self->delayed_send(self, delay, indexer_atom::value, static_cast<int>(i));
  return true;
}

// Spawns the replacement and points the thread's reader and writer at it.
// It hears again of the recent files, whose `written` may have died with its
// predecessor, and indexes from disk those that have no index.
void restart_indexer(supervisor_actor::stateful_pointer<supervisor_state> self, std::size_t i) {
  auto& st = self->state;
  auto& t = st.threads[i];
  const auto n = std::to_string(i);
  auto& rec = st.actors["indexer-" + n];
  --st.alive; // the placeholder; watch() counts the real one
  ++rec.restarts;
  t.indexer = caf::actor_cast<indexer_actor>(self->system().spawn<caf::detached>(indexer_main, t.indexer_config));
  watch(self, "indexer-" + n, t.indexer);
  if (st.actors["reader-" + n].state == "running")
    self->send(t.reader, indexer_atom::value, t.indexer);
  for (const auto& ev : t.recent_files)
    self->send(t.indexer, written_atom::value, ev);
  if (st.actors["writer-" + n].state == "running")
    self->send(t.writer, indexer_atom::value, t.indexer);
  else
    self->send(t.indexer, stop_atom::value); // nothing more will be written: catch up, then quit
  LOG_WARN("indexer %zu restarted (restart %u)", i, rec.restarts);
}

// The failure's own words when an actor ended with a message (ours do),
// else CAF's rendering of the exit reason.
std::string reason_text(caf::actor_system& sys, const caf::error& reason) {
  auto text = message_of(reason);
  return text.empty() ? sys.render(reason) : text;
}

// Whether replacing a failed component can help. A configuration it cannot
// accept stays unacceptable, and a hang is not an exit.
bool worth_restarting(errc code) {
  return code != errc::bad_option && code != errc::hung_component;
}

// The outcome is final: everyone waiting hears it, and so does anyone who asks later.
template <class Self>
void finish(Self* self) {
  auto& st = self->state;
  st.finished = true;
  for (auto& rp : st.waiters)
    st.outcome ? rp.deliver(st.outcome) : rp.deliver(caf::unit);
  st.waiters.clear();
}

// A component that does not answer within the watchdog period: a hung disk
// or a stuck thread, which nothing inside the process can end.
template <class Self>
void report_hung(Self* self, const std::string& key, const std::string& who, std::uint32_t watchdog_sec) {
  auto& st = self->state;
  auto& rec = st.actors[key];
  if (rec.state != "running")
    return;
  rec.state = "hung";
  rec.last_error = "made no progress for " + std::to_string(watchdog_sec) + " s";
  rec.last_error_code = errc::hung_component;
  if (st.finished)
    return;
  st.last_error = key + ": " + rec.last_error;
  st.outcome = make_error(errc::hung_component, who + " " + rec.last_error);
  stop_readers(st, self);
  finish(self);
}

caf::settings actor_tree(const supervisor_state& st) {
  caf::settings tree;
  for (const auto& [key, rec] : st.actors) {
    caf::settings a;
    caf::put(a, "state", rec.state);
    caf::put(a, "id", static_cast<int64_t>(rec.id));
    caf::put(a, "restarts", static_cast<int64_t>(rec.restarts));
    if (!rec.last_error.empty())
      caf::put(a, "last-error", rec.last_error);
    if (rec.last_error_code)
      caf::put(a, "last-error-code", std::string(to_string(*rec.last_error_code)));
    tree.emplace(key, std::move(a));
  }
  return tree;
}

} // namespace

supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::vector<thread_actors> threads, std::uint32_t watchdog_sec) {
  auto& st = self->state;
  if (watchdog_sec > 0)
    self->delayed_send(self, std::chrono::seconds(std::max(1u, watchdog_sec / 3)), watchdog_atom::value);
  st.threads = std::move(threads);
  for (std::size_t i = 0; i < st.threads.size(); ++i) {
    const auto& t = st.threads[i];
    const auto n = std::to_string(i);
    watch(self, "reader-" + n, t.reader);
    watch(self, "writer-" + n, t.writer);
    if (t.indexer)
      watch(self, "indexer-" + n, t.indexer);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    const who w = identify(st, msg.source);
    const bool failed = msg.reason && msg.reason != caf::exit_reason::normal;
    // Our actors end with an errc; anything else (an exception that is not
    // a std::exception, a kill) is a bug as far as we can tell.
    const errc code = code_of(msg.reason).value_or(errc::internal);
    const std::string reason = failed ? reason_text(self->system(), msg.reason) : std::string{};
    --st.alive;
    if (w.r != role::unknown) {
      auto& rec = st.actors[w.key];
      rec.state = failed ? "failed" : "done";
      if (failed) {
        rec.last_error = reason;
        rec.last_error_code = code;
        st.last_error = w.key + ": " + rec.last_error;
      }
    }
    const auto i = static_cast<std::size_t>(w.thread);
    if (failed && w.r == role::indexer && worth_restarting(code) && schedule_indexer_restart(self, i))
      return;
    if (failed) {
      // Our actors logged their failure themselves, with the file it concerns.
      const bool logged = code_of(msg.reason).has_value();
      LOG_ERROR("%s failed%s%s; stopping the capture", w.r == role::unknown ? "unknown actor" : w.key.c_str(),
                logged ? "" : ": ", logged ? "" : self->system().render(msg.reason).c_str());
      if (!st.outcome)
        st.outcome = make_error(code, (w.r == role::unknown ? "unknown actor" : w.key) + ": " + reason);
      if (w.r == role::reader) {
        // Its writer and indexer wait for an end of stream that will not come.
        auto& t = st.threads[i];
        self->send(t.writer, eos_atom::value);
        if (t.indexer)
          self->send(t.indexer, eos_atom::value);
      }
      stop_readers(st, self);
    }
    if (w.r == role::writer && st.threads[i].indexer) {
      // A writer that is gone sends no more `written`: its indexer must not wait.
      self->send(st.threads[i].indexer, stop_atom::value);
    }
    if (st.alive == 0) {
      if (!st.finished)
        finish(self);
      self->quit();
    }
  });
  return {
    [self](stop_atom) { stop_readers(self->state, self); },
    [self](subscribe_atom, written_atom, const caf::actor& who) {
      for (auto& t : self->state.threads)
        self->send(t.writer, subscribe_atom::value, who);
    },
    [self](subscribe_atom, block_atom, const caf::actor& who, std::uint32_t max_leases) {
      for (auto& t : self->state.threads)
        self->send(t.reader, subscribe_atom::value, who, max_leases);
    },
    [self](indexer_atom, int thread) { restart_indexer(self, static_cast<std::size_t>(thread)); },
    [self](written_atom, const file_event& ev) {
      auto& st = self->state;
      ++st.files_written;
      if (ev.thread < 0 || static_cast<std::size_t>(ev.thread) >= st.threads.size())
        return;
      auto& t = st.threads[static_cast<std::size_t>(ev.thread)];
      t.recent_files.push_back(ev);
      if (t.recent_files.size() > recent_files_kept)
        t.recent_files.pop_front();
      // A restarted indexer may have missed this from the writer (sent to its
      // predecessor just before the switch); repeats are harmless to it.
      if (t.indexer && st.actors["indexer-" + std::to_string(ev.thread)].restarts > 0)
        self->send(t.indexer, written_atom::value, ev);
    },
    [self, watchdog_sec](watchdog_atom) {
      for (std::size_t i = 0; i < self->state.threads.size(); ++i) {
        const auto& t = self->state.threads[i];
        const std::pair<const char*, status_api> parts[] = {
          {"reader", status_api{t.reader}},
          {"writer", status_api{t.writer}},
          {"indexer", status_api{t.indexer}}};
        for (const auto& [role, a] : parts) {
          if (!a)
            continue;
          const std::string who = std::string(role) + " " + std::to_string(i);
          const std::string key = std::string(role) + "-" + std::to_string(i);
          self->request(a, std::chrono::seconds(watchdog_sec), status_atom::value)
            .then([](const caf::settings&) {},
                  [self, key, who, watchdog_sec](const caf::error& e) {
                    if (e != caf::sec::request_timeout)
                      return; // it ended; the down handler deals with that
                    report_hung(self, key, who, watchdog_sec);
                  });
        }
      }
      self->delayed_send(self, std::chrono::seconds(std::max(1u, watchdog_sec / 3)), watchdog_atom::value);
    },
    [self](wait_atom) -> caf::result<void> {
      auto& st = self->state;
      if (st.finished) {
        if (st.outcome)
          return st.outcome;
        return caf::unit;
      }
      auto rp = self->make_response_promise();
      st.waiters.emplace_back(rp);
      return rp;
    },
    [self](status_atom) -> caf::result<caf::settings> {
      // Ask everyone still running, answer when all replied (or timed out).
      auto& st = self->state;
      auto rp = self->make_response_promise<caf::settings>();
      auto result = std::make_shared<caf::settings>();
      caf::put(*result, "files-written", static_cast<int64_t>(st.files_written));
      caf::put(*result, "stopping", st.stopping);
      if (!st.last_error.empty())
        caf::put(*result, "last-error", st.last_error);
      result->emplace("actors", actor_tree(st));
      std::vector<std::pair<std::string, status_api>> targets;
      for (std::size_t i = 0; i < st.threads.size(); ++i) {
        const auto& t = st.threads[i];
        const auto n = std::to_string(i);
        for (auto [key, target] : {std::pair{"reader-" + n, status_api{t.reader}},
                                   std::pair{"writer-" + n, status_api{t.writer}},
                                   std::pair{"indexer-" + n, status_api{t.indexer}}})
          if (target && st.actors[key].state == "running")
            targets.emplace_back(key, target);
      }
      if (targets.empty()) {
        rp.deliver(std::move(*result));
        return rp;
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
