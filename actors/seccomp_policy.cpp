#include "actors/seccomp_policy.hpp"

#include <initializer_list>
#include <seccomp.h>
#include <stdexcept>

namespace stenotype {
namespace {

using list = std::initializer_list<const char*>;

// Every thread: memory, locks, thread exit, signals, time, logging to stderr.
const list common = {
  "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",         // malloc
  "futex", "futex_waitv", "sched_yield", "rseq",                    // CAF queues, std::mutex
  "exit", "rt_sigprocmask", "rt_sigreturn",                         // thread end, signal masks
  "clock_gettime", "gettimeofday", "nanosleep", "clock_nanosleep",  // clocks, short sleeps
  "getpid", "gettid", "restart_syscall",
  "write",                                                          // log lines on stderr
};

// The reader: poll the ring, read its statistics, swap the filter to drop
// all at stop and wait out the RCU grace period after it (membarrier);
// getsockname when the socket reports an error (is the device gone?);
// unmap/close the ring if it is the last owner.
const list reader = {"poll", "ppoll", "getsockopt", "setsockopt", "getsockname", "close", "membarrier"};

// The writer: create files (openat), AIO, preallocate, trim, sync, rename;
// with retention on, how much space is left after a preallocation (fstatfs);
// the open file's durable extent for fresh queries (pwrite64 of its sidecar,
// unlinkat when the file is complete).
const list writer = {"openat", "close", "io_submit", "io_getevents", "io_pgetevents", "io_destroy",
                     "fallocate", "ftruncate", "fsync", "fdatasync", "rename", "renameat",
                     "renameat2", "fstat", "newfstatat", "fstatfs", "pwrite64", "unlinkat"};

// The indexer: RocksDB's SstFileWriter (open, append, range sync, fsync,
// page-cache hints, file system block size via fstatfs/uname), our chmod
// and rename of the finished index and of each partial index of the open
// file (fresh queries), listing (getdents64), reading back (SstFileReader:
// pread, readahead; merged into the file's full index) and unlinking those
// parts; LevelDB's first Options (stenographer
// format) build its Env, which asks for RLIMIT_NOFILE once.
const list indexer = {"openat", "close", "read", "pread64", "readahead", "pwrite64", "lseek", "fstat",
                      "newfstatat", "statx", "fstatfs", "statfs", "fcntl", "fadvise64",
                      "fallocate", "ftruncate", "fsync", "fdatasync", "sync_file_range",
                      "rename", "renameat", "renameat2", "unlink", "unlinkat", "fchmod", "uname",
                      "getdents64", "prlimit64", "getrlimit"};

// Retention: list and stat the thread directories and their files, statvfs
// their filesystems, unlink and sync the directory, read a packet file's
// first block header (the oldest packet's time), and set its own idle I/O
// priority (before its own filter, so under the process-wide list).
const list retention = {"openat", "close", "getdents64", "fstat", "newfstatat", "statx", "fcntl",
                        "statfs", "fstatfs", "unlink", "unlinkat", "fsync", "read", "pread64",
                        "ioprio_set"};

// The rest of the process after start-up: CAF's scheduler threads, the main
// thread waiting for signals, spawning the actors' threads, and exit.
const list process_only = {"clone", "clone3", "set_robust_list", "exit_group", "tgkill",
                           "rt_sigaction", "rt_sigtimedwait", "sched_getaffinity",
                           "sched_setaffinity", "setpriority", "prctl", "getrandom",
                           "getdents64", "access", "faccessat", "faccessat2",
                           "mkdir", "mkdirat", "io_setup",  // the writer's set-up
                           "seccomp"}; // each role then narrows its own thread's list

// The metrics endpoint's threads (civetweb) and CAF's middleman (the control
// port): accept and answer on sockets bound before the filter; never create
// one or connect anywhere.
const list http = {"accept", "accept4", "recvfrom", "recvmsg", "read", "sendto", "sendmsg", "writev",
                   "readv", "shutdown", "getsockname", "getpeername", "setsockopt", "getsockopt",
                   "fcntl", "poll", "ppoll", "select", "pselect6", "close", "epoll_wait",
                   "epoll_pwait", "epoll_ctl", "pipe2", "eventfd2"};

// The query service (actors/query_service.hpp): its threads -- the
// listener and the pool it starts, one per connection -- accept, speak TLS
// (OpenSSL seeds from getrandom), and read packet files and indexes
// (our packet file reader, RocksDB's and LevelDB's: open, pread,
// readahead, hints, sizes), never
// write or delete one; long scans read with O_DIRECT through AIO
// (io/direct_reader.hpp), after a probe of the page cache (preadv2).
const list query_service = {"clone", "clone3", "set_robust_list", "getrandom", "openat", "close", "read",
                            "pread64", "preadv2", "io_setup", "io_submit", "io_getevents", "io_pgetevents",
                            "io_destroy", "readahead", "lseek", "fstat", "newfstatat", "statx", "fstatfs", "statfs",
                            "getdents64", "fcntl", "fadvise64", "uname", "prlimit64", "getrlimit"};

// The fleet-server process (main/fleet_server.hpp), all its threads: CAF's
// scheduler and middleman (epoll, accept on the socket published before
// the filter; OpenSSL opens the certificates, memfds under /proc/self/fd,
// at every connection), detached session threads (clone, nice 19) that
// read packet and index files like the query service. No socket(), no
// connect(), no writes to files.
const list fleet_server = {"exit_group", "tgkill", "rt_sigaction", "rt_sigtimedwait", "sched_getaffinity",
                           "setpriority", "prctl", "access", "faccessat", "faccessat2", "pipe", "sysinfo"};

void allow(scmp_filter_ctx ctx, list names) {
  for (const char* n : names) {
    const int nr = seccomp_syscall_resolve_name(n);
    if (nr == __NR_SCMP_ERROR)
      continue; // not a system call on this architecture
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
      throw std::runtime_error(std::string("seccomp: cannot allow ") + n);
  }
}

} // namespace

void install_seccomp(seccomp_role role, const std::string& mode, bool serves_http) {
  if (mode == "none")
    return;
  const std::uint32_t deny = mode == "kill" ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG;
  scmp_filter_ctx ctx = seccomp_init(deny);
  if (!ctx)
    throw std::runtime_error("seccomp: cannot create a filter");
  try {
    allow(ctx, common);
    switch (role) {
      case seccomp_role::reader: allow(ctx, reader); break;
      case seccomp_role::writer: allow(ctx, writer); break;
      case seccomp_role::indexer: allow(ctx, indexer); break;
      case seccomp_role::retention: allow(ctx, retention); break;
      case seccomp_role::query_service:
        allow(ctx, http);
        allow(ctx, query_service);
        break;
      case seccomp_role::fleet_server:
        allow(ctx, http);
        allow(ctx, query_service);
        allow(ctx, fleet_server);
        if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
          throw std::runtime_error("seccomp: cannot apply to all threads");
        break;
      case seccomp_role::process:
        allow(ctx, reader);
        allow(ctx, writer);
        allow(ctx, indexer);
        allow(ctx, retention);
        allow(ctx, process_only);
        if (serves_http) {
          allow(ctx, http);
          allow(ctx, query_service);
        }
        if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
          throw std::runtime_error("seccomp: cannot apply to all threads");
        break;
    }
    if (int rc = seccomp_load(ctx); rc != 0)
      throw std::runtime_error("seccomp: cannot install the filter (" + std::to_string(rc) + ")");
  } catch (...) {
    seccomp_release(ctx);
    throw;
  }
  seccomp_release(ctx);
}

} // namespace stenotype
