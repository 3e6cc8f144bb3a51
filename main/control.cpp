#include "main/control.hpp"

#include <caf/all.hpp>

namespace stenotype {

supervisor_actor::behavior_type control_proxy(supervisor_actor::pointer self,
                                              std::shared_ptr<control_target_holder> target) {
  return {
    [=](stop_atom) {
      if (auto t = target->get())
        self->send(t, stop_atom::value);
    },
    [](written_atom, const file_event&) {},
    [](watchdog_atom) {},           // internal to the supervisor: not from outside
    [](indexer_atom, int) {},       // likewise
    [=](wait_atom) -> caf::result<void> {
      if (auto t = target->get())
        return self->delegate(t, wait_atom::value);
      return caf::make_error(caf::sec::runtime_error, "capture not started yet");
    },
    [=](status_atom) -> caf::result<caf::settings> {
      if (auto t = target->get())
        return self->delegate(t, status_atom::value);
      return caf::make_error(caf::sec::runtime_error, "capture not started yet");
    },
  };
}

} // namespace stenotype
