// main/privileges.hpp -- giving up root after the rings are open.
//
// Opening AF_PACKET sockets and locking ring memory needs root (or
// CAP_NET_RAW + CAP_IPC_LOCK); nothing after that does. So stenotype opens
// its rings, hands the directories it needs to the unprivileged user, and
// drops to it for good before any packet is handled (docs/OPERATIONS.md).
#pragma once

#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

#include "stenotype/options.hpp"

namespace stenotype {

struct identity {
  bool change = false; ///< false: stay as we are (not root, no --uid/--gid)
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;    ///< for messages
};

/// --uid/--gid (names or numbers) to an identity. As root with neither
/// given: nobody/nogroup, like stenotype. Without root (file capabilities)
/// they may only name the user and group stenotype runs as: no change.
/// Throws std::runtime_error for an unknown user or group, a number that is
/// not an id, or for another user or group without root.
identity resolve_identity(const std::string& uid, const std::string& gid);

/// What is wrong with --uid/--gid as written (one line), checked without
/// root so a command-line mistake is refused before anything is created: a
/// number must fit uid_t/gid_t and not be (uid_t)-1, which set*id() take as
/// "leave unchanged"; a name must exist. Nothing when both are usable.
std::optional<std::string> identity_problem(const std::string& uid, const std::string& gid);

/// The directories of `path` (itself and its parents) that do not exist yet,
/// outermost first: the ones the capture will create.
std::vector<std::string> missing_directories(const std::string& path);

/// Gives `who` the directories the capture writes into: DIR/PKT<n>,
/// DIR/IDX<n>, and those in `created` (DIR and parents it made); checks that
/// an existing DIR lets `who` through. Throws std::runtime_error naming the path.
void hand_over_directories(const capture_options& opts, const identity& who,
                           const std::vector<std::string>& created);

/// Drops to `who` for good: supplementary groups cleared, real, effective and
/// saved ids changed, no new privileges; then checks that root cannot be
/// regained. Without a change, clears any capabilities (setcap'd binary).
/// Throws std::runtime_error if any step fails.
void drop_privileges(const identity& who);

} // namespace stenotype
