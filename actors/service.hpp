// actors/service.hpp -- components that serve the capture's data to others.
//
// A service (the query service; later others) is started with the capture
// and stopped when it stops, answers status like every component, and is
// watched by the supervisor -- but it is not part of the capture: its
// failure, or its hanging, is logged and shown in status, and the capture
// goes on without it. It is not restarted: its listening socket was made
// before the privileges were dropped and the seccomp lists forbid making
// another (restart stenotype to get it back).
#pragma once

#include <functional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/children.hpp"
#include "stenotype/options.hpp"
#include "stenotype/protocol.hpp"

namespace stenotype {

/// Every service's protocol.
using service_actor = caf::typed_actor<caf::reacts_to<stop_atom>>::extend_with<status_api>;

struct service_spec {
  role which; ///< its row in the supervisor's table, and its name in status
  /// Spawns it (the supervisor does, once the capture runs); `capture` is
  /// the capture's handle (for its status). It must end at stop_atom.
  std::function<status_api(caf::actor_system&, const capture_actor& capture)> spawn;
};

/// spawn_pipeline (stenotype/pipeline.hpp) with services beside the capture.
capture_actor spawn_pipeline(caf::actor_system& system, const capture_options& opts,
                             const std::function<void()>& before_start, std::vector<service_spec> services);

} // namespace stenotype
