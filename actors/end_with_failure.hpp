// actors/end_with_failure.hpp -- how every pipeline actor ends when it fails.
//
// One style for all: the actor logs what failed (naming the file or the
// interface), and the exception's code and message become the exit reason
// that the supervisor receives in its down message, where it decides from
// the code whether to restart the actor or to stop the capture.
#pragma once

#include <exception>
#include <string>

#include <caf/blocking_actor.hpp>

#include "stenotype/error_category.hpp"
#include "stenotype/log.hpp"

namespace stenotype {

/// Call from the actor's body, which returns afterwards.
inline void end_with_failure(caf::blocking_actor* self, const std::string& who, const std::exception& e) {
  LOG_ERROR("%s: %s", who.c_str(), e.what());
  self->fail_state(make_error(e));
}

} // namespace stenotype
