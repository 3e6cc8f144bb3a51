#include "main/parent_death.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>

namespace stenotype {

void stop_with_parent(pid_t parent_at_start) {
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
    throw std::runtime_error(std::string("cannot ask for a signal at the parent's exit: ") + std::strerror(errno));
  // Reparented already (to init or a subreaper): the signal will never come.
  if (::getppid() != parent_at_start)
    ::kill(::getpid(), SIGTERM);
}

} // namespace stenotype
