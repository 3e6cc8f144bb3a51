#include "fleet/sensor.hpp"

#include <caf/all.hpp>

#include "fleet/session.hpp"
#include "query/query_parser.hpp"
#include "stenotype/error_category.hpp"

namespace stenotype::fleet {
namespace {

struct sensor_state {
  sensor_config config;
  std::shared_ptr<std::atomic<std::uint32_t>> running = std::make_shared<std::atomic<std::uint32_t>>(0);
  static inline const char* name = "fleet-sensor";
};

fleet_sensor::behavior_type sensor_behavior(fleet_sensor::stateful_pointer<sensor_state> self, sensor_config config) {
  self->state.config = std::move(config);
  return {
    [=](fleet_hello_atom, std::uint32_t) -> caf::result<std::uint32_t, std::string> {
      // The client compares; we answer ours whatever it speaks.
      return {fleet_protocol_version, self->state.config.name};
    },
    [=](fleet_open_atom, const fleet_query& fq, const fleet_sink& sink) -> caf::result<fleet_session> {
      auto& st = self->state;
      query::node_ptr q;
      try {
        q = query::parse_query(fq.text, fq.now_ns);
      } catch (const query::parse_error& e) {
        return make_error(errc::bad_query, e.describe());
      }
      if (!sink)
        return make_error(errc::bad_option, "no sink to send the answer to");
      if (st.running->load() >= st.config.max_sessions)
        return make_error(errc::in_use, "busy: " + std::to_string(st.config.max_sessions)
                                          + " fleet queries are running, the most a sensor answers at once");
      ++*st.running;
      return spawn_session(self->system(), st.config.dir, std::move(q), fq.open_files, sink, st.running);
    },
  };
}

} // namespace

fleet_sensor spawn_sensor(caf::actor_system& system, sensor_config config) {
  return system.spawn(sensor_behavior, std::move(config));
}

} // namespace stenotype::fleet
