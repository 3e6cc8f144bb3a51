#include "main/control.hpp"

#include <caf/all.hpp>

#include "stenotype/log.hpp"

namespace stenotype {

capture_actor::behavior_type control_proxy(capture_actor::pointer self,
                                           std::shared_ptr<control_target_holder> target) {
  auto not_started = [] { return caf::make_error(caf::sec::runtime_error, "capture not started yet"); };
  return {
    [=](stop_atom) {
      if (auto t = target->get())
        self->send(t, stop_atom::value);
    },
    [=](wait_atom) -> caf::result<void> {
      if (auto t = target->get())
        return self->delegate(t, wait_atom::value);
      return not_started();
    },
    [=](status_atom) -> caf::result<caf::settings> {
      if (auto t = target->get())
        return self->delegate(t, status_atom::value);
      return not_started();
    },
    [=](subscribe_atom, written_atom, const caf::actor& who) {
      if (auto t = target->get())
        self->send(t, subscribe_atom::value, written_atom::value, who);
    },
    [=](subscribe_atom, block_atom, const caf::actor&, std::uint32_t) {
      // A block handle is ring memory: it cannot be sent to another process.
      LOG_WARN("control port: refused a block subscription (blocks are for actors in this process)");
    },
  };
}

} // namespace stenotype
