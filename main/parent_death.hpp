// main/parent_death.hpp -- a capture stops when the process that started it
// goes away.
//
// Google stenographer's server starts stenotype and never stops it: when the
// server dies, its capture must not run on, orphaned, holding the data
// directory's locks against the next server's capture. Google's stenotype
// asks the kernel for SIGTERM then (PR_SET_PDEATHSIG); so does ours. SIGTERM,
// not SIGKILL: it flushes and publishes the open file like any stop, within
// --blockage_sec + 2 s (a second signal exits at once).
#pragma once

#include <sys/types.h>

namespace stenotype {

/// Asks for SIGTERM when the parent exits. Call it after the last change of
/// credentials (setresuid/setresgid and capability changes clear it), with
/// the parent's pid as seen at start: if the parent exited before the
/// request took effect, SIGTERM is sent now. Throws std::runtime_error when
/// the kernel refuses.
void stop_with_parent(pid_t parent_at_start);

} // namespace stenotype
