// actors/children.hpp -- the supervisor's table of the components it watches.
//
// One row per component, keyed by role and capture thread (or by role
// alone, for a component of the whole capture), whatever the role: the
// status collection, the watchdog, restarts and the actor tree in `status`
// all work from this table, so a new kind of component is one more row.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/settings.hpp>

#include "actors/restart_budget.hpp"
#include "stenotype/error.hpp"
#include "stenotype/protocol.hpp"

namespace stenotype {

enum class role : std::uint8_t {
  reader, writer, indexer, retention,
  query_service, ///< a service (actors/service.hpp): not part of the capture
};

/// The role's name in the status tree and in logs ("reader").
std::string_view to_string(role r);

struct child_key {
  stenotype::role role = stenotype::role::reader;
  int thread = -1; ///< capture thread; -1: a component of the whole capture

  /// "reader-0", or the role alone for a component of the whole capture.
  std::string name() const;
  auto operator<=>(const child_key&) const = default;
};

enum class child_state : std::uint8_t {
  running,    ///< the current incarnation is alive
  restarting, ///< failed; its replacement is scheduled
  hung,       ///< alive, but did not answer the watchdog
  done,       ///< ended normally
  failed,     ///< ended with an error, not replaced
};

std::string_view to_string(child_state s);

/// How a component is replaced when it fails: within a budget, by calling
/// `respawn`, which spawns the replacement and wires it into the pipeline.
struct restart_policy {
  restart_budget budget;
  std::function<status_api()> respawn;
};

struct child {
  status_api handle;              ///< the current (or last) incarnation
  child_state state = child_state::running;
  std::uint32_t restarts = 0;
  std::string last_error;         ///< why the last incarnation ended, if it failed
  std::optional<errc> last_error_code;
  std::optional<restart_policy> restart; ///< nothing: a failure stops the capture (unless not essential)
  /// False for a service: its failure or hanging is logged, and the
  /// capture goes on without it.
  bool essential = true;
};

class child_table {
public:
  /// A running component.
  child& add(const child_key& key, status_api handle, std::optional<restart_policy> restart = {});

  /// The row of the component whose incarnation has this address, if any.
  std::pair<const child_key, child>* find(const caf::actor_addr& addr);
  child& at(const child_key& key) { return rows_.at(key); }
  bool running(const child_key& key) const;
  /// Running, hung, or restarting: not (yet) for good down.
  bool alive(const child_key& key) const;

  /// Every running component, for a round of status requests.
  std::vector<std::pair<child_key, status_api>> running_handles() const;

  /// True once no component is alive (running, hung) or about to be (restarting).
  bool all_down() const;
  /// True once no essential component is alive: the capture proper is over.
  bool essentials_down() const;
  /// The services still running (to be stopped when the capture stops).
  std::vector<std::pair<child_key, status_api>> running_services() const;

  /// The actor tree: `<name>.state`, `.id`, `.restarts`, `.last-error`, `.last-error-code`.
  caf::settings tree() const;

private:
  std::map<child_key, child> rows_;
};

} // namespace stenotype
