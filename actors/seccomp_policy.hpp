// actors/seccomp_policy.hpp -- system-call allow-lists, one per role.
//
// After start-up a capture needs few system calls, and none that a parser
// bug exploited by hostile traffic would want (socket, connect, execve,
// ptrace, ...). Each role's thread installs its own list; the stenotype
// process installs a wider one on all its threads (the union of the roles
// plus what CAF's and the main thread need). A thread's effective list is
// the intersection of both.
//
// Modes (--seccomp): none; trace = allow but log forbidden calls to the
// kernel log (SECCOMP_RET_LOG; stenotype's "trace" used ptrace, which
// without a tracer just failed the call); kill = kill the whole process
// (SECCOMP_RET_KILL_PROCESS: killing one thread would leave its actor
// vanished and the capture hung).
#pragma once

#include <string>

namespace stenotype {

enum class seccomp_role {
  process, ///< every thread of the stenotype process (main, CAF's, the roles)
  reader,  ///< ring polling, block hand-over
  writer,  ///< file creation, AIO, sync, rename
  indexer, ///< index building, RocksDB table writing
  retention, ///< listing, stat'ing and deleting the oldest files
  query_service, ///< answering queries: TLS on accepted connections, reading packet and index files
  fleet_server, ///< every thread of the fleet-server process: CAF's middleman over TLS, query sessions
};

/// Installs `role`'s allow-list on the calling thread (process: on all
/// threads of the process). `mode` is "none", "trace" or "kill". Throws
/// std::runtime_error if the filter cannot be installed.
/// `serves_http`: the process also runs endpoints (metrics, control port,
/// query service) whose threads accept and answer connections on already
/// listening sockets.
void install_seccomp(seccomp_role role, const std::string& mode, bool serves_http = false);

} // namespace stenotype
