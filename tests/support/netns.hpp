// tests/support/netns.hpp -- a throwaway veth pair with one end in a network
// namespace of its own, and a sender of raw frames from inside it.
//
//   root namespace: capture_if  <==== veth ====>  send_if : namespace ns
//
// IPv6 is disabled on both ends and no addresses are set, so the kernel puts
// no traffic of its own on the link. Needs root; everything is removed in the
// destructor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/skip.hpp"

namespace stenotype::test {

using frame = std::vector<std::uint8_t>;

/// Whether this process may create namespaces and veth pairs (root).
bool have_net_admin();

/// In a Catch2 test case: skip it (reported to CTest) unless running as root.
#define REQUIRE_ROOT()                                                         \
  do {                                                                         \
    if (!::stenotype::test::have_net_admin())                                  \
      SKIP_TEST("needs root to create namespaces and veth pairs");             \
  } while (0)

class veth_lab {
public:
  veth_lab();
  ~veth_lab();
  veth_lab(const veth_lab&) = delete;
  veth_lab& operator=(const veth_lab&) = delete;

  const std::string& capture_if() const { return capture_if_; }
  const std::string& ns() const { return ns_; }

  /// Sends the frames, in order, from inside the namespace (a child process
  /// that joins it). `pause_us` after every `burst` frames keeps the veth's
  /// backlog from overflowing. Throws if any frame could not be sent.
  void send(const std::vector<frame>& frames, unsigned burst = 64, unsigned pause_us = 200) const;

private:
  std::string ns_, capture_if_, send_if_;
};

/// Test frames: Ethernet with the local experimental ethertype 0x88b5, a
/// magic, a sequence number and a payload derived from it; `size` >= 60.
frame make_test_frame(std::uint32_t seq, std::size_t size, std::uint32_t flow = 0);
/// The sequence number of a test frame, or -1 when it is not one.
long test_frame_seq(const std::uint8_t* data, std::size_t len);
/// tcpdump expression matching only test frames.
inline constexpr const char* test_frame_filter = "ether proto 0x88b5";

/// Runs `argv` to completion with a time limit; returns its exit status, or
/// -signal. stderr goes to `err` (if not null). Kills it on timeout and
/// returns -1000.
int run_process(const std::vector<std::string>& argv, int timeout_sec, std::string* err = nullptr);

/// Runs a shell command; returns its stdout, and its exit status in `status`.
std::string command_output(const std::string& cmd, int* status = nullptr);

/// A process started in the background (e.g. a capture to stop later).
class background_process {
public:
  explicit background_process(const std::vector<std::string>& argv);
  ~background_process();
  /// Sends `sig`, then waits up to timeout_sec; exit status, -signal, or -1000.
  int stop(int sig, int timeout_sec);
  int wait(int timeout_sec);
  std::string stderr_text() const;
  /// Waits up to `seconds` for `text` to appear on its stderr.
  bool wait_for_stderr(const std::string& text, int seconds) const;
  int pid() const { return pid_; }

private:
  int pid_ = -1;
  std::string err_path_;
  bool reaped_ = false;
  int status_ = 0;
};

} // namespace stenotype::test
