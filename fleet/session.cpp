#include "fleet/session.hpp"

#include <caf/all.hpp>

#include "actors/thread_setup.hpp"
#include "io/read_problem.hpp"
#include "query/executor.hpp"

namespace stenotype::fleet {
namespace {

// A client that grants no credit for this long has forgotten the query.
constexpr auto idle_limit = std::chrono::minutes(5);

void session_body(caf::blocking_actor* self, std::string dir, query::node_ptr q, bool open_files, fleet_sink sink,
                  std::shared_ptr<std::atomic<std::uint32_t>> running) {
  struct release {
    std::shared_ptr<std::atomic<std::uint32_t>> n;
    ~release() { --*n; }
  } release_slot{running};
  set_current_thread_nice(19);
  name_current_thread("fleet-session");
  self->monitor(sink);
  std::uint32_t credit = 0;
  bool over = false; // cancelled, the sink gone, or idle

  // One message if there is one (wait == 0) or within `wait`.
  auto take = [&](caf::duration wait, bool& timed_out) {
    timed_out = false;
    self->receive([&](fleet_pull_atom, std::uint32_t n) { credit += n; },
                  [&](fleet_cancel_atom) { over = true; },
                  [&](const caf::down_msg&) { over = true; },
                  caf::after(wait) >> [&] { timed_out = true; });
  };
  auto send = [&](fleet_batch&& b) {
    bool empty = false;
    while (!over && !empty) // a cancel that came meanwhile
      take(caf::duration{std::chrono::seconds(0)}, empty);
    while (!over && credit == 0) {
      bool idle = false;
      take(caf::duration{idle_limit}, idle);
      over = over || idle;
    }
    if (over)
      return false;
    --credit;
    self->send(sink, fleet_batch_atom::value, std::move(b));
    return true;
  };

  fleet_batch batch;
  batch.records.reserve(fleet_batch_bytes + 65536 + fleet_record_header);
  int status = io::exit_status::incomplete;
  try {
    const auto stats = query::run_query(
      dir, q,
      [&](const io::packet_ref& p, int thread) {
        append_packet(batch, p, static_cast<std::uint16_t>(thread));
        if (batch.records.size() < fleet_batch_bytes)
          return true;
        if (!send(std::move(batch)))
          return false;
        batch = fleet_batch{};
        batch.records.reserve(fleet_batch_bytes + 65536 + fleet_record_header);
        return true;
      },
      [&](const io::problem& p) { batch.warnings.push_back(p.text); }, query::run_options{.open_files = open_files});
    status = stats.problems.exit_status();
  } catch (const std::exception& e) {
    batch.warnings.push_back(std::string("the query failed: ") + e.what());
  }
  if (over)
    return;
  batch.last = true;
  batch.status = status;
  send(std::move(batch));
}

} // namespace

fleet_session spawn_session(caf::actor_system& system, std::string dir, query::node_ptr q, bool open_files,
                            fleet_sink sink, std::shared_ptr<std::atomic<std::uint32_t>> running) {
  auto a = system.spawn<caf::detached>(session_body, std::move(dir), std::move(q), open_files, std::move(sink),
                                       std::move(running));
  return caf::actor_cast<fleet_session>(a);
}

} // namespace stenotype::fleet
