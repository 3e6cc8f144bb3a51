#include "main/fleet_server.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/seccomp_policy.hpp"
#include "actors/tls_files.hpp"
#include "fleet/server.hpp"
#include "main/parent_death.hpp"
#include "main/privileges.hpp"
#include "stenotype/log.hpp"

namespace stenotype {
namespace {

// A copy of the file in memory, as a descriptor the children inherit.
int memfd_copy(const std::string& path, const char* name) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in)
    throw std::runtime_error("--cert_path: cannot read " + path);
  const std::string bytes = text.str();
  const int fd = ::memfd_create(name, MFD_ALLOW_SEALING);
  if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    throw std::runtime_error(std::string("cannot keep the certificates in memory: ") + std::strerror(errno));
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  return fd;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

sigset_t supervisor_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD})
    sigaddset(&set, s);
  return set;
}

pid_t fork_server(const fleet::server_config& config, const std::string& seccomp) {
  const pid_t supervisor = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0)
    return pid;
  try {
    ::prctl(PR_SET_NAME, "steno-fleet", 0, 0, 0);
    stop_with_parent(supervisor);
    fleet::serve(config, [&] { install_seccomp(seccomp_role::fleet_server, seccomp); });
  } catch (const std::exception& e) {
    LOG_ERROR("fleet server: %s", e.what());
  }
  std::_Exit(1);
}

[[noreturn]] void supervise(const fleet::server_config& config, const fleet_server_flags& flags, const identity& who,
                            pid_t stenotype_pid) {
  try {
    ::prctl(PR_SET_NAME, "steno-fleet-sv", 0, 0, 0);
    drop_privileges(who);
    // Non-dumpable after the drop, /proc/self/fd would be root's: the
    // server could not open its own certificates' memfds.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    stop_with_parent(stenotype_pid);
  } catch (const std::exception& e) {
    LOG_ERROR("fleet server: %s", e.what());
    std::_Exit(1);
  }
  const sigset_t signals = supervisor_signals();
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  using clock = std::chrono::steady_clock;
  std::deque<clock::time_point> restarts;
  pid_t server = fork_server(config, flags.seccomp);
  for (;;) {
    const timespec tick{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
      if (server > 0) {
        ::kill(server, SIGTERM);
        for (int i = 0; i < 20 && ::waitpid(server, nullptr, WNOHANG) == 0; ++i)
          ::usleep(100000);
        ::kill(server, SIGKILL);
        ::waitpid(server, nullptr, 0);
      }
      std::_Exit(0);
    }
    int status = 0;
    if (server <= 0 || ::waitpid(server, &status, WNOHANG) != server)
      continue;
    const std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                : "exit status " + std::to_string(WEXITSTATUS(status));
    const auto now = clock::now();
    while (!restarts.empty() && now - restarts.front() > std::chrono::minutes(1))
      restarts.pop_front();
    if (restarts.size() >= 5) {
      LOG_ERROR("fleet server: ended (%s) for the 6th time within a minute; fleet queries are off", how.c_str());
      std::_Exit(1);
    }
    LOG_WARN("fleet server: ended (%s); restarting it in 1 s", how.c_str());
    ::sleep(1);
    restarts.push_back(now);
    server = fork_server(config, flags.seccomp);
  }
}

} // namespace

pid_t start_fleet_server(const fleet_server_flags& flags) {
  const tls_files files = find_tls_files(flags.cert_path);
  const identity who = resolve_identity(flags.uid, flags.gid);
  fleet::server_config config;
  config.host = flags.host;
  config.port = flags.port;
  config.dir = flags.dir;
  config.cert_origin = flags.cert_path;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  config.name = host;
  const int fds[3] = {memfd_copy(files.ca_cert, "ca_cert.pem"), memfd_copy(files.server_cert, "server_cert.pem"),
                      memfd_copy(files.server_key, "server_key.pem")};
  config.ca_cert = fd_path(fds[0]);
  config.cert = fd_path(fds[1]);
  config.key = fd_path(fds[2]);
  const pid_t stenotype_pid = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("cannot start the fleet server: fork: ") + std::strerror(errno));
  if (pid == 0)
    supervise(config, flags, who, stenotype_pid);
  for (int fd : fds) // the capture needs no copy of the key
    ::close(fd);
  return pid;
}

void stop_fleet_server(pid_t supervisor) {
  if (supervisor <= 0)
    return;
  ::kill(supervisor, SIGTERM);
  ::waitpid(supervisor, nullptr, 0);
}

} // namespace stenotype
