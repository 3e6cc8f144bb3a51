// actors/retention.cpp -- deleting the oldest files, off the capture's threads.
//
// The loop sleeps in the mailbox until the next periodic check; a `written`
// event makes the next check due as soon as the mailbox is empty, so a
// burst of rotations (several threads) costs one scan. A check that has
// much to delete (a limit lowered across a restart) stops after about a
// second and resumes after serving the mailbox: stop, status and a
// writer's free request never wait behind thousands of deletions.
#include "actors/retention.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/end_with_failure.hpp"
#include "actors/seccomp_policy.hpp"
#include "actors/thread_setup.hpp"
#include "store/retention.hpp"
#include "stenotype/log.hpp"
#include "stenotype/status_keys.hpp"

namespace stenotype {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto deletion_budget_per_check = 1s;

struct thread_figures {
  std::uint64_t files = 0, bytes = 0;
  std::uint64_t oldest_id = 0;
  std::int64_t oldest_second = 0; // first packet of the oldest file
};

struct retention_state {
  explicit retention_state(retention_init&& in)
    : init(std::move(in)), policy(init.limits), scanner(init.directory) {}

  retention_init init;
  store::retention_policy policy;
  store::data_dir_scanner scanner;
  bool check_due = true; // at start: a limit may have been lowered across a restart
  std::map<int, thread_figures> threads;
  std::array<std::uint64_t, 3> deleted{}; // by deletion_reason
  std::uint64_t bytes_deleted = 0, orphans_removed = 0, free_requests = 0, free_refused = 0, checks = 0,
                errors = 0, headroom_requests = 0;
  bool warned_nothing_left = false; // (once, until there is something to delete again)
  std::string last_error;
  std::vector<std::string> below_line; // directories on filesystems that stay below the line
  bool budget_unmet = false;

  void note_error(const std::string& what) {
    ++errors;
    if (what != last_error)
      LOG_WARN("%s", what.c_str());
    last_error = what;
  }

  // Deletes one file; false if it could not (logged, counted).
  bool remove(const store::retained_file& f, store::deletion_reason why) {
    try {
      const auto r = store::delete_file(init.directory, f.thread, f.id);
      if (!r.packet_removed) // someone else deleted it: not ours to count
        return true;
      ++deleted[static_cast<std::size_t>(why)];
      bytes_deleted += f.bytes();
      LOG_INFO("retention: deleted %s/PKT%d/%llu and its index (%s, %llu bytes)", init.directory.c_str(),
               f.thread, static_cast<unsigned long long>(f.id), store::to_string(why),
               static_cast<unsigned long long>(f.bytes()));
      return true;
    } catch (const std::exception& e) {
      note_error(e.what());
      return false;
    }
  }

  void remove_orphans(const store::data_dir_scan& scan) {
    for (int t : scan.orphan_index_threads) {
      try {
        for (auto id : store::remove_orphan_indexes(init.directory, t)) {
          ++orphans_removed;
          LOG_INFO("retention: removed %s/IDX%d/%llu (its packet file is gone)", init.directory.c_str(), t,
                   static_cast<unsigned long long>(id));
        }
      } catch (const std::exception& e) {
        note_error(e.what());
      }
    }
  }

  // Logs when a limit becomes unmeetable, and when it is met again.
  void note_limits(const store::retention_plan& plan, const store::data_dir_scan& scan) {
    std::vector<std::string> dirs;
    for (auto dev : plan.below_line)
      dirs.push_back(scan.directory_on.count(dev) ? scan.directory_on.at(dev) : "?");
    for (const auto& d : dirs)
      if (std::find(below_line.begin(), below_line.end(), d) == below_line.end())
        LOG_WARN("retention: the filesystem of %s stays below %u%% free: only other data and each thread's "
                 "newest file are left on it",
                 d.c_str(), policy.limits().disk_free_percentage);
    if (plan.byte_budget_unmet && !budget_unmet)
      LOG_WARN("retention: each thread's newest file alone exceeds --max_data_mb=%llu",
               static_cast<unsigned long long>(policy.limits().max_data_mb));
    if ((!below_line.empty() || budget_unmet) && plan.limits_met())
      LOG_INFO("retention: every limit holds again");
    below_line = std::move(dirs);
    budget_unmet = plan.byte_budget_unmet;
  }

