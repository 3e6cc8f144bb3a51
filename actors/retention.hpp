// actors/retention.hpp -- the retention actor: keeps the data directory
// within its limits by deleting the oldest complete files.
//
// One per capture (not per thread). A detached blocking actor, because
// unlinking a 4 GiB file on ext4 takes long and must never stall a writer
// or a reader: its thread runs at the inherited nice level (the operator's,
// usually 0) and at idle I/O priority. The decision is store::retention_policy,
// the file work store/retention.hpp.
//
// It checks -- scan, plan, delete, remove orphan indexes -- at start, at
// every (written_atom, file_event) (a rotation; a burst of them is one
// check), and every `check_interval` otherwise, so free space stays below
// the line for at most about one file's write.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>

#include "actors/protocol.hpp"
#include "store/retention_policy.hpp"

namespace stenotype {

struct retention_init {
  std::string directory;            ///< --dir: every PKT<n>/IDX<n> in it is managed
  store::retention_limits limits;      ///< all off: checks only report, free requests answer false
  std::chrono::milliseconds check_interval{5000};
  std::string seccomp = "none";     ///< --seccomp mode for this thread (role `retention`)
  std::shared_ptr<const void> directory_locks; ///< held while this actor may delete
};

/// Body of the detached retention actor. Errors of a check or a deletion
/// are logged (once until the message changes), counted in status and
/// retried at the next check: the actor ends at stop_atom (after a last
/// check, if a file was written since the one before), or with an error
/// only on a bug (or a seccomp filter it cannot install).
///
/// Status (caf::settings, keys of stenotype/status_keys.hpp): "files-kept",
/// "bytes-kept"; per thread "thread-<n>.files-kept", ".bytes-kept",
/// ".oldest-packet-time" (seconds since the epoch, first packet of the
/// oldest file; absent without files), "files-deleted.free-space" /
/// ".file-count" / ".byte-budget", "bytes-deleted",
/// "orphan-indexes-removed", "free-requests", "free-requests-refused",
/// "checks", "errors", "last-error", "limits-met" (false: a filesystem
/// stays below the line or the budget is exceeded by the newest files
/// alone), "filesystems-below-line", "limits.disk-free-percentage" /
/// ".max-directory-files" / ".max-data-mb".
void retention_main(caf::blocking_actor* self, retention_init init);

/// Spawns the retention actor on a thread of its own.
retention_actor spawn_retention(caf::actor_system& system, const retention_init& init);

} // namespace stenotype
