// fleet/sensor.hpp -- the actor a sensor publishes for fleet queries.
//
// Answers hello with fleet_protocol_version and its name, and open by
// starting a session (fleet/session.hpp) over its data directory: at most
// fleet_max_sessions at once (more are refused with errc::in_use, so a
// fleet of clients cannot stack up disk readers behind the capture), a
// query that does not parse refused with errc::bad_query.
#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "stenotype/fleet_protocol.hpp"

namespace stenotype::fleet {

struct sensor_config {
  std::string dir;  ///< the data directory queried
  std::string name; ///< answered to hello (the host name)
  std::uint32_t max_sessions = fleet_max_sessions;
};

fleet_sensor spawn_sensor(caf::actor_system& system, sensor_config config);

} // namespace stenotype::fleet