  void update_figures(const std::vector<store::retained_file>& kept) {
    std::map<int, thread_figures> now;
    for (const auto& f : kept) {
      auto& t = now[f.thread];
      ++t.files;
      t.bytes += f.bytes();
      if (t.files == 1 || f.id < t.oldest_id)
        t.oldest_id = f.id;
    }
    for (auto& [thread, t] : now) {
      if (auto it = threads.find(thread); it != threads.end() && it->second.oldest_id == t.oldest_id) {
        t.oldest_second = it->second.oldest_second; // read once per oldest file
        continue;
      }
      const auto first = store::first_packet_second(io_path(thread, t.oldest_id));
      t.oldest_second = first ? *first : static_cast<std::int64_t>(t.oldest_id / 1'000'000);
    }
    threads = std::move(now);
  }

  std::string io_path(int thread, std::uint64_t id) const {
    return init.directory + "/PKT" + std::to_string(thread) + "/" + std::to_string(id);
  }

  // Scan, delete what the plan says (for at most the budget), remove
  // orphan indexes. True when it stopped early and more is to be deleted.
  bool check() {
    ++checks;
    store::data_dir_scan scan;
    try {
      scan = scanner.scan();
    } catch (const std::exception& e) {
      note_error(e.what());
      return false;
    }
    remove_orphans(scan);
    bool more = false;
    std::set<std::pair<int, std::uint64_t>> gone;
    if (policy.limits().any()) {
      const auto plan = policy.plan(scan.files, scan.filesystems);
      const auto deadline = steady::now() + deletion_budget_per_check;
      for (const auto& d : plan.deletions) {
        if (steady::now() >= deadline) {
          more = true;
          break;
        }
        if (remove(d.file, d.reason))
          gone.insert({d.file.thread, d.file.id});
      }
      if (!more)
        note_limits(plan, scan);
    }
    std::vector<store::retained_file> kept;
    for (const auto& f : scan.files)
      if (!gone.count({f.thread, f.id}))
        kept.push_back(f);
    update_figures(kept);
    return more;
  }

  enum class freed { one, nothing_left, failed };

  // Deletes the oldest complete file with a part on the filesystem of
  // `path`, each thread's newest included; `bytes`: what it gave back.
  freed delete_oldest_on(const std::string& path, std::uint64_t& bytes) {
    try {
      const auto scan = scanner.scan();
      const auto f = store::retention_policy::oldest_on_filesystem(scan.files, store::device_of(path));
      if (!f)
        return freed::nothing_left;
      if (!remove(*f, store::deletion_reason::free_space))
        return freed::failed;
      bytes = f->bytes();
      return freed::one;
    } catch (const std::exception& e) {
      note_error(e.what());
      return freed::failed;
    }
  }

  // A writer's disk is full: it waits for the answer.
  bool free_now(const std::string& path) {
    ++free_requests;
    check_due = true; // the figures change, and the other limits may need work too
    std::uint64_t bytes = 0;
    const auto r = policy.limits().any() ? delete_oldest_on(path, bytes) : freed::failed;
    if (r == freed::one)
      return true;
    if (r == freed::nothing_left)
      LOG_WARN("retention: no space left on the filesystem of %s, and nothing of ours left to delete there",
               path.c_str());
    ++free_refused;
    return false;
  }

  // A writer's disk is nearly full: make room before it is, the writer
  // going on meanwhile. What is freed is counted by what the deletions give
  // back, not by asking statvfs again (ext4 may show freed blocks only
  // after its journal commits), so a late request does not empty the disk.
  void keep_available(const std::string& path, std::uint64_t want) {
    ++headroom_requests;
    check_due = true;
    if (!policy.limits().any())
      return;
    std::uint64_t available = 0;
    try {
      available = store::filesystem_space_of(path).available;
    } catch (const std::exception& e) {
      note_error(e.what());
      return;
    }
    const auto deadline = steady::now() + deletion_budget_per_check; // many small files: the next step asks again
    for (std::uint64_t given_back = 0; available + given_back < want && steady::now() < deadline;) {
      std::uint64_t bytes = 0;
      const auto r = delete_oldest_on(path, bytes);
      if (r == freed::nothing_left && !warned_nothing_left)
        LOG_WARN("retention: the filesystem of %s is nearly full, and nothing of ours is left to delete there",
                 path.c_str());
      warned_nothing_left = r == freed::nothing_left;
      if (r != freed::one)
        return;
      given_back += bytes;
    }
  }

