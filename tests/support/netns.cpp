#include "support/netns.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace stenotype::test {
namespace {

void sh(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("setup command failed: " + cmd);
}

std::atomic<int> lab_counter{0};

} // namespace

bool have_net_admin() { return geteuid() == 0; }

veth_lab::veth_lab() {
  const int n = lab_counter++;
  const std::string tag = std::to_string(getpid() % 100000) + "x" + std::to_string(n);
  ns_ = "stn" + tag;
  capture_if_ = "stc" + tag;
  send_if_ = "sts" + tag;
  sh("ip netns add " + ns_);
  try {
    sh("ip link add " + capture_if_ + " type veth peer name " + send_if_);
    sh("ip link set " + send_if_ + " netns " + ns_);
    sh("sysctl -w net.ipv6.conf." + capture_if_ + ".disable_ipv6=1");
    sh("ip netns exec " + ns_ + " sysctl -w net.ipv6.conf." + send_if_ + ".disable_ipv6=1");
    sh("ip link set " + capture_if_ + " up");
    sh("ip netns exec " + ns_ + " ip link set " + send_if_ + " up");
  } catch (...) {
    std::system(("ip link del " + capture_if_ + " >/dev/null 2>&1").c_str());
    std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
    throw;
  }
}

veth_lab::~veth_lab() {
  std::system(("ip link del " + capture_if_ + " >/dev/null 2>&1").c_str());
  std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
}

void veth_lab::send(const std::vector<frame>& frames, unsigned burst, unsigned pause_us) const {
  const pid_t child = fork();
  if (child < 0)
    throw std::runtime_error("fork failed");
  if (child == 0) {
    int nsfd = open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0)
      _exit(10);
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0)
      _exit(11);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_ifindex = static_cast<int>(if_nametoindex(send_if_.c_str()));
    addr.sll_halen = ETH_ALEN;
    if (addr.sll_ifindex == 0)
      _exit(12);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto& f = frames[i];
      for (;;) {
        ssize_t rc = sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        if (rc == static_cast<ssize_t>(f.size()))
          break;
        if (rc < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)) {
          usleep(100);
          continue;
        }
        _exit(13);
      }
      if (burst && (i + 1) % burst == 0)
        usleep(pause_us);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("sender failed with status " + std::to_string(status));
}

frame make_test_frame(std::uint32_t seq, std::size_t size, std::uint32_t flow) {
  frame f(std::max<std::size_t>(size, 60));
  const std::uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::uint8_t src[6] = {0x02, 0, 0, 0, 1, static_cast<std::uint8_t>(flow)};
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  const std::uint32_t magic = htonl(0x5354454e); // "STEN"
  const std::uint32_t nseq = htonl(seq);
  std::memcpy(f.data() + 14, &magic, 4);
  std::memcpy(f.data() + 18, &nseq, 4);
  for (std::size_t i = 22; i < f.size(); ++i)
    f[i] = static_cast<std::uint8_t>(seq * 31 + i * 13);
  return f;
}

long test_frame_seq(const std::uint8_t* d, std::size_t len) {
  if (len < 22 || d[12] != 0x88 || d[13] != 0xb5)
    return -1;
  std::uint32_t magic, seq;
  std::memcpy(&magic, d + 14, 4);
  std::memcpy(&seq, d + 18, 4);
  if (ntohl(magic) != 0x5354454e)
    return -1;
  return static_cast<long>(ntohl(seq));
}

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::string& err_path) {
  const pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = err_path.empty() ? open("/dev/null", O_WRONLY)
                              : open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
      dup2(fd, 2);
    int out = open("/dev/null", O_WRONLY);
    dup2(out, 1);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid, int timeout_sec, int& status, bool& reaped) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      reaped = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  reaped = true;
  return -1000;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

int run_process(const std::vector<std::string>& argv, int timeout_sec, std::string* err) {
  const std::string err_path = "/tmp/stenotype-test-stderr-" + std::to_string(getpid())
                               + "-" + std::to_string(lab_counter++);
  const pid_t pid = spawn(argv, err_path);
  int status = 0;
  bool reaped = false;
  int rc = wait_status(pid, timeout_sec, status, reaped);
  if (err)
    *err = read_all(err_path);
  unlink(err_path.c_str());
  return rc;
}

std::string command_output(const std::string& cmd, int* status) {
  std::string out;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    if (status)
      *status = -1;
    return out;
  }
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int rc = pclose(p);
  if (status)
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

background_process::background_process(const std::vector<std::string>& argv) {
  err_path_ = "/tmp/stenotype-test-bg-" + std::to_string(getpid()) + "-"
              + std::to_string(lab_counter++);
  pid_ = spawn(argv, err_path_);
}

background_process::~background_process() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  unlink(err_path_.c_str());
}

int background_process::wait(int timeout_sec) {
  if (reaped_)
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -WTERMSIG(status_);
  return wait_status(pid_, timeout_sec, status_, reaped_);
}

int background_process::stop(int sig, int timeout_sec) {
  if (!reaped_)
    kill(pid_, sig);
  return wait(timeout_sec);
}

std::string background_process::stderr_text() const { return read_all(err_path_); }

bool background_process::wait_for_stderr(const std::string& text, int seconds) const {
  for (int i = 0; i < seconds * 50; ++i) {
    if (stderr_text().find(text) != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

} // namespace stenotype::test
