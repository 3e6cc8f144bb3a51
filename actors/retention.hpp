// actors/retention.hpp -- the retention actor: keeps the data directory
// within its limits by deleting the oldest complete files.
//
// One per capture (not per thread). A detached blocking actor, because
// unlinking a 4 GiB file on ext4 takes long and must never stall a writer
// or a reader: its thread runs at the inherited nice level (the operator's,
// usually 0) and at idle I/O priority. The decision is store::retention_policy,
// the file work io/retention.hpp.
//
// It checks -- scan, plan, delete, remove orphan indexes -- at start, at
// every (written_atom, file_event) (a rotation; a burst of them is one
// check), and every `check_interval` otherwise, so free space stays below
// the line for at most about one file's write.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include <caf/atom.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/settings.hpp>
#include <caf/typed_actor.hpp>

#include "store/retention_policy.hpp"
#include "stenotype/protocol.hpp"

namespace stenotype {

// Moves to stenotype/protocol.hpp when the pipeline is wired to it.
using free_atom = caf::atom_constant<caf::atom("free")>;

/// The retention actor's protocol.
using retention_actor = caf::typed_actor<
  // A packet file is complete (from a writer, as its subscriber, or forwarded
  // by the supervisor): check the limits now.
  caf::reacts_to<written_atom, file_event>,
  // ENOSPC on the filesystem holding this path (a writer's PKT<n>, an
  // indexer's IDX<n>): delete the oldest complete file there now, each
  // thread's newest included, and answer true -- retry the write; false:
  // nothing of ours is left there to delete (or retention is off, or the
  // deletion failed) -- fail as without retention. One file per request:
  // a retry that fails again asks again, so the exchange always ends.
  caf::replies_to<free_atom, std::string>::with<bool>,
  caf::reacts_to<stop_atom>, // quit (between two deletions)
  caf::replies_to<status_atom>::with<caf::settings>>;

struct retention_init {
  std::string directory;            ///< --dir: every PKT<n>/IDX<n> in it is managed
  store::retention_limits limits;      ///< all off: checks only report, free requests answer false
  std::chrono::milliseconds check_interval{5000};
  std::string seccomp = "none";     ///< --seccomp mode for this thread (see retention_syscalls)
  std::shared_ptr<const void> directory_locks; ///< held while this actor may delete
};

/// Body of the detached retention actor (spawn<caf::detached>(retention_main,
/// init), then actor_cast<retention_actor>). Errors of a check or a deletion
/// are logged (once until the message changes), counted in status and
/// retried at the next check: the actor itself ends only at stop_atom.
///
/// Status (caf::settings): "files-kept", "bytes-kept"; per thread
/// "thread-<n>.files-kept", ".bytes-kept", ".oldest-packet-time" (seconds
/// since the epoch, first packet of the oldest file; absent without files),
/// "files-deleted.free-space" / ".file-count" / ".byte-budget",
/// "bytes-deleted", "orphan-indexes-removed", "free-requests",
/// "free-requests-refused", "checks", "errors", "last-error",
/// "limits-met" (false: a filesystem stays below the line or the budget is
/// exceeded by the newest files alone), "filesystems-below-line".
void retention_main(caf::blocking_actor* self, retention_init init);

/// Sets the calling thread's I/O priority class to idle (Linux: per thread).
/// Returns false (and logs) if the kernel refuses.
bool set_current_thread_idle_io_priority();

/// System calls the retention thread needs beyond seccomp_policy.cpp's
/// common list: listing and stat'ing the directories, statvfs, unlinking,
/// directory fsync, reading a file's first block header, and ioprio_set
/// (called before the role's own filter, so under the process-wide list).
/// For the seccomp role `retention` when it is wired in.
std::span<const char* const> retention_syscalls();

} // namespace stenotype