  caf::settings status() const {
    using namespace status_key;
    auto count = [](std::uint64_t n) { return static_cast<int64_t>(n); };
    caf::settings s;
    std::uint64_t files = 0, bytes = 0;
    for (const auto& [thread, t] : threads) {
      caf::settings ts;
      caf::put(ts, files_kept, count(t.files));
      caf::put(ts, bytes_kept, count(t.bytes));
      caf::put(ts, oldest_packet_time, t.oldest_second);
      s.emplace(component(status_key::thread, thread), std::move(ts));
      files += t.files;
      bytes += t.bytes;
    }
    caf::put(s, files_kept, count(files));
    caf::put(s, bytes_kept, count(bytes));
    caf::settings by_reason;
    for (auto r : store::all_deletion_reasons)
      caf::put(by_reason, store::to_string(r), count(deleted[static_cast<std::size_t>(r)]));
    s.emplace(std::string(files_deleted), std::move(by_reason));
    caf::put(s, status_key::bytes_deleted, count(bytes_deleted));
    caf::put(s, orphan_indexes_removed, count(orphans_removed));
    caf::put(s, status_key::free_requests, count(free_requests));
    caf::put(s, free_requests_refused, count(free_refused));
    caf::put(s, status_key::headroom_requests, count(headroom_requests));
    caf::put(s, status_key::checks, count(checks));
    caf::put(s, status_key::errors, count(errors));
    if (!last_error.empty())
      caf::put(s, status_key::last_error, last_error);
    caf::put(s, limits_met, below_line.empty() && !budget_unmet);
    caf::config_value::list dirs;
    for (const auto& d : below_line)
      dirs.emplace_back(d);
    caf::put(s, filesystems_below_line, std::move(dirs));
    const auto& l = policy.limits();
    caf::settings ls;
    caf::put(ls, disk_free_percentage, static_cast<int64_t>(l.disk_free_percentage));
    caf::put(ls, max_directory_files, count(l.max_directory_files));
    caf::put(ls, max_data_mb, count(l.max_data_mb));
    s.emplace(std::string(limits), std::move(ls));
    return s;
  }
};

} // namespace

void retention_main(caf::blocking_actor* self, retention_init init) {
  name_current_thread("steno-retain");
  set_current_thread_idle_io_priority(); // nice: inherited, the operator's choice
  try {
    retention_state st{std::move(init)};
    install_seccomp(seccomp_role::retention, st.init.seccomp);
    auto next_check = steady::now();
    bool stopping = false;
    while (!stopping) {
      const auto now = steady::now();
      const auto wait = st.check_due ? 0ms
                                     : std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(next_check - now));
      bool idle = false;
      self->receive(
        [&](written_atom, const file_event&) { st.check_due = true; },
        [&](free_atom, const std::string& path) { return st.free_now(path); },
        [&](free_atom, const std::string& path, std::uint64_t bytes) { st.keep_available(path, bytes); },
        [&](status_atom) { return st.status(); },
        [&](stop_atom) { stopping = true; },
        caf::after(wait) >> [&] { idle = true; });
      if (stopping) {
        // The writers are gone: their last files hold to the limits too.
        if (st.check_due)
          st.check();
        break;
      }
      if (!idle)
        continue;
      if (st.check_due || steady::now() >= next_check) {
        st.check_due = st.check();
        next_check = steady::now() + st.init.check_interval;
      }
    }
  } catch (const std::exception& e) {
    // Its own errors are logged and retried; only a bug ends up here.
    end_with_failure(self, std::string(status_key::retention), e);
  }
}

retention_actor spawn_retention(caf::actor_system& system, const retention_init& init) {
  return caf::actor_cast<retention_actor>(system.spawn<caf::detached>(retention_main, init));
}

} // namespace stenotype
