#include "actors/thread_setup.hpp"

#include <cerrno>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ioprio.h>

#include "stenotype/log.hpp"

namespace stenotype {

void pin_current_thread(int cpu) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
    return;
  const int n = CPU_COUNT(&allowed);
  if (n <= 0)
    return;
  // The cpu-th allowed CPU, wrapping around.
  int want = cpu % n;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &allowed))
      continue;
    if (want-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(c, &one);
      if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
        LOG_WARN("cannot pin thread to CPU %d", c);
      return;
    }
  }
}

void set_current_thread_nice(int level) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, tid, level) != 0)
    LOG_WARN("cannot set nice level %d: %s", level, std::strerror(errno));
}

bool set_current_thread_idle_io_priority() {
  // who = 0 with IOPRIO_WHO_PROCESS is the calling thread, not the process.
  if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)) == 0)
    return true;
  LOG_WARN("cannot set idle I/O priority: %s", std::strerror(errno));
  return false;
}

void name_current_thread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

} // namespace stenotype
