// actors/supervisor.cpp -- see supervisor.hpp.
//
// Failure policy, and why. Packets matter more than indexes: a reader or
// writer that fails loses packets, so the capture stops with that failure
// as its outcome (and the service manager restarts it; recovery makes files
// whole). An indexer that fails loses nothing that cannot be rebuilt -- the
// packets are on disk -- so it is replaced while the capture goes on. The
// replacement indexes the files whose start it missed from the packet
// files, once they are written; the supervisor repeats the recent
// `written` events to it because those sent to its predecessor died with it.
//
// The parts: which components there are and how each is doing
// (children.hpp), how often one may be replaced (restart_budget.hpp), and
// asking them all for status (status_collector.hpp). What is left here is
// the pipeline's wiring: who must hear of a component's end or its
// replacement.
#include "actors/supervisor.hpp"

#include <algorithm>
#include <memory>

#include <caf/all.hpp>

#include "actors/status_collector.hpp"
#include "stenotype/log.hpp"
#include "stenotype/status_keys.hpp"

namespace stenotype {
namespace {

using namespace std::chrono_literals;
using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

constexpr std::size_t recent_files_kept = 16;

// The services (actors/service.hpp) end with the capture: at its stop,
// or when its last essential component is down.
void stop_services(self_ptr self) {
  auto& st = self->state;
  if (st.services_stopped)
    return;
  st.services_stopped = true;
  for (const auto& [key, handle] : st.children.running_services())
    self->send(caf::actor_cast<service_actor>(handle), stop_atom::value);
}

void stop_readers(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  stop_services(self);
  for (auto& t : st.threads)
    self->send(t.reader, stop_atom::value);
}

// The outcome is final: everyone waiting hears it, and so does anyone who asks later.
void finish(self_ptr self) {
  auto& st = self->state;
  st.finished = true;
  for (auto& rp : st.waiters)
    st.outcome ? rp.deliver(st.outcome) : rp.deliver(caf::unit);
  st.waiters.clear();
}

// A failure that ends the capture: the first one is its outcome.
void fail_capture(self_ptr self, const std::string& who, errc code, const std::string& reason) {
  auto& st = self->state;
  if (!st.outcome)
    st.outcome = make_error(code, who + ": " + reason);
  stop_readers(self);
}

void record_failure(supervisor_state& st, const child_key& key, child& c, errc code, std::string reason) {
  c.last_error = std::move(reason);
  c.last_error_code = code;
  st.last_error = key.name() + ": " + c.last_error;
  st.last_error_code = code;
}

// --- the pipeline's wiring --------------------------------------------------------

// Spawns the replacement of thread i's indexer and points the thread's
// reader and writer at it. It hears again of the recent files, whose
// `written` may have died with its predecessor, and indexes from disk
// those that have no index.
status_api respawn_indexer(self_ptr self, std::size_t i) {
  auto& st = self->state;
  auto& t = st.threads[i];
  const int thread = static_cast<int>(i);
  t.indexer = spawn_indexer(self->system(), t.indexer_config);
  if (st.children.running({role::reader, thread}))
    self->send(t.reader, indexer_atom::value, t.indexer);
  for (const auto& ev : t.recent_files)
    self->send(t.indexer, written_atom::value, ev);
  if (st.children.running({role::writer, thread}))
    self->send(t.writer, indexer_atom::value, t.indexer);
  else
    self->send(t.indexer, stop_atom::value); // nothing more will be written: catch up, then quit
  return t.indexer;
}

// The retention actor deletes while files are written; once no writer is
// left (or about to be restarted) it makes a last check and quits.
void stop_retention_after_writers(self_ptr self) {
  auto& st = self->state;
  if (!st.retention || !st.children.running({role::retention, -1}))
    return;
  for (std::size_t i = 0; i < st.threads.size(); ++i)
    if (st.children.alive({role::writer, static_cast<int>(i)}))
      return;
  self->send(st.retention, stop_atom::value);
}

// An indexer that found its disk full: have the oldest file there deleted
// before its replacement writes again (a writer asks for itself).
void free_space_for(self_ptr self, const child_key& key, errc code) {
  auto& st = self->state;
  if (key.role != role::indexer || code != errc::no_space || !st.children.running({role::retention, -1}))
    return;
  self->request(st.retention, caf::infinite, free_atom::value,
                st.threads[static_cast<std::size_t>(key.thread)].indexer_config.directory)
    .then([](bool) {}, [](caf::error&) {});
}

// What a component's end means for the others of its thread.
void tell_neighbours(self_ptr self, const child_key& key, bool failed) {
  if (key.role == role::writer)
    stop_retention_after_writers(self);
  if (key.thread < 0)
    return;
  auto& t = self->state.threads[static_cast<std::size_t>(key.thread)];
  if (key.role == role::reader && failed) {
    // Its writer and indexer wait for an end of stream that will not come.
    self->send(t.writer, eos_atom::value);
    if (t.indexer)
      self->send(t.indexer, eos_atom::value);
  }
  if (key.role == role::writer && t.indexer) {
    // A writer that is gone sends no more `written`: its indexer must not wait.
    self->send(t.indexer, stop_atom::value);
  }
}

// --- restarts ---------------------------------------------------------------------

// Schedules the replacement of a failed component, if it has a restart
// policy, a restart can help and the budget allows. Returns whether it did.
// Until the replacement runs the component counts as alive (restarting),
// so that the supervisor does not quit in between.
bool schedule_restart(self_ptr self, const child_key& key, child& c, errc code) {
  if (!c.restart || !restart_can_help(code))
    return false;
  auto& budget = c.restart->budget;
  const auto delay = budget.admit(restart_budget::clock::now());
  if (!delay) {
    LOG_ERROR("%s failed %u times within %lld s; giving up", key.name().c_str(), budget.max() + 1,
              static_cast<long long>(budget.window().count()));
    return false;
  }
  c.state = child_state::restarting;
  LOG_WARN("%s failed (%s: %s); restarting it in %lld s", key.name().c_str(), to_string(code).data(),
           c.last_error.c_str(), static_cast<long long>(delay->count()));
  self->delayed_send(self, *delay, restart_atom::value, static_cast<int>(key.role), key.thread);
  return true;
}

void restart(self_ptr self, const child_key& key) {
  child& c = self->state.children.at(key);
  if (c.state != child_state::restarting || !c.restart)
    return;
  c.handle = c.restart->respawn();
  self->monitor(c.handle);
  c.state = child_state::running;
  ++c.restarts;
  LOG_WARN("%s restarted (restart %u)", key.name().c_str(), c.restarts);
}

// --- watchdog and status ------------------------------------------------------------

// A component that does not answer within the watchdog period: a hung disk
// or a stuck thread, which nothing inside the process can end.
void report_hung(self_ptr self, const child_key& key, std::uint32_t watchdog_sec) {
  auto& st = self->state;
  child& c = st.children.at(key);
  if (c.state != child_state::running)
    return;
  c.state = child_state::hung;
  record_failure(st, key, c, errc::hung_component, "made no progress for " + std::to_string(watchdog_sec) + " s");
  if (!c.essential) {
    LOG_ERROR("%s made no progress for %u s; the capture goes on without it", key.name().c_str(), watchdog_sec);
    return;
  }
  if (st.finished)
    return;
  // The outcome even after another failure: the capture cannot end while
  // a thread hangs, and the application must learn that now. The message
  // reads as a sentence: "writer-0 made no progress for 11 s".
  st.outcome = make_error(errc::hung_component, key.name() + " " + c.last_error);
  stop_readers(self);
  finish(self);
}

void watchdog_round(self_ptr self, std::uint32_t watchdog_sec) {
  collect_status(self, self->state.children.running_handles(), std::chrono::seconds(watchdog_sec),
                 [self, watchdog_sec](status_results&& r) {
                   for (const auto& key : r.silent)
                     report_hung(self, key, watchdog_sec);
                 });
  self->delayed_send(self, std::chrono::seconds(std::max(1u, watchdog_sec / 3)), watchdog_atom::value);
}

caf::settings capture_status(const supervisor_state& st) {
  caf::settings out;
  caf::put(out, status_key::files_written, static_cast<int64_t>(st.files_written));
  caf::put(out, status_key::stopping, st.stopping);
  if (!st.last_error.empty())
    caf::put(out, status_key::last_error, st.last_error);
  if (st.last_error_code)
    caf::put(out, status_key::last_error_code, std::string(to_string(*st.last_error_code)));
  out.emplace(std::string(status_key::actors), st.children.tree());
  return out;
}

// --- the down handler ---------------------------------------------------------------

// The failure's own words when an actor ended with a message (ours do),
// else CAF's rendering of the exit reason.
std::string reason_text(caf::actor_system& sys, const caf::error& reason) {
  auto text = message_of(reason);
  return text.empty() ? sys.render(reason) : text;
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  const bool failed = msg.reason && msg.reason != caf::exit_reason::normal;
  // Our actors end with an errc; anything else (an exception that is not
  // a std::exception, a kill) is a bug as far as we can tell.
  const errc code = code_of(msg.reason).value_or(errc::internal);
  // Our actors logged their failure themselves, with the file it concerns.
  const bool logged = code_of(msg.reason).has_value();
  auto* row = st.children.find(msg.source);
  if (!row) {
    if (failed) {
      LOG_ERROR("unknown actor failed: %s; stopping the capture", self->system().render(msg.reason).c_str());
      fail_capture(self, "unknown actor", code, reason_text(self->system(), msg.reason));
    }
  } else {
    const child_key key = row->first;
    child& c = row->second;
    c.state = failed ? child_state::failed : child_state::done;
    if (!c.essential) {
      if (failed) {
        record_failure(st, key, c, code, reason_text(self->system(), msg.reason));
        LOG_ERROR("%s failed: %s; the capture goes on without it", key.name().c_str(), c.last_error.c_str());
      }
    } else if (failed) {
      record_failure(st, key, c, code, reason_text(self->system(), msg.reason));
      if (schedule_restart(self, key, c, code)) {
        free_space_for(self, key, code);
        return;
      }
      LOG_ERROR("%s failed%s%s; stopping the capture", key.name().c_str(), logged ? "" : ": ",
                logged ? "" : self->system().render(msg.reason).c_str());
      fail_capture(self, key.name(), code, c.last_error);
    }
    if (c.essential)
      tell_neighbours(self, key, failed);
  }
  if (!st.children.essentials_down())
    return;
  stop_services(self);
  if (!st.children.running_services().empty())
    return; // they end at their stop
  if (!st.children.all_down() && !st.outcome) // a hung service: its thread cannot be ended
    st.outcome = make_error(errc::hung_component, "a service hung: " + st.last_error);
  if (!st.finished)
    finish(self);
  self->quit();
}

} // namespace

supervisor_actor::behavior_type supervisor(self_ptr self, std::vector<thread_actors> threads,
                                           retention_actor retention, std::vector<service_spec> services,
                                           std::uint32_t watchdog_sec) {
  auto& st = self->state;
  st.threads = std::move(threads);
  st.retention = std::move(retention);
  if (st.retention)
    st.children.add({role::retention, -1}, st.retention); // a failure stops the capture: it only fails on a bug
  for (std::size_t i = 0; i < st.threads.size(); ++i) {
    const auto& t = st.threads[i];
    const int thread = static_cast<int>(i);
    st.children.add({role::reader, thread}, t.reader);
    st.children.add({role::writer, thread}, t.writer);
    if (t.indexer)
      st.children.add({role::indexer, thread}, t.indexer,
                      restart_policy{restart_budget{max_indexer_restarts, restart_window, first_restart_delay},
                                     [self, i] { return respawn_indexer(self, i); }});
  }
  // Services last: they may ask the capture (this actor) for its status.
  const capture_actor capture = caf::actor_cast<capture_actor>(self);
  for (const auto& spec : services)
    st.children.add({spec.which, -1}, spec.spawn(self->system(), capture)).essential = false;
  for (const auto& [key, handle] : st.children.running_handles())
    self->monitor(handle);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  if (watchdog_sec > 0)
    self->delayed_send(self, std::chrono::seconds(std::max(1u, watchdog_sec / 3)), watchdog_atom::value);
  return {
    [self](stop_atom) { stop_readers(self); },
    [self](subscribe_atom, written_atom, const caf::actor& who) {
      for (auto& t : self->state.threads)
        self->send(t.writer, subscribe_atom::value, who);
    },
    [self](subscribe_atom, block_atom, const caf::actor& who, std::uint32_t max_leases) {
      for (auto& t : self->state.threads)
        self->send(t.reader, subscribe_atom::value, who, max_leases);
    },
    [self](restart_atom, int r, int thread) { restart(self, {static_cast<role>(r), thread}); },
    [self](written_atom, const file_event& ev) {
      auto& st = self->state;
      ++st.files_written;
      if (st.children.running({role::retention, -1}))
        self->send(st.retention, written_atom::value, ev);
      if (ev.thread < 0 || static_cast<std::size_t>(ev.thread) >= st.threads.size())
        return;
      auto& t = st.threads[static_cast<std::size_t>(ev.thread)];
      t.recent_files.push_back(ev);
      if (t.recent_files.size() > recent_files_kept)
        t.recent_files.pop_front();
      // A restarted indexer may have missed this from the writer (sent to its
      // predecessor just before the switch); repeats are harmless to it.
      if (t.indexer && st.children.at({role::indexer, ev.thread}).restarts > 0)
        self->send(t.indexer, written_atom::value, ev);
    },
    [self, watchdog_sec](watchdog_atom) { watchdog_round(self, watchdog_sec); },
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
      auto rp = self->make_response_promise<caf::settings>();
      collect_status(self, self->state.children.running_handles(), 2s,
                     [rp, out = capture_status(self->state)](status_results&& r) mutable {
                       for (auto& [key, s] : r.answers)
                         out.emplace(key.name(), std::move(s));
                       rp.deliver(std::move(out));
                     });
      return rp;
    },
  };
}

} // namespace stenotype
